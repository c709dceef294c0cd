"""skl2onnx converters of the estimators (filled below)."""


def register_skl2onnx() -> None:
    """Register the estimators with skl2onnx."""
