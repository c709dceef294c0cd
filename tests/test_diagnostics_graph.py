"""to_dot(): the computational graph as DOT text; render() through Graphviz when installed."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pytest

import retroprop as rp
import retroprop.nn.functional as F
from retroprop import nn
from retroprop.diagnostics import render, to_dot

NODE = re.compile(r'^  (n\d+) \[label="([^"]*)", (.*)\];$')
EDGE = re.compile(r"^  (n\d+) -> (n\d+);$")


def _parse(dot: str) -> tuple[dict[str, tuple[str, str]], list[tuple[str, str]]]:
    """{node: (label, attributes)} and [(source, target)]; fails on any other line."""
    lines = dot.splitlines()
    assert lines[0] == "digraph retroprop {" and lines[-1] == "}"
    nodes, edges = {}, []
    for line in lines[3:-1]:
        if match := NODE.match(line):
            nodes[match[1]] = (match[2], match[3])
        elif match := EDGE.match(line):
            edges.append((match[1], match[2]))
        else:
            raise AssertionError(f"unexpected DOT line: {line!r}")
    return nodes, edges


def _mlp_loss():
    rp.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3), nn.Sigmoid(), nn.Linear(3, 1))
    X = np.ones((4, 2), dtype=np.float32)
    loss = F.mse_loss(model(X), np.zeros((4, 1), dtype=np.float32))
    return model, loss


def test_dot_of_a_small_mlp_has_every_op_and_leaf():
    model, loss = _mlp_loss()
    nodes, edges = _parse(to_dot(loss, params=dict(model.named_parameters())))
    labels = sorted(label for label, _ in nodes.values())
    assert labels == sorted(
        [
            "SquaredError\\nscalar",
            "Add\\n(4, 1)",
            "MatMul\\n(4, 1)",
            "2.weight\\n(3, 1)",
            "2.bias\\n(1,)",
            "Sigmoid\\n(4, 3)",
            "Add\\n(4, 3)",
            "MatMul\\n(4, 3)",
            "0.weight\\n(2, 3)",
            "0.bias\\n(3,)",
            "input\\n(4, 2)",
            "constant\\n(4, 1)",  # the target, a plain array
        ]
    )
    by_label = {label: node for node, (label, _) in nodes.items()}
    # parameters are filled blue boxes, inputs grey ellipses, the root is marked
    assert "#a6cee3" in nodes[by_label["0.weight\\n(2, 3)"]][1]
    assert "ellipse" in nodes[by_label["input\\n(4, 2)"]][1]
    assert "peripheries=2" in nodes[by_label["SquaredError\\nscalar"]][1]
    # edges run from inputs to the op that uses them
    assert (by_label["0.weight\\n(2, 3)"], by_label["MatMul\\n(4, 3)"]) in edges
    assert (by_label["input\\n(4, 2)"], by_label["MatMul\\n(4, 3)"]) in edges
    assert (by_label["MatMul\\n(4, 3)"], by_label["Add\\n(4, 3)"]) in edges
    assert (by_label["Sigmoid\\n(4, 3)"], by_label["MatMul\\n(4, 1)"]) in edges
    assert len(edges) == 11  # every node but the root feeds exactly one op here
    assert all(target != by_label["input\\n(4, 2)"] for _, target in edges)


def test_without_names_parameters_are_still_marked():
    _, loss = _mlp_loss()
    nodes, _ = _parse(to_dot(loss))
    parameters = [label for label, attributes in nodes.values() if "#a6cee3" in attributes]
    assert sorted(parameters) == [
        "parameter\\n(1,)",
        "parameter\\n(2, 3)",
        "parameter\\n(3, 1)",
        "parameter\\n(3,)",
    ]


def test_a_value_used_twice_is_one_node_with_two_edges():
    x = rp.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x + 3.0).sum()
    nodes, edges = _parse(to_dot(y, params={"x": x}))
    (x_node,) = [node for node, (label, _) in nodes.items() if label.startswith("x\\n")]
    (mul,) = [node for node, (label, _) in nodes.items() if label.startswith("Mul")]
    assert edges.count((x_node, mul)) == 2
    constants = [label for label, _ in nodes.values() if label == "3"]
    assert constants == ["3"]  # the Python number is a constant node holding its value


def test_a_graph_thousands_of_ops_deep_needs_no_recursion():
    x = rp.tensor(np.array([0.5]), requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0
    nodes, edges = _parse(to_dot(y))
    assert len(nodes) == 5000 + 1 + 5000  # ops, the leaf, one constant per op
    assert len(edges) == 10000


def test_graph_survives_backward_and_names_are_escaped():
    x = rp.tensor([1.0], requires_grad=True)
    y = (x * 2.0).sum()
    y.backward()
    dot = to_dot(y, params={'odd "name"': x}, name="my graph")
    assert dot.startswith('digraph "my graph" {')
    assert 'label="odd \\"name\\"\\n(1,)"' in dot


def test_to_dot_rejects_arrays():
    with pytest.raises(TypeError, match="expected a Tensor"):
        to_dot(np.ones(3))


def test_render_says_to_install_graphviz_when_dot_is_missing(monkeypatch, tmp_path):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match="apt-get install graphviz"):
        render("digraph g { a -> b; }", tmp_path / "g.svg")
    with pytest.raises(ValueError, match="format must be"):
        render("digraph g {}", tmp_path / "g.gif")


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
@pytest.mark.parametrize("extension", ["svg", "png"])
def test_render_writes_the_image(tmp_path, extension):
    model, loss = _mlp_loss()
    path = render(to_dot(loss, dict(model.named_parameters())), tmp_path / f"graph.{extension}")
    data = open(path, "rb").read()
    if extension == "svg":
        assert b"<svg" in data and b"0.weight" in data
    else:
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(RuntimeError, match="dot failed"):
        render("digraph {", tmp_path / "broken.svg")
