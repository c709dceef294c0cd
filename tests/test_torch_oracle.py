"""PyTorch as the oracle: every activation and loss, values and gradients, in float64.

Skipped when torch is not installed (it is never a dependency of retroprop).
"""

from __future__ import annotations

import numpy as np
import pytest

import retroprop as rp
import retroprop.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional

RTOL, ATOL = 1e-10, 1e-12
REDUCTIONS = ["mean", "sum", "none"]


def compare(ours_fn, torch_fn, arrays, grad_of=None, seed=0, rtol=RTOL):
    """Run both libraries on ``arrays`` (float64); compare the outputs and the gradients.

    ``grad_of`` lists the positions of the arrays to differentiate (all float ones by default);
    the output is projected on a random vector so a wrong gradient of any element shows.
    """
    if grad_of is None:
        grad_of = [i for i, a in enumerate(arrays) if np.asarray(a).dtype.kind == "f"]
    ours = [rp.tensor(np.array(a), requires_grad=i in grad_of) for i, a in enumerate(arrays)]
    theirs = [torch.tensor(np.array(a), requires_grad=i in grad_of) for i, a in enumerate(arrays)]
    out, expected = ours_fn(*ours), torch_fn(*theirs)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=rtol, atol=ATOL)
    assert out.dtype == np.float64
    projection = np.random.default_rng(seed).standard_normal(out.shape)
    out.backward(projection)
    expected.backward(torch.tensor(projection))
    for i in grad_of:
        np.testing.assert_allclose(
            ours[i].grad, theirs[i].grad.numpy(), rtol=rtol, atol=ATOL, err_msg=f"input {i}"
        )


ACTIVATIONS = {
    "sigmoid": (F.sigmoid, torch.sigmoid),
    "tanh": (F.tanh, torch.tanh),
    "relu": (F.relu, TF.relu),
    "leaky_relu": (F.leaky_relu, TF.leaky_relu),
    "leaky_relu_0.2": (lambda x: F.leaky_relu(x, 0.2), lambda x: TF.leaky_relu(x, 0.2)),
    "elu": (F.elu, TF.elu),
    "elu_0.5": (lambda x: F.elu(x, alpha=0.5), lambda x: TF.elu(x, alpha=0.5)),
    "gelu": (F.gelu, TF.gelu),
    "gelu_tanh": (
        lambda x: F.gelu(x, approximate="tanh"), lambda x: TF.gelu(x, approximate="tanh")
    ),
    "silu": (F.silu, TF.silu),
    "mish": (F.mish, TF.mish),
    "softplus": (F.softplus, TF.softplus),
    "softmax": (F.softmax, lambda x: TF.softmax(x, dim=-1)),
    "softmax_axis0": (lambda x: F.softmax(x, axis=0), lambda x: TF.softmax(x, dim=0)),
    "log_softmax": (F.log_softmax, lambda x: TF.log_softmax(x, dim=-1)),
    "log_softmax_axis0": (lambda x: F.log_softmax(x, axis=0), lambda x: TF.log_softmax(x, dim=0)),
}  # fmt: skip


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_matches_torch(rng, name):
    # Within [-6, 6]: beyond 20, torch's softplus switches to the identity (an approximation).
    z = rng.uniform(-6.0, 6.0, (7, 5))
    z[0] = [-0.3, -1e-3, 1e-3, 0.3, 0.0]  # near (and, except for relu's family, at) zero
    if name in ("relu", "leaky_relu", "leaky_relu_0.2", "elu", "elu_0.5"):
        z[0, 4] = 0.5  # the derivative at 0 is a convention; compared in its own test
    ours, theirs = ACTIVATIONS[name]
    compare(ours, theirs, [z])


def test_kinks_follow_torch_conventions():
    z = np.zeros(3)
    for ours, theirs in (ACTIVATIONS["relu"], ACTIVATIONS["leaky_relu"], ACTIVATIONS["elu"]):
        compare(ours, theirs, [z])
    compare(lambda x: x.abs(), torch.abs, [z])
    compare(lambda x: x.clip(0.0, 1.0), lambda x: x.clamp(0.0, 1.0), [np.array([0.0, 0.5, 1.0])])


# ---------------------------------------------------------------------------- losses
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mse_matches_torch(rng, reduction):
    y_hat, y = rng.standard_normal((6, 3)), rng.standard_normal((6, 3))
    compare(
        lambda a, b: F.mse_loss(a, b, reduction=reduction),
        lambda a, b: TF.mse_loss(a, b, reduction=reduction),
        [y_hat, y],
    )
    compare(  # pseudo-MSE is half the MSE
        lambda a, b: F.pseudo_mse_loss(a, b, reduction=reduction),
        lambda a, b: 0.5 * TF.mse_loss(a, b, reduction=reduction),
        [y_hat, y],
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_bce_matches_torch(rng, reduction, weighted):
    p, y = rng.uniform(0.01, 0.99, (6, 3)), rng.uniform(0, 1, (6, 3))
    weight = rng.uniform(0.5, 2.0, (6, 1)) if weighted else None

    def ours(a, b):
        return F.binary_cross_entropy(a, b, weight=weight, reduction=reduction)

    def theirs(a, b):
        w = None if weight is None else torch.tensor(weight)
        return TF.binary_cross_entropy(a, b, weight=w, reduction=reduction)

    compare(ours, theirs, [p, y])  # the gradients of the prediction and of the target
    # At p = 0 or 1 the logs are clamped at -100. torch's target gradient there is +-inf (the
    # unclamped log(1 - p) - log(p)); ours is the derivative of the clamped loss, finite (see
    # test_losses), so only the prediction's gradient is compared. There it is about
    # +-1e12: torch divides by its 1e-12 floor stored in float32 (9.99999996e-13), hence rtol.
    p[0], y[0] = [0.0, 1.0, 0.5], [0.0, 1.0, 1.0]
    p[1], y[1] = [0.0, 1.0, 1.0], [1.0, 0.0, 0.5]
    compare(ours, theirs, [p, y], grad_of=[0], rtol=1e-8)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("positive_weighted", [False, True])
def test_bce_with_logits_matches_torch(rng, reduction, weighted, positive_weighted):
    z, y = rng.standard_normal((6, 3)) * 4, rng.uniform(0, 1, (6, 3))
    z[0] = [-800.0, 0.0, 800.0]
    weight = rng.uniform(0.5, 2.0, (6, 1)) if weighted else None
    pos_weight = rng.uniform(0.5, 3.0, 3) if positive_weighted else None

    def as_torch(array):
        return None if array is None else torch.tensor(array)

    compare(
        lambda a, b: F.binary_cross_entropy_with_logits(
            a, b, weight=weight, reduction=reduction, pos_weight=pos_weight
        ),
        lambda a, b: TF.binary_cross_entropy_with_logits(
            a, b, weight=as_torch(weight), reduction=reduction, pos_weight=as_torch(pos_weight)
        ),
        [z, y],
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_with_labels_matches_torch(rng, reduction, weighted):
    z, labels = rng.standard_normal((7, 4)) * 3, np.array([0, 3, 1, 1, 2, 3, 3])
    weight = rng.uniform(0.5, 2.0, 4) if weighted else None
    compare(
        lambda a, b: F.cross_entropy(a, b, weight=weight, reduction=reduction),
        lambda a, b: TF.cross_entropy(
            a, b, weight=None if weight is None else torch.tensor(weight), reduction=reduction
        ),
        [z, labels],
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_with_probabilities_matches_torch(rng, reduction, weighted):
    z = rng.standard_normal((7, 4)) * 3
    target = rng.uniform(0, 1, (7, 4))
    target /= target.sum(axis=1, keepdims=True)
    weight = rng.uniform(0.5, 2.0, 4) if weighted else None
    compare(
        lambda a, b: F.cross_entropy(a, b, weight=weight, reduction=reduction),
        lambda a, b: TF.cross_entropy(
            a, b, weight=None if weight is None else torch.tensor(weight), reduction=reduction
        ),
        [z, target],
    )


def test_cross_entropy_of_one_example_matches_torch():
    z = np.array([0.5, -1.0, 2.0])
    compare(lambda a: F.cross_entropy(a, 2), lambda a: TF.cross_entropy(a, torch.tensor(2)), [z])


def test_small_network_matches_torch(rng):
    """A two-layer network with a fused loss: the whole backward pass against torch's."""
    arrays = [rng.standard_normal(s) for s in [(5, 4), (4, 6), (6,), (6, 3), (3,)]]
    labels = np.array([0, 2, 1, 1, 0])

    def ours(x, W1, b1, W2, b2):
        return F.cross_entropy(F.gelu(x @ W1 + b1) @ W2 + b2, labels)

    def theirs(x, W1, b1, W2, b2):
        return TF.cross_entropy(TF.gelu(x @ W1 + b1) @ W2 + b2, torch.tensor(labels))

    compare(ours, theirs, arrays)
