"""no_grad, enable_grad and set_grad_enabled behave as in PyTorch."""

from __future__ import annotations

import numpy as np

import retroprop as rp


def test_no_grad_as_bare_decorator_and_called_decorator():
    w = rp.tensor([1.0], requires_grad=True)

    @rp.no_grad
    def bare():
        return w * 2

    @rp.no_grad()
    def called():
        return w * 2

    assert not bare().requires_grad
    assert not called().requires_grad
    assert (w * 2).requires_grad


def test_enable_grad_inside_no_grad():
    w = rp.tensor([1.0], requires_grad=True)
    with rp.no_grad():
        with rp.enable_grad():
            assert (w * 2).requires_grad
        assert not (w * 2).requires_grad


def test_set_grad_enabled_as_function_and_context():
    w = rp.tensor([1.0], requires_grad=True)
    rp.set_grad_enabled(False)
    try:
        assert not (w * 2).requires_grad
    finally:
        rp.set_grad_enabled(True)
    assert (w * 2).requires_grad
    with rp.set_grad_enabled(False):
        assert not rp.is_grad_enabled()
    assert rp.is_grad_enabled()


def test_mode_is_restored_after_an_exception():
    try:
        with rp.no_grad():
            raise KeyError("boom")
    except KeyError:
        pass
    assert rp.is_grad_enabled()


def test_grad_mode_is_per_thread():
    # A thread inside no_grad (validating) must not stop another thread's graph (a fit run in
    # threads by joblib's Dask backend failed with "backward() on a tensor that does not
    # require grad" when grad mode was one process-wide switch).
    import threading

    inside, release = threading.Event(), threading.Event()

    def hold_no_grad():
        with rp.no_grad():
            inside.set()
            release.wait(5)

    holder = threading.Thread(target=hold_no_grad)
    holder.start()
    try:
        assert inside.wait(5)
        w = rp.tensor([1.0, 2.0], requires_grad=True)
        y = (w * w).sum()
        assert rp.is_grad_enabled() and y.requires_grad
        y.backward()
        np.testing.assert_array_equal(w.grad, [2.0, 4.0])
    finally:
        release.set()
        holder.join()
    seen = []
    with rp.no_grad():  # and a new thread starts with grad mode on, whatever this one's is
        thread = threading.Thread(target=lambda: seen.append(rp.is_grad_enabled()))
        thread.start()
        thread.join()
    assert seen == [True]
