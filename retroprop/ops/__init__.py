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
"""
