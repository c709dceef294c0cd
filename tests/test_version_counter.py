"""Issue 10, section 2: a value saved by the forward pass and changed in place before backward.

Every in-place change retroprop makes or offers bumps the tensor's ``_version``; an op records
the versions of its inputs, and backward refuses a saved value whose version moved on (as
PyTorch's "modified by an inplace operation"), instead of using the new values silently.
"""

from __future__ import annotations

import numpy as np
import pytest

import retroprop as rp
from retroprop import nn, optim
from retroprop.nn import init

IN_PLACE = "modified by an in-place operation"


def gan_pair() -> tuple[nn.Linear, nn.Linear, rp.Tensor]:
    """The issue's snippet: score = D(G(x)) with G.weight = 1, D.weight = 2, biases 0."""
    G = nn.Linear(1, 1, dtype=np.float64)
    D = nn.Linear(1, 1, dtype=np.float64)
    G.weight.data[...], G.bias.data[...] = 1.0, 0.0
    D.weight.data[...], D.bias.data[...] = 2.0, 0.0
    score = D(G(rp.tensor(np.array([[1.0]])))).sum()
    return G, D, score


def test_the_gan_snippet_raises_naming_the_op_and_the_tensor():
    G, D, score = gan_pair()
    opt_d = optim.SGD(D.parameters(), lr=1.0)
    score.backward(retain_graph=True)
    opt_d.step()  # D.weight: 2 -> 1, in place
    G.zero_grad()
    with pytest.raises(RuntimeError, match=IN_PLACE) as error:
        (-score).backward()
    message = str(error.value)
    assert "input 1 of MatMul" in message and "Parameter of shape (1, 1), float64" in message
    assert f"is now at version {D.weight._version}" in message


def test_without_the_step_the_second_backward_uses_the_recorded_weight():
    G, D, score = gan_pair()
    score.backward(retain_graph=True)
    G.zero_grad()
    (-score).backward()
    np.testing.assert_array_equal(G.weight.grad, [[-2.0]])


def test_replacing_data_by_a_new_array_keeps_the_recorded_values():
    # The graph holds the old array, untouched: the gradient is the one recorded, no error.
    G, D, score = gan_pair()
    D.weight.data = np.array([[1.0]])
    score.backward()
    np.testing.assert_array_equal(G.weight.grad, [[2.0]])


def test_a_changed_input_that_was_not_saved_is_no_error():
    # z = x @ W + b: Add saves nothing, so stepping b does not spoil dJ/dW = x^T.
    x = rp.tensor(np.array([[3.0]]))
    W = rp.tensor(np.array([[2.0]]), requires_grad=True)
    b = rp.tensor(np.array([0.5]), requires_grad=True)
    z = (x @ W + b).sum()
    b.grad = np.array([1.0])
    optim.SGD([b], lr=1.0).step()
    assert b._version == 1
    z.backward()
    np.testing.assert_array_equal(W.grad, [[3.0]])


def test_a_saved_output_changed_in_place_is_refused():
    x = rp.tensor(np.array([0.0, 1.0]), requires_grad=True)
    y = x.exp()  # Exp saves its output: dy/dx = y
    y.data -= 1.0
    with pytest.raises(RuntimeError, match=IN_PLACE) as error:
        y.sum().backward()
    assert "output of Exp (Tensor of shape (2,), float64)" in str(error.value)


def test_a_changed_view_of_a_saved_array_is_refused():
    class Scale(rp.Function):
        """a = 2 w (saving a view of w); da/dw = 2, but it reads the saved view."""

        @staticmethod
        def forward(ctx, w):
            ctx.save_for_backward(w[:1])
            return 2 * w

        @staticmethod
        def backward(ctx, grad_output):
            (view,) = ctx.saved_tensors
            return grad_output * 2 + 0 * view[0]

    w = rp.tensor(np.array([1.0, 2.0]), requires_grad=True)
    out = Scale.apply(w).sum()
    w.data += 1.0
    with pytest.raises(RuntimeError, match="input 0 of Scale"):
        out.backward()


def test_data_assignment_bumps_and_new_tensors_start_at_zero():
    w = rp.tensor(np.ones(2), requires_grad=True)
    assert w._version == 0 and (w * 2)._version == 0 and nn.Parameter(np.ones(2))._version == 0
    w.data -= 0.5  # the setter: in place, same array
    w.data = np.zeros(2)
    assert w._version == 2
    np.testing.assert_array_equal(w.data, [0.0, 0.0])


OPTIMIZERS = [
    lambda ps: optim.SGD(ps, lr=0.1),
    lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
    lambda ps: optim.Adam(ps, lr=0.1),
    lambda ps: optim.Adam(ps, lr=0.1, weight_decay=0.1, amsgrad=True),
    lambda ps: optim.AdamW(ps, lr=0.1),
    lambda ps: optim.RMSprop(ps, lr=0.1, momentum=0.5, centered=True),
    lambda ps: optim.Adagrad(ps, lr=0.1),
]


@pytest.mark.parametrize("make", OPTIMIZERS, ids=lambda make: repr(make([rp.tensor(1.0)])))
def test_every_optimizer_step_bumps_the_version(make):
    w = rp.tensor(np.array([1.0, -2.0]), requires_grad=True)
    loss = (w * w).sum()  # Mul saves w
    optimizer = make([w])
    loss.backward(retain_graph=True)
    optimizer.step()
    assert w._version >= 1
    with pytest.raises(RuntimeError, match="input 0 of Mul"):
        loss.backward()


def test_every_optimizer_is_covered_above():
    covered = {type(make([rp.tensor(1.0)])) for make in OPTIMIZERS}
    assert covered == {optim.SGD, optim.Adam, optim.AdamW, optim.RMSprop, optim.Adagrad}


def test_load_state_dict_bumps_the_parameters_it_writes():
    model = nn.Sequential(nn.Linear(2, 2, dtype=np.float64))
    loss = model(rp.tensor(np.ones((1, 2)))).sum()
    state = model.state_dict(copy=True)
    versions = [p._version for p in model.parameters()]  # nn.init filled them already
    model.load_state_dict(state)
    assert [p._version for p in model.parameters()] == [v + 1 for v in versions]
    with pytest.raises(RuntimeError, match="input 1 of MatMul"):
        loss.backward()


@pytest.mark.parametrize(
    "fill",
    [init.zeros_, init.ones_, lambda t: init.constant_(t, 3.0), init.normal_, init.uniform_,
     init.xavier_uniform_, init.xavier_normal_, init.kaiming_uniform_, init.kaiming_normal_,
     init.lecun_normal_, init.standard_],
)  # fmt: skip
def test_init_functions_bump_what_they_fill(fill):
    w = nn.Parameter(np.ones((3, 2)))
    fill(w)
    assert w._version == 1


def test_reading_the_fans_is_not_a_change():
    w = nn.Parameter(np.ones((3, 2)))
    assert init.calculate_fans(w) == (3, 2) and w._version == 0


def test_fit_counts_one_version_per_sgd_step():
    model = nn.Sequential(nn.Linear(1, 1))
    X = np.zeros((4, 1), np.float32)
    y = np.ones((4, 1), np.float32)
    versions = [p._version for p in model.parameters()]
    rp.fit(model, X, y, loss="mse", optimizer=optim.SGD(model.parameters(), lr=0.1), epochs=2,
           batch_size=2, verbose=0)  # fmt: skip
    steps = 4  # 2 epochs of 2 batches
    assert [p._version for p in model.parameters()] == [v + steps for v in versions]


def test_the_estimators_train_through_the_check():
    from retroprop.sklearn import MLPRegressor

    X = np.random.default_rng(0).random((20, 2))
    estimator = MLPRegressor(hidden_layer_sizes=(3,), max_iter=3, random_state=0).fit(X, X[:, 0])
    assert all(p._version > 0 for p in estimator.model_.parameters())
    estimator.partial_fit(X, X[:, 0])  # the L2 penalty saves the weights: stepped after backward
    assert np.isfinite(estimator.predict(X)).all()


def test_the_cli_trains_through_the_check(tmp_path):
    from retroprop.cli import main

    out = tmp_path / "run"
    assert main(["train", "--dataset", "xor", "--epochs", "3", "--seed", "0", "--quiet",
                 "--out", str(out)]) == 0  # fmt: skip
    assert all(np.isfinite(a).all() for a in rp.load(out).state_dict().values())
