"""``BatchNorm1d``: normalise each feature over the batch, with PyTorch's semantics."""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from retroprop.backend import is_floating
from retroprop.function import ShapeError
from retroprop.nn.config import register_module
from retroprop.nn.module import Module
from retroprop.nn.parameter import Parameter
from retroprop.ops.normalization import BatchNorm
from retroprop.tensor import Tensor

__all__ = ["BatchNorm1d"]


@register_module
class BatchNorm1d(Module):
    """y = gamma * (x - mu) / sqrt(var + eps) + beta, per feature, over a batch (N, C) or (N, C, L).

    In training mode mu and var are the batch's mean and biased variance, and the running
    statistics are updated with the *unbiased* variance (PyTorch's rule)::

        running_mean = (1 - momentum) * running_mean + momentum * mu
        running_var  = (1 - momentum) * running_var  + momentum * var * n / (n - 1)

    (``momentum=None``: a cumulative average, momentum = 1 / num_batches_tracked). In
    evaluation mode the running statistics are used, so a single example can be predicted.

    Parameters
    ----------
    num_features : int
        C, the number of features (the width of the previous layer).
    eps : float, default 1e-5
        Added to the variance for numerical stability.
    momentum : float or None, default 0.1
        Weight of the new batch in the running statistics.
    affine : bool, default True
        Learn gamma (``weight``, starts at 1) and beta (``bias``, starts at 0).
    track_running_stats : bool, default True
        False: no running statistics; batch statistics are used in both modes.
    dtype : dtype, default float32

    Attributes
    ----------
    weight, bias : Parameter or None
        gamma and beta, shape (C,).
    running_mean, running_var : numpy.ndarray
        Buffers of shape (C,), saved by ``state_dict()``.
    num_batches_tracked : numpy.ndarray
        0-d int64 buffer counting the training batches seen.

    Examples
    --------
    >>> bn = nn.BatchNorm1d(2)
    >>> y = bn(rp.tensor([[1.0, 10.0], [3.0, 30.0]]))
    >>> np.round(y.data, 3)
    array([[-1., -1.],
           [ 1.,  1.]], dtype=float32)
    >>> bn.running_mean, bn.running_var   # 0.9 * 0 + 0.1 * mean,  0.9 * 1 + 0.1 * var * 2 / 1
    (array([0.2, 2. ], dtype=float32), array([ 1.1, 20.9], dtype=float32))
    """

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        dtype: npt.DTypeLike = np.float32,
    ) -> None:
        super().__init__()
        if isinstance(num_features, bool) or not isinstance(num_features, numbers.Integral):
            raise TypeError(f"BatchNorm1d: num_features must be an int, got {num_features!r}")
        if num_features < 1:
            raise ValueError(f"BatchNorm1d: num_features must be at least 1, got {num_features}")
        if not eps > 0:
            raise ValueError(f"BatchNorm1d: eps must be > 0, got {eps}")
        if momentum is not None and not 0.0 <= momentum <= 1.0:
            raise ValueError(f"BatchNorm1d: momentum must be in [0, 1] or None, got {momentum}")
        dtype = np.dtype(dtype)
        if not is_floating(dtype):
            raise TypeError(f"BatchNorm1d: dtype must be a floating type, got {dtype}")
        self.num_features = int(num_features)
        self.eps = float(eps)
        self.momentum = None if momentum is None else float(momentum)
        self.affine = bool(affine)
        self.track_running_stats = bool(track_running_stats)
        if self.affine:
            self.weight = Parameter(np.ones(self.num_features, dtype=dtype))
            self.bias = Parameter(np.zeros(self.num_features, dtype=dtype))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if self.track_running_stats:
            self.register_buffer("running_mean", np.zeros(self.num_features, dtype=dtype))
            self.register_buffer("running_var", np.ones(self.num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", np.zeros((), dtype=np.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self._dtype = dtype

    def forward(self, x: Any) -> Tensor:
        if not isinstance(x, Tensor):
            x = Tensor(np.asarray(x, dtype=self._dtype))
        data = x.data
        if data.ndim not in (2, 3) or data.shape[1] != self.num_features:
            raise ShapeError(
                f"{self._summary_label()} expects input of shape (N, {self.num_features}) or "
                f"(N, {self.num_features}, L), got {data.shape}"
            )
        if data.dtype != self._dtype:
            raise TypeError(
                f"{self._summary_label()} holds {self._dtype} parameters but got a {data.dtype} "
                f"input; convert it with x.astype(np.{self._dtype})"
            )
        use_batch = self.training or not self.track_running_stats
        if use_batch:
            axes = (0,) + tuple(range(2, data.ndim))
            count = data.size // self.num_features
            if count < 2:
                raise ValueError(
                    f"{self._summary_label()} needs more than 1 value per feature to compute batch "
                    f"statistics in training mode, got input of shape {data.shape}; use a batch "
                    "of at least 2 examples, or call model.eval() to use the running statistics"
                )
            mean = data.mean(axis=axes)
            var = data.var(axis=axes)
            if self.training and self.track_running_stats:
                self._update_running_stats(mean, var, count)
        else:
            mean, var = self.running_mean, self.running_var
        return BatchNorm.apply(
            x, self.weight, self.bias, mean=mean, var=var, eps=self.eps, batch_stats=use_batch
        )

    def _update_running_stats(self, mean: np.ndarray, var: np.ndarray, count: int) -> None:
        self.num_batches_tracked += 1  # in place: the 0-d buffer array is kept
        factor = self.momentum
        if factor is None:
            factor = 1.0 / float(self.num_batches_tracked)
        running_mean, running_var = self.running_mean, self.running_var
        running_mean *= 1.0 - factor
        running_mean += factor * mean
        running_var *= 1.0 - factor
        running_var += (factor * count / (count - 1)) * var

    def reset_running_stats(self) -> None:
        """Set the running mean to 0, the running variance to 1 and the batch count to 0."""
        if self.track_running_stats:
            self.running_mean[...] = 0
            self.running_var[...] = 1
            self.num_batches_tracked[...] = 0

    # ---------------------------------------------------------------- description
    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        return {
            "num_features": self.num_features,
            "eps": self.eps,
            "momentum": self.momentum,
            "affine": self.affine,
            "track_running_stats": self.track_running_stats,
            "dtype": str(self._dtype),
        }

    @classmethod
    def config_shapes(cls, config: Any, width: Callable[[str], int]) -> dict[str, tuple[int, ...]]:
        """weight and bias (num_features,) when affine; the running statistics when tracked."""
        n = width("num_features")
        shapes: dict[str, tuple[int, ...]] = {}
        if config.get("affine", True):
            shapes |= {"weight": (n,), "bias": (n,)}
        if config.get("track_running_stats", True):
            shapes |= {"running_mean": (n,), "running_var": (n,), "num_batches_tracked": ()}
        return shapes

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}"
        )

    def _summary_label(self) -> str:
        return f"BatchNorm1d({self.num_features})"

    def _output_width(self, width: int | None) -> int | None:
        return self.num_features if width is None else width
