"""Backprop's gradients against central finite differences, in float64, for every pairing."""
import numpy as np
import pytest

from core import Network, activations, gradcheck, io, losses

HIDDEN = [name for name in activations.ACTIVATIONS if name != "softmax"]
SQUARED = ("mse", "half_squared_error")
PAIRINGS = ([(loss, out) for loss in SQUARED for out in HIDDEN + ["softmax"]]
            + [("bce", "sigmoid"), ("cross_entropy", "softmax")])


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


def _torch_squared_error(torch, loss, prediction, target):
    if loss == "mse":
        return torch.nn.MSELoss()(prediction, target)
    return torch.nn.MSELoss(reduction="sum")(prediction, target) / (2 * len(target))  # ½‖ŷ − y‖², mean over samples


@pytest.mark.parametrize("loss", SQUARED)
@pytest.mark.parametrize("activation", list(activations.ACTIVATIONS))
def test_squared_errors_match_pytorch_for_every_activation(loss, activation):
    """Loss and every gradient equal autograd's through torch's own modules, hidden and output."""
    torch = pytest.importorskip("torch")
    hidden = "tanh" if activation == "softmax" else activation  # softmax is for the output layer only
    net = Network(3, [(5, hidden), (4, hidden), (3, activation)], seed=4)
    X, Y = _data("mse", 3, seed=5)
    value, grads = net.loss_and_gradients(X, Y, loss)
    model = eval(io.torch_recipe(net), {"torch": torch}).double()  # the same Sequential as the export
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    with torch.no_grad():
        for linear, layer in zip(linears, net.layers):
            linear.weight.copy_(torch.from_numpy(layer.kernel.T))
            linear.bias.copy_(torch.from_numpy(layer.bias))
    expected = _torch_squared_error(torch, loss, model(torch.from_numpy(X)), torch.from_numpy(Y))
    expected.backward()
    assert value == pytest.approx(expected.item(), rel=1e-12)
    for linear, (d_kernel, d_bias) in zip(linears, grads):
        np.testing.assert_allclose(d_kernel, linear.weight.grad.numpy().T, rtol=1e-10, atol=1e-15)
        np.testing.assert_allclose(d_bias, linear.bias.grad.numpy(), rtol=1e-10, atol=1e-15)


def test_half_squared_error_is_the_mse_times_half_the_outputs():
    """½‖ŷ − y‖² summed over k outputs and averaged over samples is k/2 times the mse over samples × outputs."""
    net = Network(3, [(4, "tanh"), (3, "linear")], seed=0)
    X, Y = _data("mse", 3)
    mse, mse_grads = net.loss_and_gradients(X, Y, "mse")
    mse_grads = [(k.copy(), b.copy()) for k, b in mse_grads]
    half, half_grads = net.loss_and_gradients(X, Y, "half_mse")
    assert half == pytest.approx(1.5 * mse, rel=1e-14)
    for (k_mse, b_mse), (k_half, b_half) in zip(mse_grads, half_grads):
        np.testing.assert_allclose(k_half, 1.5 * k_mse, rtol=1e-13)
        np.testing.assert_allclose(b_half, 1.5 * b_mse, rtol=1e-13)


@pytest.mark.parametrize("name", ["half_squared_error", "half_mse", "Half_Squared", " HALF_MSE "])
def test_half_squared_error_answers_to_the_names_users_type(name):
    assert losses.get(name) is losses.LOSSES["half_squared_error"]


@pytest.mark.parametrize("loss", ["mse", "half_squared_error", "bce"])
def test_one_label_per_sample_on_several_outputs_is_compared_one_hot(loss):
    """Squared error on a 3-class softmax (or 3 sigmoids): labels become one-hot rows, never broadcast."""
    output = "sigmoid" if loss == "bce" else "softmax"
    net = Network(3, [(4, "tanh"), (3, output)], seed=0)
    X, labels = _data("cross_entropy", 3)
    from_labels, _ = net.loss_and_gradients(X, labels, loss)
    from_one_hot, _ = net.loss_and_gradients(X, np.eye(3)[labels], loss)
    assert from_labels == from_one_hot
    assert gradcheck.check(net, X, labels, loss) < 1e-6
    with pytest.raises(ValueError, match=r"labels must be integers in \[0, 3\)"):
        net.loss_and_gradients(X, labels + 0.5, loss)
    with pytest.raises(ValueError, match=r"targets of shape \(n_samples, 3\), got \(7, 2\)"):
        net.loss_and_gradients(X, np.zeros((7, 2)), loss)


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


# --- the per-layer report of Check gradients ----------------------------------------------------
@pytest.mark.parametrize("hidden", HIDDEN)
@pytest.mark.parametrize("loss, output", [("mse", "linear"), ("half_squared_error", "sigmoid"), ("bce", "sigmoid"),
                                          ("cross_entropy", "softmax")])
def test_the_report_reads_excellent_on_a_correct_network(hidden, loss, output):
    n_out = 3 if output == "softmax" else 1
    net = Network(3, [(6, hidden), (5, hidden), (n_out, output)], seed=3)
    X, Y = _data(loss, n_out, seed=1)
    report = gradcheck.report(net, X, Y, loss)
    assert [layer.index for layer in report.layers] == [0, 1, 2] and report.n_samples == 4
    for layer in report.layers:
        assert layer.error < 1e-7 and layer.reading == "excellent", layer


def test_the_report_names_the_layer_whose_gradient_is_broken(monkeypatch):
    """tanh′ written as 1 − a instead of 1 − a²: the tanh layer reads wrong, the linear output stays excellent."""
    monkeypatch.setattr(activations.Tanh, "backward", lambda self, z, a, grad_a: grad_a * (1.0 - a))
    net = Network(3, [(6, "tanh"), (1, "linear")], seed=0)
    X, Y = _data("mse", 1)
    report = gradcheck.report(net, X, Y, "half_squared_error")
    assert report.layers[0].reading == "wrong" and report.layers[0].error > 1e-2
    assert report.layers[1].reading == "excellent"
    assert report.reading == "wrong"


def test_a_slightly_wrong_gradient_reads_doubtful():
    """A loss whose dJ/dŷ is 0.5 % too large: every layer off by 0.5 %, relative error about 2.5e-3."""
    class Skewed(losses.HalfSquaredError):
        def grad_output(self, a, Y):
            return 1.005 * super().grad_output(a, Y)

    net = Network(3, [(4, "sigmoid"), (1, "linear")], seed=0)
    X, Y = _data("mse", 1)
    report = gradcheck.report(net, X, Y, Skewed())
    assert [layer.reading for layer in report.layers] == ["doubtful", "doubtful"]
    assert report.layers[0].error == pytest.approx(0.005 / 2.005, rel=1e-3)


@pytest.mark.parametrize("error, word", [(3e-9, "excellent"), (2e-6, "good"), (5e-3, "doubtful"), (0.2, "wrong"),
                                         (float("nan"), "wrong")])
def test_readings_in_plain_words(error, word):
    assert gradcheck.reading(error)[0] == word


def test_the_report_runs_in_steps_can_stop_anywhere_and_never_touches_the_network():
    net = Network(3, [(40, "tanh"), (3, "softmax")], seed=0, dtype="float32")
    X, labels = _data("cross_entropy", 3)
    weights = net.get_weights()
    progress = list(gradcheck.steps(net, X, labels, "cross_entropy", max_entries=20))
    # layer 0: 20 of 120 kernel entries, 20 of 40 biases; output: 20 of 120, all 3 biases
    assert [p.done for p in progress] == list(range(1, 64)) and {p.total for p in progress} == {63}
    assert all(p.report is None for p in progress[:-1])
    assert [layer.compared for layer in progress[-1].report.layers] == [40, 23]
    assert progress[-1].report.reading == "excellent"  # on a float64 copy of the float32 network
    stopped = gradcheck.steps(net, X, labels, "cross_entropy")
    assert next(stopped).done == 1
    stopped.close()
    for (kernel, bias), (kept_kernel, kept_bias) in zip(net.get_weights(), weights):
        np.testing.assert_array_equal(kernel, kept_kernel)
        np.testing.assert_array_equal(bias, kept_bias)
    assert net.dtype == np.float32
