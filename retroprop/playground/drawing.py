"""Pictures of a :class:`~retroprop.playground.views.PlaygroundState`, in NumPy, PNG and SVG only.

Nothing here imports matplotlib: a heatmap is an RGB array written as a PNG by :func:`png`
(zlib and struct from the standard library); the points, the network, the loss curves and the
gradient-flow bars are SVG text drawn by :mod:`retroprop.display`. So a frame is drawn
in milliseconds and the playground redraws after every epoch. The colours are TensorFlow
Playground's: orange for negative values (and class 0), blue for positive ones (and class 1),
white at zero.
"""

from __future__ import annotations

import base64
import struct
import zlib
from collections.abc import Sequence

import numpy as np

from retroprop.display.svg import BLUE, ORANGE

__all__ = [
    "ORANGE",
    "BLUE",
    "CLASS_COLOURS",
    "png",
    "diverging",
    "class_shading",
    "data_uri",
    "hex_colour",
    "unshrinkable",
]

CLASS_COLOURS = [ORANGE, BLUE, (60, 160, 60), (200, 50, 120), (120, 80, 200), (90, 90, 90)]


def png(rgb: np.ndarray) -> bytes:
    """An RGB image (height, width, 3) of uint8 as PNG bytes, row 0 at the top.

    Examples
    --------
    >>> data = png(np.zeros((2, 3, 3), dtype=np.uint8))
    >>> data[:8] == b"\\x89PNG\\r\\n\\x1a\\n", len(data) < 100
    (True, True)
    """
    image = np.ascontiguousarray(rgb, dtype=np.uint8)
    height, width, _ = image.shape
    rows = np.concatenate([np.zeros((height, 1), np.uint8), image.reshape(height, -1)], axis=1)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows.tobytes(), 6))
        + chunk(b"IEND", b"")
    )


def data_uri(png_bytes: bytes) -> str:
    """``data:image/png;base64,...`` for an ``<image>`` or ``<img>``."""
    return "data:image/png;base64," + base64.b64encode(png_bytes).decode("ascii")


def diverging(values: np.ndarray) -> np.ndarray:
    """Values in [-1, 1] as RGB uint8: orange (-1), white (0), blue (1); row 0 of the result
    is the last row of ``values`` (the plane's y axis points up).

    Examples
    --------
    >>> diverging(np.array([[-1.0, 0.0, 1.0]]))[0].tolist()
    [[245, 147, 34], [255, 255, 255], [8, 119, 189]]
    """
    v = np.clip(np.nan_to_num(values, nan=0.0), -1.0, 1.0)[::-1, :, None]
    white = np.array([255.0, 255.0, 255.0])
    towards = np.where(v < 0, np.array(ORANGE, float), np.array(BLUE, float))
    return np.rint(white + np.abs(v) * (towards - white)).astype(np.uint8)


def class_shading(proba: np.ndarray) -> np.ndarray:
    """Class probabilities (R, R, k) as RGB uint8: P(class 1) on the diverging scale for two
    classes, each class's colour weighed by its probability (paler where unsure) for more."""
    k = proba.shape[-1]
    if k == 2:
        return diverging(2.0 * proba[..., 1] - 1.0)
    colours = np.array([CLASS_COLOURS[i % len(CLASS_COLOURS)] for i in range(k)], dtype=float)
    mixed = proba @ colours
    certainty = (proba.max(axis=-1, keepdims=True) - 1.0 / k) / (1.0 - 1.0 / k)
    pale = 255.0 + (0.25 + 0.6 * np.clip(certainty, 0, 1)) * (mixed - 255.0)
    return np.rint(pale[::-1]).astype(np.uint8)


def hex_colour(rgb: Sequence[int]) -> str:
    """``#rrggbb`` of an (r, g, b) colour.

    Examples
    --------
    >>> hex_colour(ORANGE)
    '#f59322'
    """
    red, green, blue = rgb
    return f"#{red:02x}{green:02x}{blue:02x}"


def unshrinkable(svg: str) -> str:
    """The SVG kept at its size in the playground's flex rows (``flex: none``)."""
    return svg.replace("<svg ", '<svg style="flex:none" ', 1)
