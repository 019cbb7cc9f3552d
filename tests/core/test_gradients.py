"""Backprop's gradients against central finite differences, in float64, for every pairing."""
import numpy as np
import pytest

from core import Network, activations, gradcheck

HIDDEN = [name for name in activations.ACTIVATIONS if name != "softmax"]
PAIRINGS = [("mse", out) for out in HIDDEN + ["softmax"]] + [("bce", "sigmoid"), ("cross_entropy", "softmax")]


def _data(loss, n_out, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(7, 3))
    if loss == "cross_entropy":
        return X, rng.integers(0, n_out, size=7)
    return X, rng.uniform(0, 1, size=(7, n_out))


@pytest.mark.parametrize("hidden", HIDDEN)
@pytest.mark.parametrize("loss, output", PAIRINGS)
def test_backprop_matches_finite_differences(hidden, loss, output):
    n_out = 3 if output == "softmax" else 2
    net = Network(3, [(5, hidden), (4, hidden), (n_out, output)], seed=1)
    X, Y = _data(loss, n_out)
    assert gradcheck.check(net, X, Y, loss) < 1e-6


def test_one_hot_and_integer_labels_give_the_same_gradients():
    net = Network(3, [(4, "tanh"), (3, "softmax")], seed=2)
    X, labels = _data("cross_entropy", 3)
    loss_a, grads_a = net.loss_and_gradients(X, labels, "cross_entropy")
    grads_a = [(k.copy(), b.copy()) for k, b in grads_a]
    loss_b, grads_b = net.loss_and_gradients(X, np.eye(3)[labels], "cross_entropy")
    assert loss_a == pytest.approx(loss_b)
    for (ka, ba), (kb, bb) in zip(grads_a, grads_b):
        np.testing.assert_allclose(ka, kb)
        np.testing.assert_allclose(ba, bb)


def test_gradcheck_notices_a_wrong_gradient():
    net = Network(2, [(3, "tanh"), (1, "linear")], seed=0)
    X, Y = _data("mse", 1)
    X = X[:, :2]
    numeric = gradcheck.numerical_gradients(net, X, Y, "mse")
    _, analytic = net.loss_and_gradients(X, Y, "mse")
    assert gradcheck.relative_error(analytic[0][0], numeric[0][0]) < 1e-6
    assert gradcheck.relative_error(analytic[0][0] * 1.01, numeric[0][0]) > 1e-3


@pytest.mark.parametrize("name", list(activations.ACTIVATIONS))
def test_activations_stay_finite_and_silent_for_huge_inputs(name):
    z = np.array([[-1e4, -50.0, 0.0, 50.0, 1e4]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        a = activations.get(name).forward(z)
        grad = activations.get(name).backward(z, a, np.ones_like(z))
    assert np.isfinite(a).all() and np.isfinite(grad).all()


def test_stable_losses_for_huge_logits():
    net = Network(1, [(2, "softmax")], seed=0)
    net.layers[0].kernel[:] = [[1e4, -1e4]]
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss, _ = net.loss_and_gradients([[1.0]], [1], "cross_entropy")
    assert loss == pytest.approx(2e4)
    bce = Network(1, [(1, "sigmoid")], seed=0)
    bce.layers[0].kernel[:] = [[1e4]]
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss, _ = bce.loss_and_gradients([[1.0]], [[0.0]], "bce")
    assert loss == pytest.approx(1e4)


@pytest.mark.parametrize("alias, name", [("identity", "linear"), ("logistic", "sigmoid"), ("SiLU", "swish")])
def test_activation_aliases(alias, name):
    assert Network(1, [(1, alias)]).layers[0].activation.name == name
