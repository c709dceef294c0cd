"""Which optional extra of retroprop provides a missing module, for a one-line error.

``pip install retroprop`` gives the library (NumPy only); the command line needs the ``cli``
extra (pandas, scikit-learn, matplotlib, safetensors, tqdm). A command started without them
says which extra to install, in one line, and exits with code 2.
"""

from __future__ import annotations

import sys

from retroprop.cli.errors import EXIT_USAGE

__all__ = ["EXTRA_OF_MODULE", "missing_extra"]

# top-level module -> the extra that installs it (pyproject.toml's optional-dependencies)
EXTRA_OF_MODULE = {
    "pandas": "cli",
    "sklearn": "cli",
    "matplotlib": "cli",
    "safetensors": "cli",
    "tqdm": "cli",
    "scipy": "cli",
    "pyarrow": "parquet",
    "dask": "dask",
    "distributed": "dask",
    "onnx": "onnx",
    "onnxruntime": "onnx",
}


def missing_extra(error: ModuleNotFoundError) -> int | None:
    """Print which extra provides ``error``'s module and return exit code 2; None when the
    module is not one an extra provides (a real bug: let it raise).

    Examples
    --------
    >>> import contextlib, io
    >>> stream = io.StringIO()
    >>> with contextlib.redirect_stderr(stream):
    ...     code = missing_extra(ModuleNotFoundError("No module named 'pandas'", name="pandas"))
    >>> text = stream.getvalue()
    >>> code, len(text.splitlines()), 'pip install "retroprop[cli]"' in text
    (2, 1, True)
    >>> missing_extra(ModuleNotFoundError("x", name="nothing_of_ours")) is None
    True
    """
    module = (error.name or "").split(".")[0]
    extra = EXTRA_OF_MODULE.get(module)
    if extra is None:
        return None
    print(
        f"retroprop: error: this command needs {module}, which comes with retroprop's "
        f'"{extra}" extra: pip install "retroprop[{extra}]"',
        file=sys.stderr,
    )
    return EXIT_USAGE
