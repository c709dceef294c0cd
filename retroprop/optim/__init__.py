"""Optimisers, learning-rate schedulers and gradient clipping, with PyTorch's rules and names.

A training step reads::

    optimizer.zero_grad()   # forget the previous batch's gradients
    loss.backward()         # dJ/dp into every p.grad
    optimizer.step()        # p.data updated in place by the optimiser's rule

>>> from retroprop import optim
>>> w = rp.tensor(np.array([3.0]), requires_grad=True)
>>> optimizer = optim.SGD([w], lr=0.25)
>>> for _ in range(3):
...     optimizer.zero_grad()
...     (w * w).sum().backward()    # J = w**2, dJ/dw = 2w: each step halves w
...     optimizer.step()
>>> w.data
array([0.375])
"""

# The optimisers register their names on import, in this order (the order of --help and of
# error messages): the SGD family first.
from retroprop.optim.sgd import SGD  # isort: skip
from retroprop.optim.rmsprop import RMSprop  # isort: skip
from retroprop.optim.adam import Adam  # isort: skip
from retroprop.optim.adamw import AdamW  # isort: skip
from retroprop.optim.adagrad import Adagrad  # isort: skip
from retroprop.optim import lr_scheduler
from retroprop.optim.clip import clip_grad_norm_, clip_grad_value_
from retroprop.optim.factory import get_optimizer
from retroprop.optim.optimizer import (
    OPTIMIZER_CLASSES,
    OPTIMIZERS,
    Optimizer,
    OptimizerSpec,
    register_optimizer,
)

__all__ = [
    "OPTIMIZERS",
    "OPTIMIZER_CLASSES",
    "OptimizerSpec",
    "register_optimizer",
    "SGD",
    "Adagrad",
    "Adam",
    "AdamW",
    "Optimizer",
    "RMSprop",
    "clip_grad_norm_",
    "clip_grad_value_",
    "get_optimizer",
    "lr_scheduler",
]
