import numpy as np
import pytest

from core import DivergenceError, History, Network, Trainer


def _circle(seed=0):
    from core.spec import DataSpec, prepare
    return prepare(DataSpec(seed=seed))


def _fresh(**kwargs):
    net = Network(2, [(4, "tanh"), (2, "tanh"), (1, "sigmoid")], seed=0)
    return net, Trainer(net, loss="bce", **kwargs)


def test_training_lowers_the_cost_and_reports_each_epoch():
    p = _circle()
    _, trainer = _fresh()
    history = trainer.fit(p.X_train, p.Y_train, epochs=100, X_test=p.X_test, Y_test=p.Y_test)
    assert len(history.train_loss) == len(history.test_loss) == len(history.test_accuracy) == 100
    assert history.train_loss[-1] < 0.5 * history.train_loss[0]
    assert history.test_accuracy[-1] > 0.9


def test_the_test_set_can_be_evaluated_every_few_epochs():
    p = _circle()
    _, every_epoch = _fresh()
    _, sparse = _fresh(test_every=3)
    full = every_epoch.fit(p.X_train, p.Y_train, epochs=10, X_test=p.X_test, Y_test=p.Y_test)
    history = sparse.fit(p.X_train, p.Y_train, epochs=10, X_test=p.X_test, Y_test=p.Y_test)
    assert history.train_loss == full.train_loss  # training itself is unchanged
    assert history.test_epoch == [3, 6, 9]
    assert history.test_loss == [full.test_loss[e - 1] for e in (3, 6, 9)]


def test_histories_of_runs_join_with_their_test_epochs_numbered_on():
    p = _circle()
    _, trainer = _fresh(test_every=2)
    first = trainer.fit(p.X_train, p.Y_train, epochs=3, X_test=p.X_test, Y_test=p.Y_test)
    first.extend(trainer.fit(p.X_train, p.Y_train, epochs=4, X_test=p.X_test, Y_test=p.Y_test))
    assert len(first.train_loss) == 7 and first.test_epoch == [2, 3 + 1, 3 + 3]


def test_same_seeds_reproduce_a_run_exactly():
    p = _circle()
    runs = []
    for _ in range(2):
        net, trainer = _fresh(seed=5)
        runs.append((trainer.fit(p.X_train, p.Y_train, epochs=5).train_loss, net.get_weights()[0][0]))
    assert runs[0][0] == runs[1][0]
    np.testing.assert_array_equal(runs[0][1], runs[1][1])



def test_learning_rate_zero_is_refused_and_tiny_rate_freezes_weights():
    p = _circle()
    net, trainer = _fresh()
    with pytest.raises(ValueError, match="learning_rate must be above 0"):
        trainer.learning_rate = 0.0
    runner = trainer.run(p.X_train, p.Y_train)
    next(runner)
    trainer.learning_rate = 1e-300
    before = net.get_weights()[0][0]
    next(runner)
    np.testing.assert_allclose(net.get_weights()[0][0], before, rtol=0, atol=1e-250)
    trainer.learning_rate = 1.0
    next(runner)
    assert not np.allclose(net.get_weights()[0][0], before)


@pytest.mark.parametrize("name, value, message", [
    ("learning_rate", -1, "learning_rate"), ("learning_rate", float("nan"), "learning_rate"),
    ("learning_rate", "fast", "must be a number"), ("batch_size", 0, "batch_size"),
    ("batch_size", 2.5, "batch_size"), ("batch_size", "half", "a positive integer or 'all', got 'half'"),
    ("batch_size", None, "batch_size"), ("reg_rate", -0.1, "reg_rate"), ("test_every", 0, "test_every"),
    ("regularization", "l3", "unknown regularization"), ("optimizer", "rmsprop", "unknown optimizer"),
])
def test_absurd_hyperparameters_are_refused(name, value, message):
    _, trainer = _fresh()
    with pytest.raises(ValueError, match=message):
        setattr(trainer, name, value)


def test_full_batch_takes_one_step_per_epoch_on_every_sample():
    """Batch "all" is the lessons' gradient descent: each epoch one step with the mean gradient of all samples."""
    p = _circle()
    net, trainer = _fresh(batch_size="ALL", learning_rate=0.5)
    assert trainer.batch_size == "all" and trainer.steps_per_epoch(len(p.X_train)) == 1
    expected = net.copy()
    for _ in range(3):
        loss, grads = expected.loss_and_gradients(p.X_train, p.Y_train, "bce")
        for layer, (d_kernel, d_bias) in zip(expected.layers, grads):
            layer.kernel -= 0.5 * d_kernel
            layer.bias -= 0.5 * d_bias
        stats = trainer.train_epoch(p.X_train, p.Y_train)
        assert stats.train_loss == pytest.approx(loss, rel=1e-12)
    assert trainer.steps == 3
    for (kernel, bias), (want_kernel, want_bias) in zip(net.get_weights(), expected.get_weights()):
        np.testing.assert_allclose(kernel, want_kernel, rtol=1e-12)
        np.testing.assert_allclose(bias, want_bias, rtol=1e-12)


def test_batch_size_can_switch_between_all_and_a_number_mid_run():
    p = _circle()
    _, trainer = _fresh(batch_size=50)
    runner = trainer.run(p.X_train, p.Y_train)
    assert next(runner) is None and trainer.steps_per_epoch(250) == 5
    trainer.batch_size = "all"  # the rest of this epoch in one step
    assert next(runner).epoch == 1 and trainer.steps == 2
    trainer.batch_size = 100
    assert [next(runner) is None for _ in range(3)] == [True, True, False] and trainer.steps == 5


@pytest.mark.parametrize("loss, output", [("mse", "sigmoid"), ("half_squared_error", "sigmoid"),
                                          ("half_squared_error", "linear"), ("bce", "sigmoid")])
def test_binary_targets_score_accuracy_whatever_the_loss(loss, output):
    """Accuracy comes from the task (the data), with the 0.5 threshold, not from the loss."""
    p = _circle()
    net = Network(2, [(4, "tanh"), (1, output)], seed=0)
    trainer = Trainer(net, loss=loss, optimizer="adam", learning_rate=0.05, task="binary")
    history = trainer.fit(p.X_train, p.Y_train, epochs=30, X_test=p.X_test, Y_test=p.Y_test)
    predicted = net.predict(p.X_test).ravel() > 0.5
    assert history.test_accuracy[-1] == np.mean(predicted == (p.Y_test > 0.5))
    assert history.test_accuracy[-1] > 0.9 and history.train_accuracy[-1] > 0.8


def test_mse_on_classes_compares_one_hot_rows_and_scores_by_argmax():
    from core.spec import DataSpec, NetworkSpec, TrainingConfig, prepare
    problem = prepare(DataSpec(source="spiral3", n_samples=150, test_fraction=0.2))
    net = NetworkSpec(hidden=[(16, "tanh")]).build(problem)
    trainer = TrainingConfig(loss="mse", optimizer="adam", learning_rate=0.02).build(net, problem)
    assert trainer.task == "multiclass" and net.spec[-1] == (3, "softmax")
    np.testing.assert_array_equal(trainer.targets(problem.Y_test), np.eye(3)[problem.Y_test])
    history = trainer.fit(problem.X_train, problem.Y_train, 5, problem.X_test, problem.Y_test)
    predicted = net.predict(problem.X_test).argmax(axis=1)
    assert history.test_accuracy[-1] == np.mean(predicted == problem.Y_test)
    assert history.test_loss[-1] == pytest.approx(np.mean((net.predict(problem.X_test) - np.eye(3)[problem.Y_test]) ** 2))


def test_without_a_task_the_loss_tells_it_as_before():
    assert Trainer(Network(2, [(1, "sigmoid")]), loss="bce").task == "binary"
    assert Trainer(Network(2, [(3, "softmax")]), loss="cross_entropy").task == "multiclass"
    assert Trainer(Network(2, [(1, "sigmoid")]), loss="mse").task == "regression"


@pytest.mark.parametrize("task, units, message", [("ranking", 1, "unknown task 'ranking'"),
                                                  ("binary", 2, "task 'binary' needs one output unit"),
                                                  ("multiclass", 1, "needs an output unit per class")])
def test_a_task_the_network_cannot_score_is_refused(task, units, message):
    with pytest.raises(ValueError, match=message):
        Trainer(Network(2, [(units, "sigmoid")]), loss="mse", task=task)


def test_divergence_raises_and_keeps_the_last_finite_weights():
    X = np.array([[1.0, 2.0], [3.0, -1.0], [2.0, 2.0]])
    Y = np.array([[1.0], [-1.0], [0.5]])
    net = Network(2, [(8, "linear"), (1, "linear")], seed=0)
    trainer = Trainer(net, loss="mse", learning_rate=0.3, batch_size=1)
    at_epoch_end = []
    with pytest.raises(DivergenceError, match="diverged: lower the learning rate"):
        trainer.fit(X, Y, epochs=1000, callback=lambda stats: at_epoch_end.append(net.get_weights()))
    assert at_epoch_end, "the run should stay finite for at least one epoch"
    for (kernel, bias), (kept_kernel, kept_bias) in zip(net.get_weights(), at_epoch_end[-1]):
        np.testing.assert_array_equal(kernel, kept_kernel)  # back to the start of the diverging epoch
        np.testing.assert_array_equal(bias, kept_bias)


def test_regularization_touches_kernels_only():
    X = np.random.default_rng(0).normal(size=(8, 2))
    Y = np.zeros((8, 1))
    for reg in ("l2", "l1"):
        net = Network(2, [(3, "tanh"), (1, "linear")], seed=0)
        kernel, bias = net.layers[0].kernel.copy(), net.layers[0].bias.copy()
        _, grads = net.loss_and_gradients(X, Y, "mse")
        d_kernel, d_bias = grads[0][0].copy(), grads[0][1].copy()
        Trainer(net, "mse", learning_rate=0.1, batch_size=8, regularization=reg, reg_rate=0.5).step(X, Y)
        penalty = kernel if reg == "l2" else np.sign(kernel)
        np.testing.assert_allclose(net.layers[0].kernel, kernel - 0.1 * (d_kernel + 0.5 * penalty))
        np.testing.assert_allclose(net.layers[0].bias, bias - 0.1 * d_bias)


def test_penalty_is_reported_apart_from_the_data_loss():
    net = Network(1, [(1, "linear")], seed=0)
    net.layers[0].kernel[:] = 2.0
    assert Trainer(net, "mse", regularization="l2", reg_rate=0.1).penalty() == pytest.approx(0.5 * 0.1 * 4)
    assert Trainer(net, "mse", regularization="l1", reg_rate=0.1).penalty() == pytest.approx(0.2)
    assert Trainer(net, "mse").penalty() == 0.0


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
@pytest.mark.parametrize("reg", [None, "l2"])
def test_updates_match_pytorch_exactly(optimizer, reg):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    X, labels = rng.normal(size=(12, 3)), rng.integers(0, 3, 12)
    net = Network(3, [(5, "tanh"), (3, "softmax")], seed=1)
    model = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 3)).double()
    with torch.no_grad():
        for i, layer in zip((0, 2), net.layers):
            model[i].weight.copy_(torch.from_numpy(layer.kernel.T))
            model[i].bias.copy_(torch.from_numpy(layer.bias))
    decay = 0.01 if reg else 0.0
    groups = [{"params": [model[0].weight, model[2].weight], "weight_decay": decay},  # kernels only
              {"params": [model[0].bias, model[2].bias], "weight_decay": 0.0}]
    opt = {"sgd": lambda g: torch.optim.SGD(g, lr=0.1),
           "momentum": lambda g: torch.optim.SGD(g, lr=0.1, momentum=0.9),
           "adam": lambda g: torch.optim.Adam(g, lr=0.1)}[optimizer](groups)
    trainer = Trainer(net, "cross_entropy", optimizer, learning_rate=0.1, batch_size=12,
                      regularization=reg, reg_rate=decay)
    Y = trainer.targets(labels)
    for _ in range(5):
        ours = trainer.step(X, Y)
        opt.zero_grad()
        theirs = torch.nn.functional.cross_entropy(model(torch.from_numpy(X)), torch.from_numpy(labels))
        theirs.backward()
        opt.step()
        assert ours == pytest.approx(theirs.item(), rel=1e-12)
    np.testing.assert_allclose(net.layers[0].kernel, model[0].weight.detach().numpy().T, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(net.layers[1].bias, model[2].bias.detach().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("loss, output, torch_loss", [
    ("mse", "linear", "mse_loss"), ("bce", "sigmoid", "binary_cross_entropy_with_logits")])
def test_losses_match_pytorch(loss, output, torch_loss):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    X, Y = rng.normal(size=(9, 2)), rng.uniform(0, 1, size=(9, 2))
    net = Network(2, [(2, output)], seed=0)
    value, grads = net.loss_and_gradients(X, Y, loss)
    w = torch.tensor(net.layers[0].kernel, requires_grad=True)
    z = torch.from_numpy(X) @ w + torch.from_numpy(net.layers[0].bias)
    expected = getattr(torch.nn.functional, torch_loss)(z, torch.from_numpy(Y))
    expected.backward()
    assert value == pytest.approx(expected.item(), rel=1e-12)
    np.testing.assert_allclose(grads[0][0], w.grad.numpy(), rtol=1e-10)


def test_run_yields_per_step_and_epoch_stats_at_epoch_end():
    p = _circle()
    _, trainer = _fresh(batch_size=50)
    events = []
    for event in trainer.run(p.X_train, p.Y_train, p.X_test, p.Y_test):
        events.append(event)
        if event is not None:
            break
    assert events[:-1] == [None] * 4  # 250 samples / 50 = 5 steps
    assert events[-1].epoch == 1 and events[-1].test_loss is not None


def test_after_divergence_a_lower_rate_trains_on(tmp_path):
    X = np.random.default_rng(0).normal(size=(40, 2))
    Y = X @ np.array([[2.0], [-1.0]])
    net = Network(2, [(8, "tanh"), (1, "linear")], seed=0)
    trainer = Trainer(net, loss="mse", optimizer="momentum", learning_rate=10.0, batch_size=8)
    with pytest.raises(DivergenceError, match="optimizer state cleared"):
        trainer.fit(X, Y, epochs=200)
    trainer.learning_rate = 0.001
    history = trainer.fit(X, Y, epochs=50)  # the velocity of the blow-up is gone with it
    assert all(np.isfinite(history.train_loss))


def test_an_empty_training_split_is_refused():
    from core.datasets import DatasetError
    from core.spec import DataSpec, prepare
    with pytest.raises(DatasetError, match="no training data left"):
        prepare(DataSpec(n_samples=2, test_fraction=0.9))


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_a_run_stopped_mid_epoch_resumes_from_its_state_exactly(optimizer):
    """State through JSON, into a new trainer and network: the same steps as never stopping."""
    import json

    from core.trainer import json_ready

    p = _circle()

    def make(batch_size=7):
        net = Network(2, [(4, "tanh"), (3, "tanh"), (1, "sigmoid")], seed=3)
        return net, Trainer(net, loss="bce", optimizer=optimizer, learning_rate=0.05, batch_size=batch_size, seed=4)

    net, trainer = make()
    straight = [e for e, _ in zip(trainer.run(p.X_train, p.Y_train, p.X_test, p.Y_test), range(200))]
    net_a, a = make()
    runner = a.run(p.X_train, p.Y_train, p.X_test, p.Y_test)
    first = [next(runner) for _ in range(83)]  # stops in the middle of an epoch
    assert a.progress is not None and a.progress.position > 0
    state = json.loads(json.dumps(json_ready(a.state_dict())))
    weights = net_a.get_weights()
    net_b, b = make()
    net_b.set_weights(weights)
    b.load_state_dict(state)
    rest = [e for e, _ in zip(b.run(p.X_train, p.Y_train, p.X_test, p.Y_test), range(200 - 83))]
    assert [e for e in first + rest if e is not None] == [e for e in straight if e is not None]
    np.testing.assert_array_equal(net_b.get_weights()[0][0], net.get_weights()[0][0])


def test_a_state_that_does_not_fit_is_refused_and_changes_nothing():
    net, trainer = _fresh(optimizer="adam")
    p = _circle()
    trainer.fit(p.X_train, p.Y_train, epochs=1)
    state = trainer.state_dict()
    _, other = _fresh(optimizer="adam")
    bad = dict(state, optimizer=dict(state["optimizer"], m=[np.zeros(1)]))
    with pytest.raises(ValueError, match="does not fit"):
        other.load_state_dict(bad)
    assert other.epoch == 0 and other.optimizer.m is None


def test_a_history_cut_at_an_epoch_keeps_the_test_figures_taken_by_then():
    history = History(train_loss=[4.0, 3.0, 2.0, 1.0], train_accuracy=[0.1, 0.2, 0.3, 0.4],
                      test_loss=[3.5, 1.5], test_accuracy=[0.2, 0.5], test_epoch=[2, 4])
    assert history.up_to(3) == History([4.0, 3.0, 2.0], [3.5], [0.1, 0.2, 0.3], [0.2], [2])
    assert history.up_to(0) == History() and history.up_to(9) == history
    cut = history.up_to(4)
    cut.train_loss.append(0.5)
    assert len(history.train_loss) == 4  # a copy
