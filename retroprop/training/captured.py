"""A captured training step: the graph's array calls replayed into buffers reused every batch.

For a ``Sequential`` of ``Linear`` layers and activations trained on ``cross_entropy``, every
batch builds the same graph: only the values change. :class:`CapturedStep` does the array work
of that graph directly, without building it: the forward products into reused buffers, the loss
by the loss op's own ``forward`` and ``backward``, then the course's backward pass layer by layer
(dJ/dW = a^T @ delta straight into ``W.grad``, dJ/db = the sum of delta over the batch,
delta @ W^T passed back through the activation's derivative). The optimiser updates the
weights from their ``.grad`` by its own rule, each layer's as soon as the backward is done with
them (:func:`fused_update`), so every optimiser, scheduler and callback works unchanged.

Each array call is the one the plain step makes (``MatMul``, ``Add``, ``ReLU``, the loss op and
the engine's sum of a broadcast gradient), in the same order, so the two paths give the same
bits for a seed (``tests/test_training_captured.py`` checks it). The plain path stays the
reference, for teaching and for everything that looks inside a step: the
:class:`~retroprop.training.Trainer` takes it for a batch where any module or parameter has a
hook (diagnostics, probes), and for models, losses or sample weights the capture does not know.

One exception to "the same bits": plain SGD (no momentum) when nothing reads ``.grad`` after
the step (no clipping, no callback whose ``reads_gradients`` is True). Its update
``W <- (1 - lr wd) W - lr a^T delta`` is then made by the weight-gradient product itself, one
BLAS gemm adding into W (:func:`sgd_in_product`): no gradient array is written, read back and
added, and on one core the step comes within a few percent of its matrix products alone. The
sums are the same, rounded in another order (close to the plain step, not bit-identical; the
same bits run to run for a seed), and ``.grad`` stays None, as after PyTorch's optimiser step
fused into the backward.

The ``.grad`` arrays the captured step writes are reused from batch to batch (as PyTorch's
``zero_grad(set_to_none=False)`` would keep them): read them during the batch, copy them to keep.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from retroprop._blas import blas_gemm, gemm_tn_at
from retroprop.nn.activation import ReLU, Sigmoid, Tanh
from retroprop.nn.container import Sequential
from retroprop.nn.functional import cross_entropy
from retroprop.nn.linear import Linear
from retroprop.ops import activation as activation_ops
from retroprop.ops.loss import CrossEntropy
from retroprop.optim.optimizer import Optimizer
from retroprop.optim.sgd import SGD
from retroprop.version_counter import bump_version

__all__ = ["CapturedStep", "fused_update", "sgd_in_product"]

# Activation modules whose forward is one Function on its input (ReLU is done in place).
_ACTIVATIONS: dict[type, type | None] = {
    ReLU: None,
    Tanh: activation_ops.Tanh,
    Sigmoid: activation_ops.Sigmoid,
}


class _Layer:
    """One Linear layer and the activation after it (None for the output layer)."""

    __slots__ = ("linear", "activation", "z", "delta", "mask", "ctx", "weight", "addresses")

    def __init__(self, linear: Linear, activation: Any) -> None:
        self.linear, self.activation = linear, activation
        self.z = self.delta = self.mask = self.ctx = None
        # The weight array whose address the BLAS call holds, and the addresses of z, delta.
        self.weight: np.ndarray | None = None
        self.addresses: tuple[int, int, int] = (0, 0, 0)


class CapturedStep:
    """Forward, loss and backward of one batch without a graph, into reused buffers.

    Build it with :meth:`capture`, which returns None for a model or a loss it does not know.

    Parameters
    ----------
    layers : list of _Layer
    modules : list of Module
        Every module of the model (their hooks send a batch down the plain path).
    parameters : list of Parameter
    batch_size : int
        The largest batch: the buffers' number of rows.
    """

    def __init__(
        self, layers: list[_Layer], modules: list[Any], parameters: list[Any], batch_size: int
    ) -> None:
        self.layers, self.modules, self.parameters = layers, modules, parameters
        dtype = layers[0].linear._parameters["weight"].data.dtype
        self.inputs = np.empty((batch_size, layers[0].linear.in_features), dtype=dtype)
        for layer in layers:
            width = layer.linear.out_features
            layer.z = np.empty((batch_size, width), dtype=dtype)
            layer.delta = np.empty((batch_size, width), dtype=dtype)
            if type(layer.activation) is ReLU:  # its derivative's mask, z > 0
                layer.mask = np.empty((batch_size, width), dtype=bool)
        # The loss's buffers: log-softmax, the row maxima then log-sum-exps, the row numbers
        # (the output layer's ``delta`` takes dJ/d(logits)).
        classes = layers[-1].linear.out_features
        self.log_probs = np.empty((batch_size, classes), dtype=dtype)
        self.row_values = np.empty((batch_size, 1), dtype=dtype)
        self.logits_t = np.empty((classes, batch_size), dtype=dtype)
        self.rows = np.arange(batch_size)
        # Each parameter's gradient array, made at its first use (SGD inside the product
        # writes no weight gradient: it never makes one).
        self.grads: dict[int, np.ndarray] = {}
        self.seed = np.ones((), dtype=dtype)  # dJ/dJ, as Tensor.backward starts
        self.gemm = blas_gemm(dtype)
        self.inputs_address = self.inputs.ctypes.data
        for layer in layers:
            layer.addresses = (0, layer.z.ctypes.data, layer.delta.ctypes.data)

    @classmethod
    def capture(
        cls, model: Any, objective: Any, parameters: list[Any], weights: Any, batch_size: int
    ) -> CapturedStep | None:
        """A CapturedStep for this run, or None when the plain step must be taken.

        Captured: a ``Sequential`` of ``Linear`` layers (all of one floating dtype), each
        followed by ReLU, Tanh or Sigmoid except the last; ``cross_entropy`` on integer labels
        without sample weights; every parameter trained, none shared.
        """
        if type(model) is not Sequential or objective.function is not cross_entropy:
            return None
        if weights is not None:
            return None
        modules = list(model._modules.values())
        layers: list[_Layer] = []
        for module in modules:
            if type(module) is Linear:
                layers.append(_Layer(module, None))
            elif type(module) in _ACTIVATIONS and layers and layers[-1].activation is None:
                layers[-1].activation = module
            else:
                return None
        if not layers or layers[-1].activation is not None:
            return None
        own = [p for layer in layers for p in layer.linear.parameters()]
        dtypes = {p.data.dtype for p in own}
        if len(dtypes) != 1 or {id(p) for p in own} != {id(p) for p in parameters}:
            return None
        if len(own) != len(parameters):  # a parameter shared by two layers
            return None
        return cls(layers, modules, parameters, batch_size)

    def ready(self) -> bool:
        """Whether this batch may be captured: no hook anywhere, same dtype as at capture."""
        for module in self.modules:
            if module._forward_hooks:
                return False
        dtype = self.inputs.dtype
        for param in self.parameters:
            if param._hooks or param._data.dtype != dtype:
                return False
        return True

    def gather(self, X: np.ndarray, rows: Any) -> np.ndarray:
        """The batch ``X[rows]``: a view for a slice, else gathered into the reused buffer."""
        if isinstance(rows, slice):
            return X[rows]
        out = self.inputs[: len(rows)]
        # mode="clip": the rows are valid, and NumPy buffers ``out`` with the default "raise".
        return X.take(rows, 0, out, "clip")

    def forward(self, x: np.ndarray) -> np.ndarray:
        """The logits of batch ``x``; each layer keeps what its backward needs."""
        n = x.shape[0]
        for layer in self.layers:
            linear = layer.linear
            z = np.matmul(x, linear._parameters["weight"]._data, out=layer.z[:n])  # MatMul
            bias = linear._parameters["bias"]
            if bias is not None:
                np.add(z, bias._data, out=z)  # Add
            activation = layer.activation
            if activation is None:
                x = z
            elif type(activation) is ReLU:
                x = np.maximum(z, 0, out=z)  # ReLU, in place: z is not needed again
            else:
                function = _ACTIVATIONS[type(activation)]
                layer.ctx = ctx = object.__new__(function)
                x = function.forward(ctx, z)
        return x

    def loss(self, logits: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
        """The mean cross-entropy and dJ/d(logits), into the loss's reused buffers.

        The array calls of :class:`~retroprop.ops.loss.CrossEntropy` (``forward`` then
        ``backward``, integer labels, no class weights, mean), in the same order, so the same
        bits: log-softmax z - max - log(sum(exp(z - max))), the loss -mean(log_probs[i, y_i]),
        the gradient (exp(log_probs) - onehot(y)) / n. Other targets and float16 (whose mean is
        summed in float32) take the op itself.
        """
        if target.dtype.kind not in "iu" or logits.dtype.char == "e":
            ctx = object.__new__(CrossEntropy)
            ctx.needs_input_grad = (True, False, False)
            value = CrossEntropy.forward(ctx, logits, target, None, reduction="mean")
            grad, _, _ = CrossEntropy.backward(ctx, self.seed)
            return float(value), grad
        n = logits.shape[0]
        rows, row_values = self.rows[:n], self.row_values[:n]
        # ufunc methods, not the ndarray methods that wrap them: the same reductions, less
        # Python per call (a small batch's loss is a dozen calls on a few hundred values).
        # The row maxima from the logits' transpose: NumPy's max along rows of a few classes
        # is several times slower than an elementwise maximum down a (classes, n) copy. A
        # maximum is exact, whatever the order.
        transposed = self.logits_t[:, :n]
        np.copyto(transposed, logits.T)
        maximum = row_values
        np.maximum.reduce(transposed, 0, None, row_values[:, 0])
        log_probs = np.subtract(logits, maximum, self.log_probs[:n])
        grad = np.exp(log_probs, out=self.layers[-1].delta[:n])  # exp(z - max), scratch here
        np.log(np.add.reduce(grad, 1, None, row_values, True), out=row_values)
        log_probs -= row_values
        picked = log_probs[rows, target]
        value = np.add.reduce(np.negative(picked, out=picked)) / n
        np.exp(log_probs, out=grad)  # softmax(z)
        grad[rows, target] -= 1
        grad *= self.seed / n
        return float(value), grad

    def backward(
        self,
        x: np.ndarray,
        grad: np.ndarray,
        update: Callable[[Any], None] | None = None,
        sgd: dict[int, dict[str, Any]] | None = None,
    ) -> None:
        """dJ/dW and dJ/db of every layer into their ``.grad``, from dJ/d(logits) ``grad``.

        With ``update`` (see :func:`fused_update`), each layer's parameters are updated as soon
        as the layer's backward no longer needs them, while they and their gradients are still
        in cache. With ``sgd`` as well (see :func:`sgd_in_product`), the SGD update is made
        inside the weight-gradient product itself, ``W <- (1 - lr wd) W - lr a^T delta`` by
        one BLAS gemm, and no ``.grad`` is written (a layer whose arrays BLAS may not be given
        as they are takes ``update``).
        """
        n = x.shape[0]
        grad_of = self._grad
        delta = grad
        for index in range(len(self.layers) - 1, -1, -1):
            layer = self.layers[index]
            linear = layer.linear
            weight, bias = linear._parameters["weight"], linear._parameters["bias"]
            below = self.layers[index - 1] if index else None
            inputs = x if below is None else below.z[:n]
            if below is not None and below.ctx is not None:
                inputs = below.ctx.saved_tensors[0]  # the activation's output
            # delta @ W^T is made before W changes.
            passed = (
                None if below is None else np.matmul(delta, weight._data.T, out=below.delta[:n])
            )
            scale = None if sgd is None else self._sgd_product(layer, below, inputs, delta, sgd)
            if scale is not None:
                if bias is not None:  # b <- beta b + alpha sum(delta): the sum is the engine's
                    group = sgd[id(bias)]
                    alpha, beta = scale if group is sgd[id(weight)] else _sgd_scale(group)
                    total = np.add.reduce(delta, 0, None, grad_of(bias))
                    data = bias._data
                    if beta != 1.0:
                        data *= beta
                    total *= alpha
                    data += total
                    bump_version(bias)
            else:
                if bias is not None:  # the engine's sum of a broadcast gradient
                    bias.grad = delta.sum(axis=(0,), out=grad_of(bias))
                weight.grad = np.matmul(inputs.T, delta, out=grad_of(weight))
                if update is not None:
                    update(weight)
                    if bias is not None:
                        update(bias)
            if below is None:
                break
            activation = below.activation
            if type(activation) is ReLU:
                mask = np.greater(inputs, 0, out=below.mask[:n])
                delta = np.multiply(passed, mask, out=passed)
            else:
                delta = type(below.ctx).backward(below.ctx, passed)
                below.ctx = None

    def _grad(self, param: Any) -> np.ndarray:
        """The reused array of ``param``'s gradient (made at the first call)."""
        found = self.grads.get(id(param))
        if found is None:
            found = self.grads[id(param)] = np.empty_like(param._data)
        return found

    def _sgd_product(
        self,
        layer: _Layer,
        below: _Layer | None,
        inputs: np.ndarray,
        delta: np.ndarray,
        sgd: dict[int, dict[str, Any]],
    ) -> tuple[float, float] | None:
        """W <- beta W + alpha inputs^T delta by one gemm (alpha = -/+ lr, beta = 1 - lr wd);
        returns (alpha, beta), or None (nothing done) when the arrays are not ones BLAS may be
        given as they are."""
        weight = layer.linear._parameters["weight"]
        data = weight._data
        if not data.flags.writeable:  # each batch: a callback may have made it read-only
            return None
        if data is not layer.weight:  # first use, or the array was replaced
            if not data.flags.c_contiguous or self.gemm is None:
                return None
            layer.weight = data
            layer.addresses = (data.ctypes.data, *layer.addresses[1:])
        if inputs.dtype != data.dtype or delta.dtype != data.dtype:  # BLAS reads raw memory
            return None
        weight_address, _, delta_address = layer.addresses
        if delta.base is not layer.delta:  # the loss op's own array (float16, soft targets)
            if not delta.flags.c_contiguous:
                return None
            delta_address = delta.ctypes.data
        if below is not None and below.ctx is None:
            inputs_address = below.addresses[1]  # z, made the activation in place
        elif inputs.base is self.inputs:
            inputs_address = self.inputs_address
        elif inputs.flags.c_contiguous:
            inputs_address = inputs.ctypes.data
        else:
            return None
        scale = alpha, beta = _sgd_scale(sgd[id(weight)])
        n, (k, m) = delta.shape[0], data.shape
        gemm_tn_at(self.gemm, n, k, m, alpha, inputs_address, delta_address, beta, weight_address)
        bump_version(weight)  # as the data setter does: graphs that saved W see the change
        return scale


def fused_update(optimizer: Any, parameters: list[Any]) -> Callable[[Any], None] | None:
    """The optimiser's update of one parameter, to run inside the captured backward, or None.

    ``optimizer.step()`` updates every parameter by the same rule, each from its own gradient
    and state alone, so updating each as soon as its gradient is made gives the same bits
    (PyTorch's "optimizer step fused into the backward pass"). None (update after the backward,
    as usual) when the optimiser has its own ``step``, or does not update exactly
    ``parameters``.
    """
    if not isinstance(optimizer, Optimizer) or type(optimizer).step is not Optimizer.step:
        return None
    groups = groups_by_parameter(optimizer, parameters)
    if groups is None:
        return None
    state, rule = optimizer.state, optimizer._update

    def update(param: Any) -> None:
        rule(param, state[param], groups[id(param)])

    return update


def sgd_in_product(optimizer: Any, parameters: list[Any]) -> dict[int, dict[str, Any]] | None:
    """The parameter groups of a plain SGD, by parameter id, or None.

    Plain SGD (no momentum) updates ``W <- W - lr (a^T delta + wd W)``: the weight-gradient
    product itself can add into W (BLAS gemm with beta = 1 - lr wd), so the gradient is
    never written nor read back. For an ``SGD`` (not a subclass) without momentum that
    updates exactly ``parameters``; the groups' ``lr`` and ``weight_decay`` are read at every
    batch (a scheduler's changes are seen).
    """
    if type(optimizer) is not SGD:
        return None
    if any(float(group["momentum"]) != 0 for group in optimizer.param_groups):
        return None
    return groups_by_parameter(optimizer, parameters)


def groups_by_parameter(optimizer: Any, parameters: list[Any]) -> dict[int, dict[str, Any]] | None:
    """The optimiser's parameter group of each of ``parameters``, by id; None unless the
    optimiser updates exactly these parameters (each once)."""
    groups = {id(p): group for group in optimizer.param_groups for p in group["params"]}
    if len(groups) != len(parameters) or any(id(p) not in groups for p in parameters):
        return None
    return groups


def _sgd_scale(group: dict[str, Any]) -> tuple[float, float]:
    """(alpha, beta) of plain SGD's ``p <- beta p + alpha grad`` for a parameter group:
    alpha = -lr (+lr when maximising), beta = 1 - lr * weight_decay (PyTorch's rule)."""
    lr = float(group["lr"])
    return (lr if group["maximize"] else -lr), 1.0 - lr * float(group["weight_decay"])
