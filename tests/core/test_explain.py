import numpy as np
import pytest

from core import Network, explain


@pytest.mark.parametrize("loss, output, target", [
    ("mse", "linear", [0.3]), ("half_squared_error", "linear", [0.3]), ("half_squared_error", "sigmoid", [1.0]),
    ("bce", "sigmoid", [1.0]), ("cross_entropy", "softmax", 2), ("mse", "softmax", 2)])
def test_the_chain_rule_trace_multiplies_out_to_backprop(loss, output, target):
    n_out = 3 if output == "softmax" else 1
    net = Network(2, [(4, "tanh"), (3, "relu"), (n_out, output)], seed=0)
    x = np.array([0.7, -1.2])
    trace = explain.chain_rule(net, x, target, loss)
    _, grads = net.loss_and_gradients(x[None], [target] if n_out > 1 else np.atleast_2d(target), loss)
    assert [t.d_kernel.shape for t in trace.layers] == [(2, 4), (4, 3), (3, n_out)]
    for t, (d_kernel, d_bias) in zip(trace.layers, grads):
        np.testing.assert_allclose(t.d_kernel, d_kernel)
        np.testing.assert_allclose(t.d_bias, d_bias)
        np.testing.assert_allclose(t.d_kernel, np.outer(t.a_prev, t.grad_z))  # dJ/dW = a_prevᵀ·dJ/dz
        if t.local is not None:
            np.testing.assert_allclose(t.grad_z, t.grad_a * t.local)  # dJ/dz = dJ/da ⊙ f'(z)
    for lower, upper in zip(trace.layers, trace.layers[1:]):
        np.testing.assert_allclose(lower.grad_a, upper.grad_a_prev)  # what flows down is the next upstream
    np.testing.assert_allclose(trace.prediction, net.predict(x)[0])


def test_the_trace_leaves_the_network_untouched():
    net = Network(2, [(3, "tanh"), (1, "sigmoid")], seed=0)
    net.forward(np.zeros((5, 2)))
    before = net.layers[0].z.copy()
    explain.chain_rule(net, [1.0, 2.0], [1.0], "bce")
    np.testing.assert_array_equal(net.layers[0].z, before)


@pytest.mark.parametrize("loss, formula, factor", [("mse", "2(ŷ − y)/n", 2.0), ("half_squared_error", "(ŷ − y)/n", 1.0)])
def test_the_chain_starts_from_the_losss_own_derivative(loss, formula, factor):
    """One sample, one output: dJ/dŷ is 2(ŷ − y) for mse and the lessons' a − y for ½ squared error."""
    net = Network(2, [(3, "tanh"), (1, "linear")], seed=0)
    trace = explain.chain_rule(net, [0.7, -1.2], [0.3], loss)
    assert trace.formula == formula
    np.testing.assert_allclose(trace.layers[-1].grad_a, factor * (trace.prediction - 0.3))
