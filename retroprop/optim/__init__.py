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

from retroprop.optim import lr_scheduler
from retroprop.optim.adagrad import Adagrad
from retroprop.optim.adam import Adam
from retroprop.optim.adamw import AdamW
from retroprop.optim.clip import clip_grad_norm_, clip_grad_value_
from retroprop.optim.factory import OPTIMIZERS, get_optimizer
from retroprop.optim.optimizer import Optimizer
from retroprop.optim.rmsprop import RMSprop
from retroprop.optim.sgd import SGD

__all__ = [
    "OPTIMIZERS",
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
