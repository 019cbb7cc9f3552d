"""It learns: fixed seeds, the networks of the lessons and of CS231n."""
import numpy as np

from core import Network, Trainer, datasets
from core.spec import DataSpec, NetworkSpec, TrainingConfig, prepare


def test_xor_reaches_full_accuracy():
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    y = np.array([0, 1, 1, 0], dtype=float)
    net = Network(2, [(4, "tanh"), (1, "sigmoid")], seed=0)
    trainer = Trainer(net, loss="bce", optimizer="adam", learning_rate=0.05, batch_size=4, seed=0)
    trainer.fit(X, y, epochs=500)
    assert np.array_equal(net.predict(X).ravel() > 0.5, y > 0.5)


def test_cs231n_spiral_reaches_95_percent():
    data = datasets.make_plane("spiral3", n_samples=300, seed=0)
    assert data.X.shape == (300, 2) and np.bincount(data.y).tolist() == [100, 100, 100]
    net = Network(2, [(100, "relu"), (3, "softmax")], seed=0)
    trainer = Trainer(net, loss="cross_entropy", optimizer="sgd", learning_rate=1.0, batch_size=300,
                      regularization="l2", reg_rate=1e-3, seed=0)
    history = trainer.fit(data.X, data.y, epochs=3000)
    accuracy = np.mean(net.predict(data.X).argmax(axis=1) == data.y)
    assert accuracy >= 0.95, accuracy
    assert history.train_accuracy[-1] >= 0.9


def test_house_prices_beat_a_constant_predictor_on_the_test_set():
    problem = prepare(DataSpec(source="house_prices", test_fraction=0.2, seed=0))
    assert problem.task == "regression" and problem.n_inputs == 12
    net = NetworkSpec(hidden=[[16, "relu"], [8, "relu"]]).build(problem)
    trainer = TrainingConfig(learning_rate=0.01, optimizer="adam", batch_size=16).build(net, problem)
    trainer.fit(problem.X_train, problem.Y_train, epochs=150)
    test_mse = np.mean((net.predict(problem.X_test) - problem.Y_test) ** 2)
    constant_mse = np.mean((problem.Y_train.mean() - problem.Y_test) ** 2)
    assert test_mse < 0.35 * constant_mse, (test_mse, constant_mse)


def test_the_default_playground_problem_learns_the_circle():
    problem = prepare(DataSpec())
    net = NetworkSpec().build(problem)
    assert net.spec == [(4, "tanh"), (2, "tanh"), (1, "sigmoid")]
    trainer = TrainingConfig().build(net, problem)
    history = trainer.fit(problem.X_train, problem.Y_train, 150, problem.X_test, problem.Y_test)
    assert history.test_accuracy[-1] > 0.95


def test_iris_learns_three_classes():
    problem = prepare(DataSpec(source="iris", test_fraction=0.3, seed=1))
    assert list(problem.class_names) == ["setosa", "versicolor", "virginica"]
    net = NetworkSpec(hidden=[[8, "tanh"]]).build(problem)
    trainer = TrainingConfig(learning_rate=0.05, optimizer="adam").build(net, problem)
    history = trainer.fit(problem.X_train, problem.Y_train, 100, problem.X_test, problem.Y_test)
    assert history.test_accuracy[-1] >= 0.9
