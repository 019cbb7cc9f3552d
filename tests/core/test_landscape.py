"""The loss landscape: planes through the current weights, the grid's centre, the path, stopping."""
import numpy as np
import pytest

from core import Network
from core.checkpoints import CheckpointStore
from core.landscape import (Plane, axis, extents, flatten, landscape, pca_plane, random_plane, shapes_of,
                            unflatten)
from core.spec import DataSpec, NetworkSpec, TrainingConfig, prepare


def _trained(epochs=40, dtype="float64", hidden=((4, "tanh"), (2, "tanh")), data=DataSpec()):
    """The app's default problem trained a while, with a checkpoint at every epoch."""
    problem = prepare(data)
    net = NetworkSpec(hidden=hidden, dtype=dtype).build(problem)
    trainer = TrainingConfig(optimizer="adam", learning_rate=0.01).build(net, problem)
    store = CheckpointStore()
    store.add(0, net.get_weights())
    trainer.fit(problem.X_train, problem.Y_train, epochs, callback=lambda s: store.add(s.epoch, net.get_weights()))
    return problem, net, trainer, store


def _path(store):
    return [checkpoint.weights for checkpoint in store]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("kind", ["pca", "random"])
def test_the_centre_of_the_grid_is_the_current_cost_exactly(dtype, kind):
    problem, net, trainer, store = _trained(dtype=dtype)
    plane = pca_plane(_path(store), net.get_weights()) if kind == "pca" else random_plane(net.get_weights(), seed=1)
    grids = list(landscape(net, trainer.loss.name, problem.X_train, problem.Y_train, plane, axis(2.0, 5), axis(1.0, 7)))
    cost, _ = trainer.evaluate(net.check_inputs(problem.X_train), trainer.targets(problem.Y_train))
    final = grids[-1]
    assert final.costs.shape == (7, 5) and final.costs[3, 2] == cost
    assert np.isfinite(final.costs).all() and len(np.unique(final.costs)) == 35  # the cost does vary over the plane
    assert [g.rows_done for g in grids] == list(range(1, 8)) and final.progress == 1.0


def test_every_point_is_the_cost_of_the_weights_there():
    problem, net, trainer, store = _trained()
    plane = random_plane(net.get_weights(), seed=4)
    final = list(landscape(net, "bce", problem.X_train, problem.Y_train, plane, axis(1.0, 3), axis(0.5, 3)))[-1]
    X, Y = net.check_inputs(problem.X_train), trainer.targets(problem.Y_train)
    for i, y in enumerate(final.ys):
        for j, x in enumerate(final.xs):
            net.set_weights(plane.weights_at(x, y))
            assert final.costs[i, j] == pytest.approx(trainer.evaluate(X, Y)[0], rel=1e-12)


def test_the_path_ends_at_the_origin_and_principal_directions_fit_it():
    problem, net, trainer, store = _trained()
    plane = pca_plane(_path(store), net.get_weights())
    path = plane.project(_path(store))
    assert path.shape == (41, 2) and np.array_equal(path[-1], [0.0, 0.0])
    assert path[0, 0] < 0 and path[0, 1] < 0  # the start falls at negative coordinates
    np.testing.assert_allclose(plane.directions @ plane.directions.T, np.eye(2), atol=1e-12)  # orthonormal
    assert plane.explained[0] >= plane.explained[1] > 0 and sum(plane.explained) <= 1 + 1e-12
    offsets = np.array([flatten(w) for w in _path(store)]) - plane.center
    residual = offsets - path @ plane.directions
    assert np.sum(residual ** 2) == pytest.approx((1 - sum(plane.explained)) * np.sum(offsets ** 2))
    x_reach, y_reach = extents(path)
    assert x_reach > np.abs(path[:, 0]).max() and y_reach > np.abs(path[:, 1]).max()


def test_a_path_within_a_plane_is_found_exactly():
    rng = np.random.default_rng(0)
    center = Network(3, [(5, "tanh"), (2, "linear")], seed=0).get_weights()
    u, v = np.linalg.qr(rng.normal(size=(len(flatten(center)), 2)))[0].T
    coords = np.array([[-3.0, -1.0], [-2.0, 0.5], [-1.0, -0.25], [0.0, 0.0]])
    path = [unflatten(flatten(center) + a * u + b * v, shapes_of(center)) for a, b in coords]
    plane = pca_plane(path, center)
    assert sum(plane.explained) == pytest.approx(1.0)
    projected = plane.project(path)
    np.testing.assert_allclose(np.linalg.norm(projected, axis=1), np.linalg.norm(coords, axis=1))  # the same plane
    np.testing.assert_allclose(Plane(plane.center, np.array([u, v]), plane.shapes).project(path), coords, atol=1e-12)


def test_random_directions_are_filter_normalised_and_seeded():
    center = Network(2, [(6, "relu"), (3, "softmax")], seed=3).get_weights()
    plane = random_plane(center, seed=7)
    for direction in plane.directions:
        for (d_kernel, d_bias), (kernel, _) in zip(unflatten(direction, plane.shapes), center):
            np.testing.assert_allclose(np.linalg.norm(d_kernel, axis=0), np.linalg.norm(kernel, axis=0))
            assert not d_bias.any()  # biases are not moved
    assert np.array_equal(random_plane(center, seed=7).directions, plane.directions)
    assert not np.array_equal(random_plane(center, seed=8).directions, plane.directions)
    assert abs(np.dot(*plane.directions)) < np.linalg.norm(plane.directions[0]) ** 2  # two different directions


def test_stopping_between_rows_stops_the_work(monkeypatch):
    problem, net, trainer, store = _trained(epochs=3)
    calls = []
    forward_loss = Network.forward_loss
    monkeypatch.setattr(Network, "forward_loss", lambda self, *a: calls.append(1) or forward_loss(self, *a))
    grids = landscape(net, "bce", problem.X_train, problem.Y_train, pca_plane(_path(store), net.get_weights()),
                      axis(1.0, 9), axis(1.0, 11))
    assert calls == []  # nothing happens before the first row is asked for
    taken = [next(grids) for _ in range(3)]
    grids.close()
    assert len(calls) == 3 * 9 and taken[-1].rows_done == 3 and taken[-1].progress == 3 / 11
    assert np.isfinite(taken[-1].costs[:3]).all() and np.isnan(taken[-1].costs[3:]).all()
    assert np.isnan(taken[0].costs[1:]).all()  # each yield is a copy: later rows did not write into it


def test_the_weights_of_the_network_passed_are_never_read():
    problem, net, trainer, store = _trained(epochs=3)
    plane = random_plane(net.get_weights())
    first = list(landscape(net, "bce", problem.X_train, problem.Y_train, plane, axis(1.0, 3), axis(1.0, 3)))[-1]
    for layer in net.layers:
        layer.kernel[...] = np.nan  # as if training changed them meanwhile
    again = list(landscape(net, "bce", problem.X_train, problem.Y_train, plane, axis(1.0, 3), axis(1.0, 3)))[-1]
    np.testing.assert_array_equal(first.costs, again.costs)


def test_large_training_sets_are_sampled():
    problem, net, trainer, store = _trained(epochs=2, data=DataSpec(n_samples=3000, test_fraction=0.2))
    plane = random_plane(net.get_weights())
    full = list(landscape(net, "bce", problem.X_train, problem.Y_train, plane, axis(1.0, 3), axis(1.0, 3)))[-1]
    sampled = list(landscape(net, "bce", problem.X_train, problem.Y_train, plane, axis(1.0, 3), axis(1.0, 3),
                             max_samples=500, seed=1))[-1]
    assert not np.array_equal(full.costs, sampled.costs)
    np.testing.assert_allclose(sampled.costs, full.costs, rtol=0.2)  # a fair sample of 500 of the 2,400 rows


def test_a_path_along_one_line_asks_for_random_directions():
    center = Network(2, [(3, "tanh"), (1, "linear")], seed=0).get_weights()
    line = [unflatten(flatten(center) * s, shapes_of(center)) for s in (0.5, 0.8, 1.0)]
    with pytest.raises(ValueError, match="span fewer than two directions; train longer or use random directions"):
        pca_plane(line, center)


def test_grid_axes_have_an_exact_zero_in_the_middle():
    xs = axis(0.3, 7)
    assert xs[3] == 0.0 and xs[0] == -0.3 and xs[-1] == 0.3 and np.all(np.diff(xs) > 0)
    with pytest.raises(ValueError, match="odd number of points"):
        axis(1.0, 10)
    with pytest.raises(ValueError, match="extent must be positive"):
        axis(0.0)


def test_the_callers_floating_point_error_settings_are_left_alone():
    problem, net, trainer, store = _trained(epochs=2)
    before = np.geterr()
    for _ in landscape(net, "bce", problem.X_train, problem.Y_train, random_plane(net.get_weights()), axis(50.0, 3),
                       axis(50.0, 3)):
        assert np.geterr() == before  # far out the cost overflows: only the evaluation ignores it
