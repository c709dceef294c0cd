"""Version counters: a value saved by the forward pass must not change before backward uses it.

An op saves references to arrays, not copies (``ctx.save_for_backward``). If one of them is
changed in place in between (an ``optimizer.step()`` between two ``backward()`` calls through
a retained graph, a ``load_state_dict``, an ``nn.init`` function, ``p.data -= ...``), the
backward pass would silently use the new values. So, as in PyTorch:

- every in-place change retroprop makes or offers goes through :func:`bump_version`, which
  counts it in the tensor's ``_version`` and stamps the tensor with a global count of changes;
- an op records that global count when its forward pass runs (``Function.apply``);
- before a node's backward, the walk compares the count: unchanged (the usual case: one int
  comparison per node) means nothing changed; otherwise :func:`check_saved_versions` looks for
  an input (or the output) changed since, and raises if the node saved its values.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from retroprop.function import Function

__all__ = ["CHANGES", "bump_version", "check_saved_versions"]

CHANGES = [0]  # in-place changes counted so far, all tensors together (a list: mutable)


def bump_version(tensor: Any) -> None:
    """Count an in-place change of ``tensor``'s values (its ``_version`` and change stamp).

    Examples
    --------
    >>> w = rp.tensor([1.0, 2.0], requires_grad=True)
    >>> bump_version(w)
    >>> w._version
    1
    """
    tensor._version += 1
    CHANGES[0] += 1
    tensor._changed_at = CHANGES[0]


def check_saved_versions(node: Function, output: Any) -> None:
    """Raise if a value ``node`` saved was changed in place after its forward pass.

    ``output`` is the tensor ``node`` produced. The backward walk calls this before
    ``node.backward`` only when some tensor changed in place since the forward pass.

    Raises
    ------
    RuntimeError
        Naming the op, which input (or the output), its shape, dtype and version, as PyTorch's
        "one of the variables needed for gradient computation has been modified by an inplace
        operation".
    """
    since = node._changes or 0
    for position, parent in enumerate(node.parents):
        if getattr(parent, "_changed_at", 0) > since:
            _refuse_if_saved(node, parent, f"input {position}")
    if getattr(output, "_changed_at", 0) > since:
        _refuse_if_saved(node, output, "output")


def _refuse_if_saved(node: Function, tensor: Any, role: str) -> None:
    array = tensor._data
    for saved in node._saved or ():
        same = saved is array or (
            isinstance(saved, np.ndarray)
            and isinstance(array, np.ndarray)
            and np.shares_memory(saved, array)
        )
        if same:
            raise RuntimeError(
                "one of the values needed for gradient computation has been modified by an "
                f"in-place operation: {role} of {node.name} ({type(tensor).__name__} of shape "
                f"{tuple(array.shape)}, {array.dtype}) was changed after the forward pass saved "
                f"it, and is now at version {tensor._version} (by optimizer.step(), "
                "load_state_dict(), an nn.init function or an assignment to .data). Call "
                "backward() before changing it, or run the forward pass again."
            )
