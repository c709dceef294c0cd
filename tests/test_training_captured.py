"""The captured training step: the same bits as the plain step, and the plain step when needed."""

from __future__ import annotations

import numpy as np
import pytest

import retroprop as rp
from retroprop import nn, optim
from retroprop.training import Trainer
from retroprop.training.callbacks import Callback
from retroprop.training.captured import CapturedStep
from retroprop.training.data import check_data
from retroprop.training.guard import DivergenceError, arrays_finite
from retroprop.training.objectives import resolve_loss


def _data(rows: int = 300, features: int = 12, classes: int = 4):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(rows, features)).astype(np.float32)
    y = rng.integers(0, classes, size=rows)
    return X, y


def _model(activation=nn.ReLU, bias: bool = True) -> nn.Sequential:
    rp.manual_seed(3)
    return nn.Sequential(
        nn.Linear(12, 16, bias=bias),
        activation(),
        nn.Linear(16, 8),
        activation(),
        nn.Linear(8, 4),
    )


def _trainer(
    model,
    capture,
    optimizer="momentum",
    loss="cross_entropy",
    weights=None,
    targets=None,
    **options,
):
    X, y = _data()
    y = y if targets is None else targets
    objective = resolve_loss(loss)
    data = check_data(model, objective, X, y, weights)
    if optimizer == "momentum":
        opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    else:
        opt = optim.Adam(model.parameters(), lr=0.01)
    options = {
        "epochs": 3,
        "batch_size": 64,
        "verbose": 0,
        "rng": np.random.default_rng(1),
    } | options
    return Trainer(model, objective, opt, data, capture=capture, **options)


@pytest.mark.parametrize("activation", [nn.ReLU, nn.Tanh, nn.Sigmoid])
@pytest.mark.parametrize("optimizer", ["momentum", "adam"])
@pytest.mark.parametrize("bias", [True, False])
def test_captured_step_gives_the_same_bits_as_the_plain_step(activation, optimizer, bias):
    runs = []
    for capture in (True, False):
        model = _model(activation, bias)
        trainer = _trainer(model, capture, optimizer, metrics=["accuracy"])
        assert (trainer.captured is not None) == capture
        history = trainer.run()
        runs.append((history, [p.data.copy() for p in model.parameters()]))
    (captured, captured_weights), (plain, plain_weights) = runs
    assert captured["loss"] == plain["loss"]  # 300 rows in batches of 64: the last has 44
    assert captured["accuracy"] == plain["accuracy"]
    for a, b in zip(captured_weights, plain_weights, strict=True):
        assert a.dtype == np.float32 and np.array_equal(a, b)


def test_captured_gradients_are_those_of_the_plain_step_and_callbacks_see_them():
    class KeepGradients(Callback):
        def __init__(self):
            self.seen = []

        def on_batch_end(self, batch, logs):
            self.seen.append([p.grad.copy() for p in self.trainer.model.parameters()])

    seen = []
    for capture in (True, False):
        keep = KeepGradients()
        _trainer(_model(), capture, callbacks=[keep], epochs=1).run()
        seen.append(keep.seen)
    assert len(seen[0]) == len(seen[1]) == 5
    for captured, plain in zip(*seen, strict=True):
        assert all(np.array_equal(a, b) for a, b in zip(captured, plain, strict=True))


def test_a_hooked_batch_takes_the_plain_step():
    model = _model()
    trainer = _trainer(model, True, epochs=1)
    assert trainer.captured is not None
    calls = []
    remove = model[0].register_forward_hook(lambda module, inputs, output: calls.append(1))
    trainer.run()
    assert len(calls) == 5  # every batch went through the modules
    remove()
    assert trainer.captured.ready()


@pytest.mark.parametrize(
    "build",
    [
        lambda: _trainer(_model(), True, loss="mse", targets=np.eye(4)[_data()[1]]),
        lambda: _trainer(_model(), True, weights=np.ones(300)),
        lambda: _trainer(nn.Sequential(nn.Linear(12, 8), nn.Dropout(0.5), nn.Linear(8, 4)), True),
        lambda: _trainer(nn.Sequential(nn.Linear(12, 4), nn.ReLU()), True),
        lambda: _trainer(
            nn.Sequential(nn.Linear(12, 8), nn.ReLU(), nn.ReLU(), nn.Linear(8, 4)), True
        ),
    ],
    ids=["another-loss", "sample-weights", "dropout", "ends-with-activation", "two-activations"],
)
def test_what_the_capture_does_not_know_takes_the_plain_step(build):
    trainer = build()
    assert trainer.captured is None
    trainer.run()


def test_a_shared_or_frozen_parameter_is_not_captured():
    shared = _model()
    shared[2].weight = shared[2].weight  # same layer: fine
    assert CapturedStep.capture(
        shared, resolve_loss("cross_entropy"), list(shared.parameters()), None, 8
    )
    frozen = _model()
    frozen[0].bias.requires_grad = False
    trainable = [p for p in frozen.parameters() if p.requires_grad]
    assert CapturedStep.capture(frozen, resolve_loss("cross_entropy"), trainable, None, 8) is None


def test_the_captured_step_stops_a_diverging_run_as_the_plain_step_does():
    messages = []
    for capture in (True, False):
        model = _model()
        model[0].weight.data *= 1e37  # finite, but the logits overflow
        start = {k: v.copy() for k, v in model.state_dict().items()}
        trainer = _trainer(model, capture)
        with pytest.raises(
            DivergenceError, match="the loss became inf at epoch 1, batch 1"
        ) as info:
            trainer.run()
        messages.append(str(info.value))
        for name, array in model.state_dict().items():
            np.testing.assert_array_equal(array, start[name])
    assert messages[0] == messages[1]


def test_weights_made_non_finite_by_the_last_step_of_an_epoch_end_the_run():
    class Spoil(Callback):
        def on_batch_end(self, batch, logs):
            if batch == 5:  # the last batch of the epoch: no next batch would see it
                self.trainer.model[2].bias.data[0] = np.inf

    trainer = _trainer(_model(), True, callbacks=[Spoil()])
    with pytest.raises(DivergenceError, match="the weights became nan at the end of epoch 1"):
        trainer.run()
    assert arrays_finite([p.data for p in trainer.model.parameters()])


def test_arrays_finite_sees_nan_inf_and_an_overflowing_sum():
    big = np.full(4, 3e38, dtype=np.float32)  # finite values whose sum overflows
    assert arrays_finite([np.zeros(3), big])
    assert not arrays_finite([np.zeros(3), np.array([1.0, np.nan])])
    assert not arrays_finite([np.array([np.inf, -np.inf])])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_captured_loss_gives_the_bits_of_the_cross_entropy_op(dtype):
    from retroprop.ops.loss import CrossEntropy

    model = _model()
    for p in model.parameters():
        p.data = p.data.astype(dtype)
    step = CapturedStep.capture(
        model, resolve_loss("cross_entropy"), list(model.parameters()), None, 64
    )
    rng = np.random.default_rng(4)
    for rows in (64, 37):  # a full batch and a short last one
        logits = (rng.normal(size=(rows, 4)) * 30).astype(dtype)
        target = rng.integers(0, 4, size=rows)
        value, grad = step.loss(logits.copy(), target)
        ctx = object.__new__(CrossEntropy)
        ctx.needs_input_grad = (True, False, False)
        expected = CrossEntropy.forward(ctx, logits, target, None, reduction="mean")
        expected_grad = CrossEntropy.backward(ctx, np.ones((), dtype=dtype))[0]
        assert value == float(expected)
        assert grad.dtype == dtype and np.array_equal(grad, expected_grad)


class _OwnStep(optim.SGD):
    calls = 0

    def step(self, closure=None):
        type(self).calls += 1
        return super().step(closure)


def test_the_update_is_fused_into_the_backward_only_for_the_shared_step():
    from retroprop.training.captured import fused_update

    model = _model()
    params = list(model.parameters())
    assert fused_update(optim.SGD(params, lr=0.1), params) is not None
    assert fused_update(optim.Adam(params), params) is not None
    assert fused_update(_OwnStep(params, lr=0.1), params) is None
    assert fused_update(optim.SGD(params[:2], lr=0.1), params) is None  # not every parameter
    trainer = _trainer(model, True, epochs=1)
    trainer.optimizer = _OwnStep(params, lr=0.05)
    before = [p.data.copy() for p in params]
    trainer.run()
    assert _OwnStep.calls == 5  # its own step ran once per batch, after the backward
    assert not any(np.array_equal(a, p.data) for a, p in zip(before, params, strict=True))


def test_clipping_keeps_the_update_after_the_backward_with_the_same_bits():
    runs = []
    for capture in (True, False):
        model = _model()
        _trainer(model, capture, clip_grad_norm=0.01).run()
        runs.append([p.data.copy() for p in model.parameters()])
    assert all(np.array_equal(a, b) for a, b in zip(*runs, strict=True))


@pytest.mark.parametrize("n", [1, 300, 70_000])
def test_the_epochs_order_is_rngs_permutation_in_a_small_integer_type(n):
    trainer = _trainer(_model(), True, rng=np.random.default_rng(5))
    order = trainer._permutation(n)
    expected_rng = np.random.default_rng(5)
    assert np.array_equal(order, expected_rng.permutation(n))
    assert trainer.rng.random() == expected_rng.random()  # the same draws were taken
    assert order.dtype.itemsize == (1 if n <= 256 else 2 if n <= 65_536 else 4)


def test_int64_labels_are_not_copied_by_the_check():
    X, y = _data()
    data = check_data(_model(), resolve_loss("cross_entropy"), X, y, None)
    assert np.shares_memory(data.y, y)
    data = check_data(_model(), resolve_loss("cross_entropy"), X, y.astype(np.int32), None)
    assert data.y.dtype == np.int64


# --- plain SGD updated inside the weight-gradient product ---


class _LrToZero(Callback):
    """Sets the learning rate to 0 after batch 2 (a callback that does not read ``.grad``)."""

    reads_gradients = False

    def on_batch_end(self, batch, logs):
        if batch == 2:
            self.trainer.optimizer.param_groups[0]["lr"] = 0.0
            self.weights = [p.data.copy() for p in self.trainer.model.parameters()]


def _sgd_run(capture, dtype=np.float32, callbacks=(), **sgd):
    model = _model(bias=sgd.pop("bias", True))
    for p in model.parameters():
        p.data = p.data.astype(dtype)
    trainer = _trainer(model, capture, callbacks=list(callbacks))
    trainer.optimizer = optim.SGD(model.parameters(), **({"lr": 0.05} | sgd))
    history = trainer.run()
    return trainer, history, [p.data.copy() for p in model.parameters()]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "sgd",
    [{}, {"weight_decay": 0.01}, {"maximize": True, "lr": 0.001}, {"bias": False}],
    ids=["plain", "weight-decay", "maximize", "no-bias"],
)
def test_plain_sgd_inside_the_product_follows_the_plain_step(dtype, sgd):
    fused, fused_history, fused_weights = _sgd_run(True, dtype, **dict(sgd))
    assert fused._captured_plan[1] is not None  # the update went inside the product
    assert all(p.grad is None for p in fused.model.parameters())  # no gradient was written
    _, plain_history, plain_weights = _sgd_run(False, dtype, **dict(sgd))
    # The same sums rounded in another order (W - lr * a^T delta in one product): close,
    # not bit-identical, after 15 updates.
    eps = np.finfo(dtype).eps
    np.testing.assert_allclose(fused_history["loss"], plain_history["loss"], rtol=100 * eps)
    for a, b in zip(fused_weights, plain_weights, strict=True):
        assert a.dtype == dtype
        np.testing.assert_allclose(a, b, rtol=1000 * eps, atol=1000 * eps * np.abs(b).max())


def test_plain_sgd_inside_the_product_gives_the_same_bits_for_a_seed():
    runs = [_sgd_run(True, weight_decay=0.01)[2] for _ in range(2)]
    assert all(np.array_equal(a, b) for a, b in zip(*runs, strict=True))


def test_a_callback_that_may_read_gradients_keeps_them_and_the_plain_steps_bits():
    class Reads(Callback):  # reads_gradients is True unless a callback says otherwise
        def on_batch_end(self, batch, logs):
            assert all(p.grad is not None for p in self.trainer.model.parameters())

    captured, _, captured_weights = _sgd_run(True, callbacks=[Reads()])
    assert captured._captured_plan[1] is None
    _, _, plain_weights = _sgd_run(False)
    assert all(np.array_equal(a, b) for a, b in zip(captured_weights, plain_weights, strict=True))


def test_a_learning_rate_changed_during_the_epoch_is_used_inside_the_product():
    stop = _LrToZero()
    trainer, _, weights = _sgd_run(True, callbacks=[stop])
    assert trainer._captured_plan[1] is not None
    for after, at_batch_2 in zip(weights, stop.weights, strict=True):
        np.testing.assert_array_equal(after, at_batch_2)  # lr 0: not one weight moved since


def test_momentum_clipping_or_a_subclass_keep_the_update_out_of_the_product():
    from retroprop.training.captured import sgd_in_product

    params = list(_model().parameters())
    assert sgd_in_product(optim.SGD(params, lr=0.1), params) is not None
    assert sgd_in_product(optim.SGD(params, lr=0.1, momentum=0.9), params) is None
    assert sgd_in_product(_OwnStep(params, lr=0.1), params) is None
    assert sgd_in_product(optim.Adam(params), params) is None
    assert sgd_in_product(optim.SGD(params[:2], lr=0.1), params) is None
    clipped, _, _ = _sgd_run(True)
    clipped.clip_grad_norm = 1.0
    assert clipped._captured_update() == (None, None)


def test_without_a_blas_gemm_the_gradient_is_written_and_the_plain_bits_kept(monkeypatch):
    monkeypatch.setattr("retroprop.training.captured.blas_gemm", lambda dtype: None)
    trainer, _, captured_weights = _sgd_run(True)
    assert trainer.captured.gemm is None
    _, _, plain_weights = _sgd_run(False)
    assert all(np.array_equal(a, b) for a, b in zip(captured_weights, plain_weights, strict=True))


def test_an_update_inside_the_product_is_seen_by_a_graph_that_saved_the_weights():
    model = _model()
    X, y = _data()
    loss = rp.nn.functional.cross_entropy(model(rp.tensor(X[:8])), y[:8])  # saves the weights
    trainer = _trainer(model, True, epochs=1)
    trainer.optimizer = optim.SGD(model.parameters(), lr=0.05)
    trainer.run()
    assert trainer._captured_plan[1] is not None
    with pytest.raises(RuntimeError, match="modified"):
        loss.backward()


def test_the_builtin_callbacks_do_not_read_gradients():
    from retroprop.cli.progress import EpochBar, Recorder
    from retroprop.diagnostics import Diagnostics, LiveGradientFlow
    from retroprop.sklearn._training import EpochMonitor
    from retroprop.training.callbacks import EarlyStopping, LRScheduler, StopAtLoss
    from retroprop.training.live import LivePlot

    assert Callback.reads_gradients

    class Mine(EarlyStopping):  # may read .grad in what it adds: says nothing, so True
        pass

    assert Mine.reads_gradients
    for kind in (EpochBar, Recorder, Diagnostics, LiveGradientFlow, EpochMonitor):
        assert kind.reads_gradients is False, kind
    for kind in (EarlyStopping, LRScheduler, StopAtLoss, LivePlot):
        assert kind.reads_gradients is False, kind


def test_finite_logits_whose_sum_overflows_do_not_stop_the_captured_step():
    """The output's guard sums the batch's logits first: a sum that overflows (finite logits
    near float32's largest) falls back to the elementwise test, which passes them."""
    losses = []
    for capture in (True, False):
        model = _model()
        model[4].weight.data[...] = 0
        model[4].bias.data[...] = 3e38  # every logit 3e38: finite, the batch's sum is not
        history = _trainer(model, capture, epochs=1).run()
        losses.append(history["loss"])
    assert losses[0] == losses[1] and np.isclose(losses[0][0], np.log(4))


def test_sgd_inside_the_product_takes_each_parameters_own_group():
    """Weights and biases in two groups (another lr, decay on the weights only): each is
    updated by its own group's rule, as by the plain step."""
    runs = []
    for capture in (True, False):
        model = _model()
        weights = [p for name, p in model.named_parameters() if name.endswith("weight")]
        biases = [p for name, p in model.named_parameters() if name.endswith("bias")]
        trainer = _trainer(model, capture)
        trainer.optimizer = optim.SGD(
            [{"params": weights, "weight_decay": 0.05}, {"params": biases, "lr": 0.2}], lr=0.05
        )
        trainer.run()
        assert (trainer._captured_plan[1] is not None) == capture
        runs.append([p.data.copy() for p in model.parameters()])
    for a, b in zip(*runs, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    _, _, single_group = _sgd_run(True, weight_decay=0.05)
    assert not all(np.allclose(a, b) for a, b in zip(runs[0], single_group, strict=True))
