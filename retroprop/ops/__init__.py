"""The built-in ops, each one small :class:`~retroprop.function.Function`, grouped by kind.

========================  ==============================================================
module                    ops
========================  ==============================================================
``elementwise``           add, sub, mul, div, neg, pow, exp, log, sqrt, abs, clip,
                          maximum, minimum, where, cast
``activation``            sigmoid, tanh, relu, leaky_relu, elu, gelu, silu, mish, softplus,
                          softmax, log_softmax
``loss``                  mse, pseudo-mse, binary cross-entropy (on probabilities and fused
                          with the sigmoid), cross-entropy fused with the softmax
``reduce``                sum, mean, max
``shape``                 reshape, transpose, indexing, concatenate, stack
``matmul``                matrix product
========================  ==============================================================

Boundary values (tested cell by cell in ``tests/test_boundary_values.py``, against PyTorch):

- Where the math has a value, or an IEEE limit (log(0) = -inf, 1/0 = inf, exp(1000) = inf,
  sqrt'(0) = inf), the op returns it without a NumPy warning, as PyTorch does. Where PyTorch
  defines a value at a kink or a removable singularity, retroprop takes it: relu'(0) = 0,
  abs'(0) = 0, clip passes the gradient at its bounds, d/dp 0 ** p = 0 for p >= 0,
  d/dx x ** 0 = 0, ties of max/min/maximum/minimum share the gradient evenly (``torch.amax``).
- Where the math has no value (0/0, inf - inf, 0 * inf, log or sqrt of a negative number, a
  softmax with an infinite logit) the result is NaN, as in PyTorch, and NumPy's invalid-value
  warning is left to say so.
- Where PyTorch computes inf * 0 = NaN but the limit exists (silu, mish and gelu at +-inf),
  retroprop returns the limit.
- The hot arithmetic (add, sub, mul, and the cross-entropy's max subtraction) does not pay for
  ``np.errstate``: a result beyond the dtype's range is +-inf with NumPy's overflow warning.
- float16 sums, means and counts accumulate in float32 and are cast back: the result keeps the
  input's dtype.
"""
