"""The one inference helper: eval mode, no graph, chunked, every module's mode restored."""

import numpy as np

import retroprop as rp
from retroprop import nn
from retroprop.nn.inference import evaluating, in_mode, iter_outputs, predict


def _model():
    rp.manual_seed(0)
    return nn.Sequential(
        nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Dropout(0.5), nn.Linear(4, 2)
    )


def test_predict_in_chunks_equals_one_pass():
    model = _model()
    X = np.random.default_rng(0).normal(size=(23, 3)).astype(np.float32)
    whole = predict(model, X, chunk_rows=1000)
    chunked = predict(model, X, chunk_rows=5)
    np.testing.assert_array_equal(whole, chunked)
    assert chunked.dtype == np.float32 and chunked.shape == (23, 2)


def test_modes_restored_even_when_mixed_and_on_error():
    model = _model()
    model[1].eval()  # a frozen BatchNorm1d inside a training model
    before = [m.training for m in model.modules()]
    try:
        with evaluating(model):
            assert not any(m.training for m in model.modules())
            assert not rp.is_grad_enabled()
            raise RuntimeError("inside")
    except RuntimeError:
        pass
    assert [m.training for m in model.modules()] == before
    assert rp.is_grad_enabled()


def test_outputs_record_no_graph():
    model = _model()
    X = np.ones((4, 3), np.float32)
    for rows, output in iter_outputs(model, X, chunk_rows=3):
        assert not output.requires_grad
        assert output.shape[0] == rows.stop - rows.start


def test_zero_rows():
    assert predict(_model(), np.zeros((0, 3), np.float32)).shape == (0, 2)


def test_in_mode_training_restores_each_module():
    model = _model().eval()
    model[3].train()  # one Dropout left in training mode
    before = [m.training for m in model.modules()]
    with in_mode(model, True):
        assert all(m.training for m in model.modules())
    assert [m.training for m in model.modules()] == before
