"""The benchmark's hand-written NumPy loop does the Trainer's maths, so its speed ratio compares like with like.

No timing here: only that both end on the same weights and epoch statistics after the same steps.
"""
import importlib.util
import itertools
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_training.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_training", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(spec.name, None)


@pytest.mark.parametrize("key, samples, steps", [
    ("small", None, 60),  # 25 steps an epoch: two reshuffles
    ("large", 300, 7),  # batches of 128, 128 and 44: a short last batch, two reshuffles
])
def test_numpy_loop_ends_on_the_trainers_weights(bench, key, samples, steps):
    case = bench.CASE_BY_KEY[key]
    X, Y, X_test, Y_test = bench.make_data(case)
    X, Y = X[:samples], Y[:samples]
    net = bench.make_network(case, X.shape[1])
    initial = net.get_weights()
    runner = bench.make_trainer(case, net).run(X, Y, X_test, Y_test)  # as benchmarked: with a test set
    epochs = [event for event in itertools.islice(runner, steps) if event is not None]
    runner.close()

    weights, loss, figures = bench.numpy_sgd(X, Y, initial, case.activation, case.output, bench.LEARNING_RATE,
                                    case.batch_size, steps, X_test=X_test, Y_test=Y_test)

    assert np.isfinite(loss)
    last = epochs[-1]  # the statistics of the last whole epoch agree too
    expected = (last.train_loss, last.train_accuracy, last.test_loss, last.test_accuracy)
    np.testing.assert_allclose(figures, expected, rtol=1e-10 if case.dtype == "float64" else 1e-4)
    rtol = 1e-10 if case.dtype == "float64" else 1e-5
    for (kernel, bias), (expected_kernel, expected_bias), (kernel0, _) in zip(weights, net.get_weights(), initial):
        assert kernel.dtype == expected_kernel.dtype == np.dtype(case.dtype)
        np.testing.assert_allclose(kernel, expected_kernel, rtol=rtol, atol=1e-12)
        np.testing.assert_allclose(bias, expected_bias, rtol=rtol, atol=1e-12)
        assert not np.allclose(kernel, kernel0)  # training moved the weights: the comparison is not vacuous


def test_numpy_loop_leaves_its_starting_weights_alone(bench):
    case = bench.CASE_BY_KEY["small"]
    X, Y, _, _ = bench.make_data(case)
    initial = bench.make_network(case, X.shape[1]).get_weights()
    before = [(k.copy(), b.copy()) for k, b in initial]
    bench.numpy_sgd(X, Y, initial, case.activation, case.output, bench.LEARNING_RATE, case.batch_size, 5)
    for (k, b), (k0, b0) in zip(initial, before):
        np.testing.assert_array_equal(k, k0)
        np.testing.assert_array_equal(b, b0)
