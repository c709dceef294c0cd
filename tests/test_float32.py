"""float32 stays float32: no op, activation, loss or gradient upcasts a float32 network."""

from __future__ import annotations

import numpy as np
import pytest

import retroprop as rp
import retroprop.nn.functional as F


def graph_tensors(root: rp.Tensor) -> list[rp.Tensor]:
    """Every tensor reachable from ``root`` through ``grad_fn.parents`` (iteratively)."""
    seen: dict[int, rp.Tensor] = {id(root): root}
    stack = [root]
    while stack:
        node = stack.pop()
        if node.grad_fn is None:
            continue
        for parent in node.grad_fn.parents:
            if isinstance(parent, rp.Tensor) and id(parent) not in seen:
                seen[id(parent)] = parent
                stack.append(parent)
    return list(seen.values())


SIZES = [4, 6, 5, 5, 3]
ACTIVATIONS = [F.relu, F.tanh, F.gelu, F.identity]
LABELS = np.array([0, 1, 2, 0, 1, 2, 1, 0])


def draw_network(rng):
    """Inputs (8, 4) and the weights and biases of four layers, as float64 arrays."""
    arrays = [rng.standard_normal((8, SIZES[0]))]
    for fan_in, fan_out in zip(SIZES[:-1], SIZES[1:], strict=True):
        arrays += [rng.standard_normal((fan_in, fan_out)), rng.standard_normal(fan_out)]
    return arrays


def network(arrays, dtype):
    """x -> Linear -> relu -> Linear -> tanh -> Linear -> gelu -> Linear -> logits."""
    x = rp.tensor(arrays[0].astype(dtype))
    parameters = [rp.tensor(a.astype(dtype), requires_grad=True) for a in arrays[1:]]
    a = x
    layers = zip(parameters[::2], parameters[1::2], ACTIVATIONS, strict=True)
    for W, b, activation in layers:
        a = activation(a @ W + b)
    return a, parameters


LOSSES = {
    "cross_entropy labels": lambda z, y: F.cross_entropy(z, y["labels"]),
    "cross_entropy probabilities": lambda z, y: F.cross_entropy(
        z, y["probabilities"], reduction="sum"
    ),
    "cross_entropy weighted": lambda z, y: F.cross_entropy(z, y["labels"], weight=[1.0, 2.0, 3]),
    "softmax + mse": lambda z, y: F.mse_loss(F.softmax(z), y["probabilities"]),
    "log_softmax": lambda z, y: -(
        F.log_softmax(z) * y["probabilities"].astype(np.float32)
    ).sum(axis=1).mean(),
    "sigmoid + bce": lambda z, y: F.binary_cross_entropy(
        F.sigmoid(z), y["binary"], reduction="sum"
    ),
    "bce with logits": lambda z, y: F.binary_cross_entropy_with_logits(
        z, y["binary"], weight=np.full(3, 0.5), pos_weight=np.full(3, 2.0)
    ),
    "pseudo_mse": lambda z, y: F.pseudo_mse_loss(z, y["binary"], reduction="none").mean(),
    "leaky/elu/silu/mish/softplus": lambda z, y: (
        F.leaky_relu(z) + F.elu(z) + F.silu(z) + F.mish(z) + F.softplus(z) + F.gelu(z, "tanh")
    ).mean(),
    "engine ops": lambda z, y: (
        (z.exp() + 1).log().sqrt().abs().clip(0.1, 5.0).max(axis=0).sum()
        + rp.maximum(z, 0.0).mean(axis=(0, 1))
        + rp.where(z > 0, z, z * 0.5).T.reshape(-1)[[0, 0, 1]].sum()
        + rp.concatenate([z, z], axis=1).mean()
        + rp.stack([z, -z]).min()
        + (z**2 / 2.0 - 1.5 * z).mean()
        + (z.astype(np.float64).sum().astype(np.float32))
    ),
}  # fmt: skip


@pytest.mark.parametrize("loss_name", list(LOSSES))
def test_every_tensor_and_gradient_of_the_network_is_float32(rng, loss_name):
    logits, parameters = network(draw_network(rng), np.float32)
    labels = LABELS
    targets = {
        "labels": labels,
        "probabilities": np.eye(3)[labels] * 0.8 + 0.2 / 3,  # float64 on purpose
        "binary": (rng.random((8, 3)) < 0.5).astype(np.float64),
    }
    loss = LOSSES[loss_name](logits, targets)
    nodes = graph_tensors(loss)
    assert len(nodes) > 12
    for node in nodes:
        if not node.is_leaf:
            node.retain_grad()
    loss.backward()
    for node in nodes:
        if node.dtype == np.float64:  # the deliberate cast in "engine ops" only
            assert node.grad_fn is not None and node.grad_fn.name in ("Cast", "Sum")
            continue
        assert node.dtype == np.float32, f"{node.grad_fn} produced {node.dtype}"
        if node.requires_grad:
            assert node.grad is not None, f"no gradient reached {node.grad_fn}"
            assert node.grad.dtype == np.float32, f"gradient of {node.grad_fn} is {node.grad.dtype}"
            assert node.grad.shape == node.shape
    for p in parameters:
        assert p.grad.dtype == np.float32
        assert np.all(np.isfinite(p.grad))


def test_float32_network_matches_float64_closely(rng):
    arrays = draw_network(rng)
    logits32, params32 = network(arrays, np.float32)
    logits64, params64 = network(arrays, np.float64)
    loss32, loss64 = F.cross_entropy(logits32, LABELS), F.cross_entropy(logits64, LABELS)
    loss32.backward()
    loss64.backward()
    assert loss32.dtype == np.float32
    np.testing.assert_allclose(loss32.item(), loss64.item(), rtol=1e-5)
    for p32, p64 in zip(params32, params64, strict=True):
        assert p32.grad.dtype == np.float32
        np.testing.assert_allclose(p32.grad, p64.grad, rtol=1e-3, atol=1e-5)


def test_scalars_and_integer_arrays_keep_float32():
    x = rp.tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    results = [x + 1, 2 * x, x / 3.0, 1.0 / x, x**2, 2.0**x, x - np.array([1, 2]), x * True]
    for result in results:
        assert result.dtype == np.float32
    sum(r.sum() for r in results).backward()
    assert x.grad.dtype == np.float32
