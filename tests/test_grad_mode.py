"""no_grad, enable_grad and set_grad_enabled behave as in PyTorch."""

from __future__ import annotations

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
