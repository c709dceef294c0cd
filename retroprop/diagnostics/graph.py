"""The computational graph behind a tensor, as Graphviz DOT text, and its rendering.

Every tensor made by an op remembers that op (``grad_fn``), and the op remembers its inputs
(``grad_fn.parents``): that chain *is* the graph ``backward()`` walks. ``to_dot`` draws it, inputs
at the top and the result at the bottom:

- an op is a box labelled with its name and its output's shape ("MatMul (4, 3)");
- a parameter (a leaf that requires grad, such as an ``nn.Parameter``) is a filled blue box,
  named when ``params=dict(model.named_parameters())`` is given ("0.weight (2, 4)");
- an input or constant tensor is a grey ellipse ("input (4, 2)"), a Python number a small
  grey ellipse holding its value.

The traversal is iterative: a graph thousands of ops deep is drawn without recursion.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from typing import Any

import numpy as np

from retroprop.tensor import Tensor

__all__ = ["to_dot", "render", "DotGraph", "dot_to_svg"]

_PARAMETER_STYLE = 'shape=box, style="filled,rounded", fillcolor="#a6cee3"'
_INPUT_STYLE = 'shape=ellipse, style=filled, fillcolor="#e0e0e0"'
_OP_STYLE = "shape=box"
_ROOT_STYLE = 'shape=box, style=filled, fillcolor="#b2df8a", peripheries=2'


def _quote(text: str) -> str:
    """A DOT string literal; newlines become DOT's ``\\n``."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _shape(shape: tuple[int, ...]) -> str:
    return "scalar" if shape == () else str(tuple(int(n) for n in shape))


class DotGraph(str):
    """DOT text that Jupyter draws: as SVG where Graphviz's ``dot`` program is installed, as
    its DOT source otherwise.

    It *is* the DOT text (a ``str``): print it, save it, compare it, or pass it to
    :func:`render`. In a notebook, IPython asks :meth:`_repr_mimebundle_` for the picture.
    """

    @property
    def source(self) -> str:
        """The DOT text as a plain ``str``."""
        return str.__str__(self)

    def svg(self) -> str | None:
        """The graph drawn by Graphviz as SVG text, or None when ``dot`` is not installed."""
        return dot_to_svg(self.source)

    def _repr_svg_(self) -> str | None:
        return self.svg()

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        # IPython's plain text: the DOT source as lines, not the quoted repr of a str
        printer.text(self.source)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        bundle = {"text/plain": self.source}
        picture = self.svg()
        if picture is not None:
            bundle["image/svg+xml"] = picture
        return bundle

    def render(self, path: str | os.PathLike[str], format: str | None = None) -> str:  # noqa: A002
        """Draw the graph into an image file (see :func:`render`); returns the path."""
        return render(self.source, path, format)


def dot_to_svg(dot_text: str) -> str | None:
    """``dot_text`` drawn as SVG by Graphviz's ``dot`` program (None when it is not on PATH).

    Raises
    ------
    RuntimeError
        When ``dot`` fails (its message included).
    """
    executable = shutil.which("dot")
    if executable is None:
        return None
    completed = subprocess.run(
        [executable, "-Tsvg"], input=dot_text.encode(), capture_output=True, check=False
    )
    if completed.returncode != 0:
        raise RuntimeError(
            f"dot failed with exit code {completed.returncode}: "
            f"{completed.stderr.decode(errors='replace').strip()}"
        )
    return completed.stdout.decode()


def to_dot(
    tensor: Tensor,
    params: Mapping[str, Tensor] | None = None,
    name: str = "retroprop",
) -> DotGraph:
    """The graph that computed ``tensor``, as Graphviz DOT text.

    Parameters
    ----------
    tensor : Tensor
        Usually a loss; any tensor made by ops.
    params : mapping of str to Tensor, optional
        Names for leaf tensors, e.g. ``dict(model.named_parameters())``.
    name : str, default "retroprop"
        The graph's name in the DOT text.

    Returns
    -------
    DotGraph
        The ``digraph`` text (a ``str``), drawn as SVG in Jupyter when Graphviz is installed;
        write it to an image with ``.render(path)``
        (:func:`retroprop.diagnostics.render`) or open it in any Graphviz tool. An argument
        an op was given as None (a loss without sample weights) is not drawn.

    Raises
    ------
    TypeError
        When ``tensor`` is not a Tensor.

    Examples
    --------
    >>> layer = nn.Linear(2, 1)
    >>> loss = layer(np.ones((3, 2), dtype=np.float32)).sum()
    >>> print(to_dot(loss, params=dict(layer.named_parameters())))
    digraph retroprop {
      rankdir=TB;
      node [fontname="Helvetica", fontsize=10];
      n0 [label="Sum\\nscalar", shape=box, style=filled, fillcolor="#b2df8a", peripheries=2];
      n1 [label="Add\\n(3, 1)", shape=box];
      n2 [label="MatMul\\n(3, 1)", shape=box];
      n3 [label="bias\\n(1,)", shape=box, style="filled,rounded", fillcolor="#a6cee3"];
      n4 [label="input\\n(3, 2)", shape=ellipse, style=filled, fillcolor="#e0e0e0"];
      n5 [label="weight\\n(2, 1)", shape=box, style="filled,rounded", fillcolor="#a6cee3"];
      n1 -> n0;
      n2 -> n1;
      n3 -> n1;
      n4 -> n2;
      n5 -> n2;
    }
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"to_dot: expected a Tensor, got {type(tensor).__name__}")
    names = {id(value): key for key, value in (params or {}).items()}
    ids: dict[tuple, str] = {}
    nodes: list[str] = []
    edges: list[str] = []

    def node_for(key: tuple, label: str, style: str) -> tuple[str, bool]:
        """The node id of ``key``, and whether it is new."""
        if key in ids:
            return ids[key], False
        node = f"n{len(ids)}"
        ids[key] = node
        nodes.append(f"  {node} [label={_quote(label)}, {style}];")
        return node, True

    def tensor_node(value: Tensor, root: bool = False) -> tuple[str, bool]:
        grad_fn = value.grad_fn
        if grad_fn is not None:
            style = _ROOT_STYLE if root else _OP_STYLE
            return node_for(("op", id(grad_fn)), f"{grad_fn.name}\n{_shape(value.shape)}", style)
        if value.requires_grad:
            label = names.get(id(value), "parameter")
            return node_for(
                ("leaf", id(value)), f"{label}\n{_shape(value.shape)}", _PARAMETER_STYLE
            )
        label = names.get(id(value), "input" if value.ndim else "constant")
        style = _ROOT_STYLE if root else _INPUT_STYLE
        return node_for(("leaf", id(value)), f"{label}\n{_shape(value.shape)}", style)

    root, _ = tensor_node(tensor, root=True)
    stack: list[tuple[Tensor, str]] = [(tensor, root)]
    while stack:
        value, node = stack.pop()
        grad_fn = value.grad_fn
        if grad_fn is None:
            continue
        for position, parent in enumerate(getattr(grad_fn, "parents", ())):
            if parent is None:  # an optional argument left out (a loss's weight=None)
                continue
            if isinstance(parent, Tensor):
                parent_node, new = tensor_node(parent)
                if new:
                    stack.append((parent, parent_node))
            else:
                parent_node, _ = node_for(
                    ("constant", id(grad_fn), position), _constant_label(parent), _INPUT_STYLE
                )
            edges.append(f"  {parent_node} -> {node};")
    lines = [
        f"digraph {_quote(name) if not name.isidentifier() else name} {{",
        "  rankdir=TB;",
        '  node [fontname="Helvetica", fontsize=10];',
        *nodes,
        *edges,
        "}",
    ]
    return DotGraph("\n".join(lines))


def _constant_label(value: Any) -> str:
    if isinstance(value, int | float | np.number):
        return f"{value:g}" if isinstance(value, float | np.floating) else str(value)
    shape = getattr(value, "shape", None)
    if shape is not None:
        return f"constant\n{_shape(tuple(shape))}"
    return type(value).__name__


def render(dot_text: str, path: str | os.PathLike[str], format: str | None = None) -> str:  # noqa: A002
    """Draw DOT text into an image file with Graphviz's ``dot`` program.

    Parameters
    ----------
    dot_text : str
        From :func:`to_dot`.
    path : path-like
        The file to write.
    format : {"svg", "png", "pdf"}, optional
        Defaults to the extension of ``path`` (svg when it has none).

    Returns
    -------
    str
        The path written.

    Raises
    ------
    RuntimeError
        When Graphviz's ``dot`` is not installed, or when it fails (its message included).
    ValueError
        For an unsupported format.
    """
    path = os.fspath(path)
    if format is None:
        extension = os.path.splitext(path)[1].lstrip(".").lower()
        format = extension or "svg"  # noqa: A001
    if format not in ("svg", "png", "pdf"):
        raise ValueError(f"render: format must be 'svg', 'png' or 'pdf', got {format!r}")
    executable = shutil.which("dot")
    if executable is None:
        raise RuntimeError(
            "render: Graphviz's `dot` program was not found on PATH. Install graphviz "
            "(`apt-get install graphviz`, `brew install graphviz` or `conda install graphviz`), "
            "or save the DOT text from to_dot() and open it in any Graphviz viewer."
        )
    directory = os.path.dirname(path)
    if directory:
        os.makedirs(directory, exist_ok=True)
    completed = subprocess.run(
        [executable, f"-T{format}", "-o", path],
        input=dot_text.encode(),
        capture_output=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(
            f"render: dot failed with exit code {completed.returncode}: "
            f"{completed.stderr.decode(errors='replace').strip()}"
        )
    return path
