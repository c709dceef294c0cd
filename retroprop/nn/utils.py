"""PyTorch's ``torch.nn.utils`` names for gradient clipping (defined in ``retroprop.optim.clip``).

>>> w = rp.tensor([0.0, 0.0], requires_grad=True)
>>> w.grad = rp.tensor([3.0, 4.0]).numpy()
>>> round(nn.utils.clip_grad_norm_([w], max_norm=1.0), 3)
5.0
"""

from retroprop.optim.clip import clip_grad_norm_, clip_grad_value_

__all__ = ["clip_grad_norm_", "clip_grad_value_"]
