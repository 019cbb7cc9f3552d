import numpy as np
import pytest

from core import Network


def test_layers_have_keras_shapes_and_predict_batches():
    net = Network(n_inputs=2, layers=[(8, "tanh"), (8, "tanh"), (1, "sigmoid")], seed=0)
    assert [layer.kernel.shape for layer in net.layers] == [(2, 8), (8, 8), (8, 1)]
    assert [layer.bias.shape for layer in net.layers] == [(8,), (8,), (1,)]
    assert net.layers[0].kernel.dtype == np.float64
    assert net.predict(np.zeros((5, 2))).shape == (5, 1)


def test_predict_is_z_equals_x_w_plus_b_layer_by_layer():
    net = Network(3, [(4, "relu"), (2, "linear")], seed=3)
    X = np.random.default_rng(0).normal(size=(6, 3))
    hidden = np.maximum(X @ net.layers[0].kernel + net.layers[0].bias, 0)
    np.testing.assert_allclose(net.predict(X), hidden @ net.layers[1].kernel + net.layers[1].bias)


def test_same_seed_same_network_and_other_seed_differs():
    a, b, c = (Network(2, [(8, "tanh"), (1, "sigmoid")], seed=s) for s in (7, 7, 8))
    np.testing.assert_array_equal(a.layers[0].kernel, b.layers[0].kernel)
    assert not np.array_equal(a.layers[0].kernel, c.layers[0].kernel)


def test_he_initialisation_for_relu_and_glorot_for_tanh():
    relu = Network(400, [(400, "relu"), (1, "linear")], seed=0).layers[0].kernel
    tanh = Network(400, [(400, "tanh"), (1, "linear")], seed=0).layers[0].kernel
    assert relu.var() == pytest.approx(2 / 400, rel=0.05)
    assert tanh.var() == pytest.approx(2 / 800, rel=0.05)


def test_float32_network_computes_in_float32():
    net = Network(2, [(4, "tanh"), (1, "sigmoid")], seed=0, dtype=np.float32)
    assert net.predict(np.ones((3, 2))).dtype == np.float32
    _, grads = net.loss_and_gradients(np.ones((3, 2)), np.ones((3, 1)), "bce")
    assert grads[0][0].dtype == np.float32


@pytest.mark.parametrize("layers, message", [
    ([(4, "tanhh"), (1, "linear")], "unknown activation 'tanhh'"),
    ([(4, "softmax"), (2, "softmax")], "softmax is for the output layer only"),
    ([(0, "tanh"), (1, "linear")], "layer 0 units must be from 1 to 100,000, got 0"),
    ([], "at least one layer"),
])
def test_bad_architectures_are_refused_clearly(layers, message):
    with pytest.raises(ValueError, match=message):
        Network(2, layers)


@pytest.mark.parametrize("loss, output, message", [
    ("bce", "tanh", "needs a sigmoid output"),
    ("cross_entropy", "sigmoid", "needs a softmax output"),
    ("hinge", "linear", "unknown loss"),
])
def test_loss_output_pairings_that_make_no_sense_are_refused(loss, output, message):
    net = Network(2, [(2 if output != "sigmoid" else 1, output)])
    with pytest.raises(ValueError, match=message):
        net.loss_and_gradients(np.zeros((1, 2)), np.zeros((1, net.n_outputs)), loss)


def test_set_weights_checks_shapes_and_copy_is_independent():
    net = Network(2, [(3, "tanh"), (1, "linear")], seed=0)
    with pytest.raises(ValueError, match="layer 0"):
        net.set_weights([(np.zeros((3, 3)), np.zeros(3)), (np.zeros((3, 1)), np.zeros(1))])
    twin = net.copy()
    twin.layers[0].kernel += 1
    assert not np.array_equal(twin.layers[0].kernel, net.layers[0].kernel)
