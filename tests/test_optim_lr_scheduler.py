"""Learning-rate schedulers: hand-written sequences and PyTorch's as the oracle."""

import math
from typing import Any

import numpy as np
import pytest

import retroprop as rp
from retroprop.optim import SGD
from retroprop.optim.lr_scheduler import (
    CosineAnnealingLR,
    ExponentialLR,
    ReduceLROnPlateau,
    StepLR,
)


def make_optimizer(lrs: tuple[float, ...] = (0.1,)) -> SGD:
    groups = [{"params": [rp.tensor([1.0], requires_grad=True)], "lr": lr} for lr in lrs]
    return SGD(groups, lr=lrs[0])


def schedule(scheduler: Any, epochs: int) -> list[list[float]]:
    """The learning rates used in epochs 0 .. epochs-1."""
    lrs = []
    for _ in range(epochs):
        lrs.append(scheduler.get_last_lr())
        scheduler.optimizer.step()
        scheduler.step()
    return lrs


def test_exponential_is_the_courses_lr_decay():
    scheduler = ExponentialLR(make_optimizer((0.5,)), gamma=0.9)
    lrs = [lr for (lr,) in schedule(scheduler, 10)]
    assert lrs == pytest.approx([0.5 * 0.9**k for k in range(10)], rel=1e-14)
    assert scheduler.last_epoch == 10
    assert scheduler.optimizer.param_groups[0]["lr"] == pytest.approx(0.5 * 0.9**10, rel=1e-14)


def test_step_lr_decays_every_step_size_epochs():
    lrs = [lr for (lr,) in schedule(StepLR(make_optimizer((1.0,)), step_size=3, gamma=0.5), 8)]
    assert lrs == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25]


def test_cosine_annealing_follows_the_cosine_down_and_back_up():
    eta_min, T_max = 0.01, 5
    scheduler = CosineAnnealingLR(make_optimizer((0.1,)), T_max=T_max, eta_min=eta_min)
    lrs = [lr for (lr,) in schedule(scheduler, 16)]
    expected = [
        eta_min + (0.1 - eta_min) * (1 + math.cos(math.pi * e / T_max)) / 2 for e in range(16)
    ]
    assert lrs == pytest.approx(expected, abs=1e-14)
    assert lrs[5] == pytest.approx(eta_min, abs=1e-15)
    assert lrs[10] == pytest.approx(0.1, abs=1e-14)


def test_each_group_is_scheduled_from_its_own_rate():
    scheduler = StepLR(make_optimizer((1.0, 0.1)), step_size=1, gamma=0.5)
    np.testing.assert_allclose(schedule(scheduler, 3), [[1.0, 0.1], [0.5, 0.05], [0.25, 0.025]])
    assert scheduler.base_lrs == [1.0, 0.1]


def test_the_optimizer_uses_the_scheduled_rate():
    w = rp.tensor(np.array([0.0]), requires_grad=True)
    optimizer = SGD([w], lr=1.0)
    scheduler = ExponentialLR(optimizer, gamma=0.5)
    for _ in range(3):
        w.grad = np.array([-1.0])
        optimizer.step()
        scheduler.step()
    np.testing.assert_allclose(w.data, [1.0 + 0.5 + 0.25])


def test_schedulers_chain_with_manual_changes():
    optimizer = make_optimizer((1.0,))
    scheduler = ExponentialLR(optimizer, gamma=0.5)
    scheduler.step()
    optimizer.param_groups[0]["lr"] = 0.1  # e.g. set by hand, or by ReduceLROnPlateau
    scheduler.step()
    assert scheduler.get_last_lr() == [0.05]


def test_state_dict_resumes_the_schedule():
    scheduler = CosineAnnealingLR(make_optimizer(), T_max=10)
    schedule(scheduler, 4)
    saved = scheduler.state_dict()
    assert "optimizer" not in saved and saved["last_epoch"] == 4
    optimizer = make_optimizer()
    optimizer.param_groups[0]["lr"] = scheduler.get_last_lr()[0]
    resumed = CosineAnnealingLR(optimizer, T_max=10)
    resumed.load_state_dict(saved)
    assert schedule(resumed, 4) == schedule(scheduler, 4)


def test_resuming_needs_initial_lr():
    with pytest.raises(KeyError, match="initial_lr"):
        ExponentialLR(make_optimizer(), gamma=0.9, last_epoch=3)
    optimizer = make_optimizer()
    optimizer.param_groups[0]["initial_lr"] = 1.0
    scheduler = ExponentialLR(optimizer, gamma=0.5, last_epoch=3)
    assert scheduler.last_epoch == 4 and scheduler.get_last_lr() == [0.1]


def test_get_last_lr_is_a_copy():
    scheduler = StepLR(make_optimizer(), step_size=1)
    scheduler.get_last_lr().append(5.0)
    assert scheduler.get_last_lr() == [0.1]


def test_plateau_reduces_after_patience_bad_epochs():
    optimizer = make_optimizer((1.0,))
    scheduler = ReduceLROnPlateau(optimizer, patience=2, factor=0.5)
    lrs = []
    for loss in [1.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.4]:
        scheduler.step(loss)
        lrs.append(scheduler.get_last_lr()[0])
    # the 3rd epoch in a row without improvement (> patience=2) halves the rate
    assert lrs == [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25]
    assert scheduler.best == 0.4 and scheduler.last_epoch == 9


def test_plateau_threshold_cooldown_and_min_lr():
    optimizer = make_optimizer((1.0,))
    scheduler = ReduceLROnPlateau(
        optimizer, patience=0, factor=0.1, cooldown=1, min_lr=0.005, threshold=0.1
    )
    lrs = []
    for loss in [1.0, 0.95, 0.95, 0.5, 0.49, 0.49, 0.49]:
        scheduler.step(loss)
        lrs.append(scheduler.get_last_lr()[0])
    # 0.95 is not 10% better than 1.0: reduce; the next bad epoch is in cooldown; 0.5 improves;
    # 0.49 is not 10% better than 0.5: reduce, but not below min_lr
    assert lrs == pytest.approx([1.0, 0.1, 0.1, 0.1, 0.01, 0.01, 0.005])


def test_plateau_max_mode():
    scheduler = ReduceLROnPlateau(make_optimizer((1.0,)), mode="max", patience=0)
    scheduler.step(0.5)
    scheduler.step(0.6)
    assert scheduler.get_last_lr() == [1.0]
    scheduler.step(0.6)
    assert scheduler.get_last_lr() == pytest.approx([0.1])


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda o: StepLR(o, step_size=0), "step_size=0"),
        (lambda o: ExponentialLR(o, gamma=-0.5), "gamma=-0.5"),
        (lambda o: CosineAnnealingLR(o, T_max=0), "T_max=0"),
        (lambda o: ReduceLROnPlateau(o, factor=1.0), "factor=1.0"),
        (lambda o: ReduceLROnPlateau(o, mode="lowest"), "mode='lowest'"),
        (lambda o: ReduceLROnPlateau(o, threshold_mode="pct"), "threshold_mode='pct'"),
        (lambda o: ReduceLROnPlateau(o, min_lr=[0.0, 0.1]), "min_lr has 2 values for 1 groups"),
    ],
)
def test_invalid_arguments_raise(make: Any, message: str):
    with pytest.raises(ValueError, match=message.replace("[", r"\[")):
        make(make_optimizer())


def test_scheduler_needs_an_optimizer():
    with pytest.raises(TypeError, match="is not an Optimizer"):
        ExponentialLR([0.1], gamma=0.5)


# ------------------------------------------------------------------------------ PyTorch oracle
TORCH_CASES = [
    ("ExponentialLR", {"gamma": 0.9}),
    ("StepLR", {"step_size": 3, "gamma": 0.3}),
    ("StepLR", {"step_size": 1}),
    ("CosineAnnealingLR", {"T_max": 7}),
    ("CosineAnnealingLR", {"T_max": 4, "eta_min": 0.02}),
]


@pytest.mark.parametrize(("name", "options"), TORCH_CASES)
def test_same_rates_as_torch(name: str, options: dict[str, Any]):
    torch = pytest.importorskip("torch")
    from retroprop.optim import lr_scheduler

    lrs = (0.1, 0.5)
    ours = getattr(lr_scheduler, name)(make_optimizer(lrs), **options)
    groups = [{"params": [torch.zeros(1, requires_grad=True)], "lr": lr} for lr in lrs]
    theirs = getattr(torch.optim.lr_scheduler, name)(torch.optim.SGD(groups), **options)
    np.testing.assert_allclose(schedule(ours, 25), schedule(theirs, 25), rtol=1e-12, atol=1e-15)
    assert ours.last_epoch == theirs.last_epoch == 25


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"patience": 2, "factor": 0.5},
        {"patience": 1, "cooldown": 2, "min_lr": 0.01, "threshold": 0.05},
        {"mode": "max", "patience": 1, "threshold_mode": "abs", "threshold": 0.01},
        {"patience": 0, "threshold_mode": "abs", "min_lr": [0.05, 0.0], "eps": 0.02},
    ],
)
def test_plateau_same_rates_as_torch(options: dict[str, Any]):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    metrics = np.concatenate([np.linspace(1.0, 0.5, 10), 0.5 + 0.02 * rng.standard_normal(40)])
    lrs = (0.1, 0.5)
    ours = ReduceLROnPlateau(make_optimizer(lrs), **options)
    groups = [{"params": [torch.zeros(1, requires_grad=True)], "lr": lr} for lr in lrs]
    theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(torch.optim.SGD(groups), **options)
    ours_lrs, theirs_lrs = [], []
    for metric in metrics:
        ours.step(float(metric))
        theirs.step(float(metric))
        ours_lrs.append(ours.get_last_lr())
        theirs_lrs.append(theirs.get_last_lr())
    np.testing.assert_allclose(ours_lrs, theirs_lrs, rtol=1e-12)
    assert ours_lrs[-1] != ours_lrs[0]  # the schedule did reduce
