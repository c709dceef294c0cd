"""Gradient clipping, as ``retroprop.optim.clip_grad_norm_`` and ``clip_grad_value_``.

Defined in :mod:`retroprop.nn.utils` (PyTorch's ``torch.nn.utils``): the optimisers sit above
the modules, so the modules import nothing from here.
"""

from retroprop.nn.utils import clip_grad_norm_, clip_grad_value_

__all__ = ["clip_grad_norm_", "clip_grad_value_"]
