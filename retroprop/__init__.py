"""retroprop: neural networks trained by backpropagation, from scratch on NumPy.

>>> x = rp.tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> loss = (x * x).sum()
>>> loss.backward()
>>> x.grad
array([2., 4., 6.], dtype=float32)
"""

# The tensor module first: it pulls in Function and the ops in the order they build on.
from retroprop.tensor import Tensor, tensor  # isort: skip
from retroprop.function import Function, ShapeError
from retroprop.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from retroprop.gradcheck import GradcheckError, gradcheck
from retroprop.random import manual_seed
from retroprop.routines import concatenate, maximum, minimum, stack, where

# Layers 3 to 5 and the model files: NumPy-only imports (safetensors is imported on save/load).
from retroprop import callbacks, nn, optim  # isort: skip
from retroprop.io import load, save  # isort: skip
from retroprop.training import DivergenceError, History, fit  # isort: skip
from retroprop import diagnostics  # isort: skip
from retroprop.diagnostics import diagnose, explain, gradcheck_model, to_dot  # isort: skip

__version__ = "0.1.0"


_LAZY_SUBPACKAGES = ("playground", "onnx")


def __getattr__(name: str) -> object:
    """``rp.playground`` and ``rp.onnx``, imported on first use (each needs its extra)."""
    if name in _LAZY_SUBPACKAGES:  # rp.playground is itself callable: rp.playground(...)
        import importlib

        return importlib.import_module(f"retroprop.{name}")
    raise AttributeError(f"module 'retroprop' has no attribute {name!r}")


__all__ = [
    "DivergenceError",
    "History",
    "callbacks",
    "diagnose",
    "diagnostics",
    "explain",
    "gradcheck_model",
    "to_dot",
    "fit",
    "load",
    "nn",
    "optim",
    "playground",
    "save",
    "Function",
    "GradcheckError",
    "ShapeError",
    "Tensor",
    "concatenate",
    "enable_grad",
    "gradcheck",
    "is_grad_enabled",
    "manual_seed",
    "maximum",
    "minimum",
    "no_grad",
    "set_grad_enabled",
    "stack",
    "tensor",
    "where",
]
