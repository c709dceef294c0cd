"""The backward pass: the chain rule applied node by node, from the loss back to the leaves.

``Tensor.backward()`` calls :func:`run_backward`, which

1. orders the graph's nodes so that every node comes after all the nodes that use it
   (a depth-first search written with an explicit stack: any depth works);
2. walks that order from the loss: each node's ``grad_fn.backward`` turns dJ/d(output) into one
   dJ/d(input) per input, which is summed back to the input's shape if it was broadcast and
   added to what the input's other uses contributed (the course's sum over k);
3. before a node's backward, checks that none of the values it saved was changed in place
   since the forward pass (:mod:`retroprop.version_counter`), and raises if one was;
4. stores the total in ``.grad`` for the leaves (accumulating, as PyTorch does) and for tensors
   that asked to ``retain_grad()``, and frees each node's saved arrays unless ``retain_graph``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from retroprop.version_counter import CHANGES, check_saved_versions

if TYPE_CHECKING:
    from retroprop.function import Function
    from retroprop.tensor import Tensor

__all__ = ["run_backward"]


def _unbroadcast(grad: np.ndarray, shape: tuple[int, ...], grad_fn: Function) -> np.ndarray:
    """Sum ``grad`` back to ``shape``: the gradient of a broadcast operand (one ``sum``)."""
    extra = grad.ndim - len(shape)
    if extra < 0 or any(n != 1 and n != m for n, m in zip(shape, grad.shape[extra:], strict=True)):
        raise RuntimeError(
            f"{grad_fn.name}.backward returned a gradient of shape {grad.shape} for an input of "
            f"shape {shape}: it must have the input's shape (or broadcast to it in forward)"
        )
    axes = tuple(range(extra)) + tuple(
        extra + i for i, n in enumerate(shape) if n == 1 and grad.shape[extra + i] != 1
    )
    if axes:
        grad = grad.sum(axis=axes)
    return grad.reshape(shape)


def _topological_order(root: Tensor) -> list[Tensor]:
    """Tensors that require grad and lead to ``root``, inputs before outputs.

    An iterative depth-first search (no recursion limit). A node is marked when it is expanded,
    not when it is pushed, so a value reached by a short path and a long one still comes after
    every node that uses it: its gradient is complete before it is passed on.
    """
    order: list[Tensor] = []
    expanded: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            order.append(node)
            continue
        if id(node) in expanded:
            continue
        expanded.add(id(node))
        stack.append((node, True))
        grad_fn = node.grad_fn
        if grad_fn is None:
            continue
        if grad_fn._saved is None:
            from retroprop.function import _freed_message

            raise RuntimeError(_freed_message(grad_fn))
        for parent, needs in zip(grad_fn.parents, grad_fn.needs_input_grad, strict=True):
            if needs and id(parent) not in expanded:
                stack.append((parent, False))
    return order


def _owned(grad: np.ndarray, taken: set[int]) -> np.ndarray:
    """A gradient safe to store in ``.grad``: writable, not a view, not stored elsewhere."""
    if type(grad) is not np.ndarray and isinstance(grad, np.generic):
        grad = np.asarray(grad)  # NumPy turns 0-d sums into scalars
    elif grad.base is not None or not grad.flags.writeable or id(grad) in taken:
        grad = grad.copy()
    taken.add(id(grad))
    return grad


def run_backward(root: Tensor, seed: np.ndarray, retain_graph: bool) -> None:
    order = _topological_order(root)
    pending: dict[Tensor, np.ndarray] = {root: seed}
    taken: set[int] = {id(seed)}
    for node in reversed(order):
        grad = pending.pop(node, None)
        if grad is None:
            continue
        if node._hooks:
            for hook in node._hooks:
                replaced = hook(grad)
                if replaced is not None:
                    grad = replaced
        grad_fn = node.grad_fn
        if grad_fn is None or node._retains_grad:
            if node.grad is None:
                node.grad = _owned(grad, taken)
            elif node.grad.flags.writeable:
                node.grad += grad
            else:
                node.grad = np.asarray(node.grad + grad)
        if grad_fn is None:
            continue
        if grad_fn._changes != CHANGES[0] and grad_fn._saved and grad_fn._changes is not None:
            check_saved_versions(grad_fn, node)  # something changed in place since forward
        input_grads = grad_fn.backward(grad_fn, grad)
        if type(input_grads) is not tuple:
            input_grads = (input_grads,)
        if len(input_grads) != len(grad_fn.parents):
            raise RuntimeError(
                f"{grad_fn.name}.backward returned {len(input_grads)} gradient(s) for "
                f"{len(grad_fn.parents)} input(s): return one per input of forward, None for "
                "an input that needs none"
            )
        for parent, needs, input_grad in zip(
            grad_fn.parents, grad_fn.needs_input_grad, input_grads, strict=True
        ):
            if not needs or input_grad is None:
                continue
            if type(input_grad) is not np.ndarray and isinstance(input_grad, np.generic):
                input_grad = np.asarray(input_grad)  # NumPy turns 0-d results into scalars
            parent_data = parent._data
            if input_grad.shape != parent_data.shape:
                input_grad = _unbroadcast(input_grad, parent_data.shape, grad_fn)
            if input_grad.dtype != parent_data.dtype:
                input_grad = input_grad.astype(parent_data.dtype)
            previous = pending.get(parent)
            pending[parent] = input_grad if previous is None else previous + input_grad
        if not retain_graph:
            grad_fn._release()
