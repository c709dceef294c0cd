"""Initialisers: formulas, statistics, fans of our (in, out) weights, defaults, determinism."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import retroprop as rp
from retroprop import nn
from retroprop.nn import init


def empty(shape, dtype=np.float32) -> rp.Tensor:
    return nn.Parameter(np.empty(shape, dtype=dtype))


def std_ratio(tensor: rp.Tensor, expected: float) -> float:
    return float(tensor.data.astype(np.float64).std() / expected)


# ------------------------------------------------------------------------ statistics
def test_he_normal_std_on_a_1000_by_1000_matrix(rng):
    w = init.kaiming_normal_(empty((1000, 1000)), nonlinearity="relu", generator=rng)
    assert abs(std_ratio(w, math.sqrt(2 / 1000)) - 1) < 0.02
    assert abs(float(w.data.mean())) < 0.01 * math.sqrt(2 / 1000)


def test_fans_follow_our_in_by_out_layout(rng):
    # (in, out) = (1000, 250): the transpose of PyTorch's (out, in).
    assert init.calculate_fans(np.empty((1000, 250))) == (1000, 250)
    w = init.kaiming_normal_(empty((1000, 250)), nonlinearity="relu", generator=rng)
    assert abs(std_ratio(w, math.sqrt(2 / 1000)) - 1) < 0.02
    w = init.kaiming_normal_(empty((1000, 250)), mode="fan_out", nonlinearity="relu", generator=rng)
    assert abs(std_ratio(w, math.sqrt(2 / 250)) - 1) < 0.02
    assert init.calculate_fans(np.empty((3, 4, 5))) == (15, 20)
    with pytest.raises(ValueError, match="at least 2 dimensions, got shape \\(5,\\)"):
        init.xavier_normal_(empty(5))


@pytest.mark.parametrize(
    ("fill", "expected_std"),
    [
        (lambda w, g: init.xavier_normal_(w, generator=g), math.sqrt(2 / 1500)),
        (lambda w, g: init.xavier_normal_(w, gain=2.0, generator=g), 2 * math.sqrt(2 / 1500)),
        # uniform on [-b, b] has std b / sqrt(3)
        (lambda w, g: init.xavier_uniform_(w, generator=g), math.sqrt(6 / 1500) / math.sqrt(3)),
        (lambda w, g: init.kaiming_uniform_(w, generator=g), math.sqrt(6 / 1000) / math.sqrt(3)),
        (
            lambda w, g: init.kaiming_normal_(w, a=0.5, generator=g),
            math.sqrt(2 / (1 + 0.25)) / math.sqrt(1000),
        ),
        (lambda w, g: init.lecun_normal_(w, generator=g), math.sqrt(1 / 1000)),
        (lambda w, g: init.standard_(w, generator=g), 1 / math.sqrt(1000) / math.sqrt(3)),
        (lambda w, g: init.normal_(w, generator=g), 1.0),
        (lambda w, g: init.normal_(w, mean=3.0, std=0.5, generator=g), 0.5),
        (lambda w, g: init.uniform_(w, -2.0, 2.0, generator=g), 4 / math.sqrt(12)),
    ],
)
def test_initialiser_std(rng, fill, expected_std):
    w = fill(empty((1000, 500)), rng)
    assert abs(std_ratio(w, expected_std) - 1) < 0.02


def test_uniform_bounds(rng):
    w = init.xavier_uniform_(empty((300, 100)), generator=rng)
    bound = math.sqrt(6 / 400)
    assert -bound <= w.data.min() < -0.99 * bound and 0.99 * bound < w.data.max() <= bound
    w = init.uniform_(empty((100, 100)), generator=rng)
    assert 0 <= w.data.min() and w.data.max() < 1


def test_constants_act_in_place_and_return_their_argument():
    w = empty((2, 3))
    array = w.data
    assert init.zeros_(w) is w and w.data is array and np.all(array == 0)
    assert init.ones_(w) is w and np.all(array == 1)
    assert init.constant_(w, 0.25) is w and np.all(array == 0.25)
    plain = np.empty((2, 2))
    assert init.normal_(plain) is plain
    with pytest.raises(TypeError, match="got list"):
        init.zeros_([1.0, 2.0])


def test_calculate_gain_table():
    assert init.calculate_gain("sigmoid") == 1.0
    assert init.calculate_gain("linear") == 1.0
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01**2)))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="kaiming init: mode must be 'fan_in' or 'fan_out'"):
        init.kaiming_normal_(empty((2, 2)), mode="fan_avg")


def test_initialisers_keep_the_dtype():
    for dtype in (np.float32, np.float64):
        assert init.xavier_normal_(empty((4, 4), dtype)).dtype == dtype


def test_default_generator_and_explicit_generator():
    _ = rp.manual_seed(11)
    a = init.normal_(empty((3, 3))).data.copy()
    _ = rp.manual_seed(11)
    b = init.normal_(empty((3, 3))).data.copy()
    c = init.normal_(empty((3, 3)), generator=np.random.default_rng(11)).data
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)


def test_he_normal_draws_exactly_the_course_he_init():
    def he_init(rng, fan_in, fan_out):  # deck 03, as written in the course
        std = np.sqrt(2.0 / fan_in)
        return rng.normal(0.0, std, size=(fan_in, fan_out))

    def xavier_init(rng, fan_in, fan_out):
        std = np.sqrt(2.0 / (fan_in + fan_out))
        return rng.normal(0.0, std, size=(fan_in, fan_out))

    _ = rp.manual_seed(5)
    layer = nn.Linear(2, 4, init="he_normal", dtype=np.float64)
    np.testing.assert_array_equal(layer.weight.data, he_init(np.random.default_rng(5), 2, 4))
    _ = rp.manual_seed(5)
    layer = nn.Linear(4, 1, init="xavier_normal", dtype=np.float64)
    np.testing.assert_array_equal(layer.weight.data, xavier_init(np.random.default_rng(5), 4, 1))
    np.testing.assert_array_equal(layer.bias.data, np.zeros(1))


# ------------------------------------------------------------------------ Linear's init
def test_names_and_callables_for_linear():
    _ = rp.manual_seed(0)
    big = {name: nn.Linear(1000, 500, init=name) for name in ("he_normal", "lecun_normal")}
    assert abs(std_ratio(big["he_normal"].weight, math.sqrt(2 / 1000)) - 1) < 0.02
    assert abs(std_ratio(big["lecun_normal"].weight, math.sqrt(1 / 1000)) - 1) < 0.02
    layer = nn.Linear(1000, 500, init=init.xavier_uniform_)
    assert layer.weight_init == "xavier_uniform_"
    assert abs(std_ratio(layer.weight, math.sqrt(2 / 1500)) - 1) < 0.02
    returned = nn.Linear(2, 3, init=lambda w: np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(returned.weight.data, np.arange(6.0).reshape(2, 3))
    assert returned.weight.dtype == np.float32
    with pytest.raises(ValueError, match="init returned shape \\(3, 2\\)"):
        nn.Linear(2, 3, init=lambda w: np.zeros((3, 2)))
    with pytest.raises(ValueError, match="unknown init 'he'"):
        nn.Linear(2, 3, init="he")
    assert nn.Linear(2, 3, init="glorot_uniform").weight_init == "glorot_uniform"


@pytest.mark.parametrize(
    ("activation", "expected"),
    [
        (nn.ReLU(), "he_normal"),
        (nn.LeakyReLU(0.1), "he_normal"),
        (nn.ELU(), "he_normal"),
        (nn.GELU(), "he_normal"),
        (nn.SiLU(), "he_normal"),
        (nn.Mish(), "he_normal"),
        (nn.Softplus(), "he_normal"),
        (nn.Sigmoid(), "xavier_normal"),
        (nn.Tanh(), "xavier_normal"),
        (nn.Softmax(), "xavier_normal"),
        (nn.Identity(), "xavier_normal"),
        (nn.Linear(500, 3), "xavier_normal"),
        (None, "xavier_normal"),
    ],
    ids=lambda item: type(item).__name__ if not isinstance(item, str) else item,
)
def test_default_init_follows_the_next_activation(activation, expected):
    _ = rp.manual_seed(0)
    layers = [nn.Linear(1000, 500)] + ([activation] if activation is not None else [])
    model = nn.Sequential(*layers)
    assert model[0].weight_init == expected
    std = math.sqrt(2 / 1000) if expected == "he_normal" else math.sqrt(2 / 1500)
    assert abs(std_ratio(model[0].weight, std) - 1) < 0.02
    assert np.all(model[0].bias.data == 0)


def test_default_init_looks_past_dropout_and_batch_norm():
    model = nn.mlp([20, 30, 30, 2], batch_norm=True, dropout=0.2, activation="relu")
    linears = [m for m in model if isinstance(m, nn.Linear)]
    assert [m.weight_init for m in linears] == ["he_normal", "he_normal", "xavier_normal"]
    model = nn.mlp([20, 30, 1], activation="tanh", output_activation="sigmoid")
    assert [m.weight_init for m in model if isinstance(m, nn.Linear)] == ["xavier_normal"] * 2


def test_default_init_settles_on_append_but_spares_changed_weights():
    seq = nn.Sequential(nn.Linear(100, 50))
    assert seq[0].weight_init == "xavier_normal"
    seq.append(nn.ReLU())
    assert seq[0].weight_init == "he_normal"
    seq.append(nn.Linear(50, 1))
    seq[2].weight.data[...] = 0.5  # "trained" before an activation is appended
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        seq.append(nn.Sigmoid())
    assert seq[2].weight_init == "xavier_normal" and np.all(seq[2].weight.data == 0.5)
    explicit = nn.Linear(100, 50, init="xavier_normal")
    assert nn.Sequential(explicit, nn.ReLU())[0].weight_init == "xavier_normal"


def test_zero_init_warns_that_units_stay_symmetric():
    with pytest.warns(UserWarning, match="Linear\\(2->4\\).*hidden units stay symmetric"):
        layer = nn.Linear(2, 4, init="zeros")
    assert np.all(layer.weight.data == 0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.Linear(4, 1, init="zeros")  # one unit: nothing to be symmetric with
        nn.Linear(2, 4)


def test_manual_seed_gives_bit_identical_models():
    def build():
        _ = rp.manual_seed(42)
        return nn.mlp([8, 16, 16, 3], batch_norm=True, dropout=0.1)

    first, second = build().state_dict(), build().state_dict()
    assert list(first) == list(second)
    for key in first:
        assert first[key].tobytes() == second[key].tobytes(), key
    _ = rp.manual_seed(43)
    other = nn.mlp([8, 16, 16, 3], batch_norm=True, dropout=0.1).state_dict()
    assert not np.array_equal(other["0.weight"], first["0.weight"])


def test_default_init_draws_the_same_stream_as_before():
    # Each Linear draws Glorot normal when built; the Sequential then re-draws the layers a
    # ReLU follows with He normal, in order: the bits of a seeded model depend on this order.
    _ = rp.manual_seed(3)
    model = nn.mlp([3, 4, 2])
    rng = np.random.default_rng(3)
    _first_glorot = rng.normal(0.0, math.sqrt(2 / 7), size=(3, 4))
    second = rng.normal(0.0, math.sqrt(2 / 6), size=(4, 2))
    first = rng.normal(0.0, math.sqrt(2 / 3), size=(3, 4))
    np.testing.assert_array_equal(model[0].weight.data, first.astype(np.float32))
    np.testing.assert_array_equal(model[2].weight.data, second.astype(np.float32))


def test_weights_set_or_used_before_the_sequential_is_built_are_kept():
    layer = nn.Linear(3, 2)
    layer.weight.data[...] = [[0.5, -0.5], [0.25, 0.0], [1.0, 2.0]]  # the course's numbers
    model = nn.Sequential(layer, nn.ReLU())
    assert model[0].weight_init == "xavier_normal"
    np.testing.assert_array_equal(model[0].weight.data, [[0.5, -0.5], [0.25, 0.0], [1.0, 2.0]])
    alone = nn.Sequential(nn.Linear(4, 4))
    alone(np.ones((1, 4), dtype=np.float32))  # used (trained, say) before a ReLU is appended
    before = alone[0].weight.data.copy()
    alone.append(nn.ReLU())
    assert alone[0].weight_init == "xavier_normal"
    np.testing.assert_array_equal(alone[0].weight.data, before)
