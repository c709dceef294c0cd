"""Layers and models: ``Module``, ``Linear``, ``Sequential``, activations, initialisers.

>>> model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1), nn.Sigmoid())
>>> model(np.zeros((3, 2))).shape
(3, 1)
>>> model.summary(print_table=False).total_params
17
"""

from retroprop.nn import functional, init, utils
from retroprop.nn.activation import (
    ELU,
    GELU,
    Activation,
    Identity,
    LeakyReLU,
    LogSoftmax,
    Mish,
    ReLU,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Swish,
    Tanh,
    get_activation,
)
from retroprop.nn.batchnorm import BatchNorm1d
from retroprop.nn.config import Summary, module_from_config, module_to_config, register_module
from retroprop.nn.container import Sequential, mlp
from retroprop.nn.dropout import Dropout
from retroprop.nn.flatten import Flatten
from retroprop.nn.linear import Linear
from retroprop.nn.module import IncompatibleKeys, Module
from retroprop.nn.parameter import Parameter
from retroprop.nn.residual import Residual

__all__ = [
    "functional",
    "init",
    "utils",
    "Module",
    "Parameter",
    "Summary",
    "IncompatibleKeys",
    "Linear",
    "Sequential",
    "mlp",
    "Residual",
    "Flatten",
    "Dropout",
    "BatchNorm1d",
    "Activation",
    "Sigmoid",
    "Tanh",
    "ReLU",
    "LeakyReLU",
    "ELU",
    "GELU",
    "SiLU",
    "Swish",
    "Mish",
    "Softplus",
    "Softmax",
    "LogSoftmax",
    "Identity",
    "get_activation",
    "module_to_config",
    "module_from_config",
    "register_module",
]
