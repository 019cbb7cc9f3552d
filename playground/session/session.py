"""The Session: the one state of the app, observable, holding no widgets.

Widgets call its intent methods (``add_layer``, ``set_hyperparameter``, ``play`` …) and draw what its
signals announce. It owns the specs the user edits (frozen ``core.spec`` dataclasses, each edit an
undoable command), the problem the worker last built, the latest snapshot, the run's cost history,
the project file and whether it is saved, the view options, the checkpoints of the run and the epoch
being looked at, the pinned runs, and the sample whose chain rule is followed (``trace``). It talks to
the training worker by
requests with ids (``training.protocol``): each is answered exactly once, and a refused one is rolled
back so that the window always shows what trains.
"""
from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from PySide6.QtCore import QCoreApplication, QEventLoop, QObject, Signal, Slot
from PySide6.QtGui import QUndoStack

from core import Network, datasets, limits, runs, trainer
from core.checkpoints import CLIMB_FACTOR, CheckpointStore, has_climbed, recovery_checkpoint
from core.project import Project, save_project
from core.spec import DataSpec, NetworkSpec, TrainingConfig
from playground.session import trace
from playground.session.commands import RunsEdit, SpecEdit, TrainFromHere, WeightEdit
from playground.session.history import RunHistory
from playground.training.protocol import (Built, Configure, Control, Preview, Previewed, Refused,
                                          SetHyperparameter, SetWeight, Snapshot, TableRead, TrainedState)
from playground.training.worker import WorkerThread

LIVE = ("learning_rate", "optimizer", "batch_size", "regularization", "reg_rate")  # applied without a rebuild
TYPED = ("learning_rate", "reg_rate")  # quick successive edits of these merge into one undo step
UNDO_LIMIT = 200


@dataclass(frozen=True)
class Specs:
    data: DataSpec = DataSpec()
    network: NetworkSpec = NetworkSpec()
    training: TrainingConfig = TrainingConfig()


@dataclass(frozen=True)
class ViewOptions:
    colour_by: str = "gradients"  # or "weights"
    log_scale: bool = False
    show_test: bool = False
    zoom: float = 1.0  # text and diagram scale, for a projector
    pictures: bool = True  # hidden neurons drawn as what they compute over the plane (2-D data)


@dataclass(frozen=True)
class TrainedRun:
    """A run as it stood: what undo brings back. ``run_id`` names the run's lineage of weights."""

    state: TrainedState
    history: RunHistory
    run_id: int
    steps: int
    checkpoints: CheckpointStore | None = None


@dataclass
class _Pending:
    """A request on its way to the worker, and what sent it."""

    rebuild: bool  # a Configure
    command: SpecEdit | None = None  # the edit that sent it (rolled back if it is refused)
    opening: tuple | None = None  # (Project, path, as_template, recovered, warning, was running): adopted once built
    restore: TrainedRun | None = None
    superseded: bool = False  # rolled back before its answer came: the answer is ignored


class Session(QObject):
    specs_changed = Signal()
    problem_changed = Signal()  # ``built`` is a new problem
    snapshot_changed = Signal()
    history_changed = Signal(bool)  # True: a different run's history (views start over)
    running_changed = Signal(bool)
    view_changed = Signal()
    document_changed = Signal()  # the project file or whether it is saved
    project_opened = Signal(str)  # a project file was opened (built and adopted): its path
    notice = Signal(str)  # something the user should read; "" when it no longer applies
    request_sent = Signal(object)  # to the worker
    checkpoints_changed = Signal()
    shown_changed = Signal()  # the views draw another network: a past checkpoint, or the live one again
    trace_changed = Signal()
    runs_changed = Signal()  # pinned runs added, removed, shown or hidden
    recovery_offered = Signal(int)  # after a divergence: the epoch of the checkpoint to go back to

    def __init__(self, specs: Specs | None = None, parent=None):
        super().__init__(parent)
        self.specs = specs or Specs()
        self.built: Built | None = None
        self.snapshot: Snapshot | None = None
        self.history = RunHistory()
        self.running = False
        self.view = ViewOptions()
        self.project_path: str | None = None
        self.undo_stack = QUndoStack(self)
        self.undo_stack.setUndoLimit(UNDO_LIMIT)
        self.generation = 0  # the configure whose run the Session shows
        self.run_id = 0
        self.steps = 0  # of the run shown
        self.weight_edits = 0  # weights typed or dragged, less those undone: unsaved work while not 0
        self.checkpoints = CheckpointStore()  # of the run shown, within checkpoints.budget bytes
        self._climb_said = False  # the run shown was said to climb for good
        self.viewing: int | None = None  # the epoch of the past checkpoint the views show; None: the live run
        self.preview: Previewed | None = None  # what the views draw of it, once the worker has computed it
        self._preview_id = 0
        self.trace_state = trace.TraceState()
        self._follow_point = None  # a drawn point followed while the data is drawn anew
        self.trace = None  # core.explain.Trace of the followed sample through the network shown
        self.runs: tuple = ()  # PinnedRun, oldest first
        self.target_cost = runs.DEFAULT_TARGET_COST  # the cost the runs are timed to reach
        self.pending: dict[int, _Pending] = {}
        self._ids = itertools.count(1)
        self._run_ids = itertools.count(1)
        self._quiet = False  # set while a refused edit is rolled back: nothing is sent
        self.saved_marker = None
        self._shown_modified = False
        self.worker_thread = WorkerThread()
        worker = self.worker_thread.worker
        self.request_sent.connect(worker.handle)
        worker.replied.connect(self._on_reply)
        worker.published.connect(self._on_snapshot)
        worker.running_changed.connect(self._on_running_changed)
        worker.stopped.connect(self._on_stopped)
        self.undo_stack.cleanChanged.connect(lambda _: self.document_changed.emit())
        self._configure()
        self.saved_marker = self.marker()

    # --- reading ------------------------------------------------------------------------------
    @property
    def data(self) -> DataSpec:
        return self.specs.data

    @property
    def network(self) -> NetworkSpec:
        return self.specs.network

    @property
    def training(self) -> TrainingConfig:
        return self.specs.training

    @property
    def busy(self) -> bool:
        """A configure is on its way: what the window shows is not built yet."""
        return any(p.rebuild for p in self.pending.values())

    @property
    def opening(self) -> bool:
        """A project is being opened: until it is adopted, nothing else may change."""
        return any(p.opening is not None for p in self.pending.values())

    def _refuse_while_opening(self) -> bool:
        if self.opening:
            self.notice.emit("A project is being opened; edit it once it has opened.")
        return self.opening

    def undo(self):
        if not self._refuse_while_opening():
            self.undo_stack.undo()

    def redo(self):
        if not self._refuse_while_opening():
            self.undo_stack.redo()

    def current_network(self) -> Network | None:
        """A copy of the network being trained, with its latest weights; None until it is built."""
        return self._network(self.snapshot)

    def shown(self):
        """What the views draw: the latest snapshot, or the past checkpoint being looked at (a
        ``Previewed``; None until the worker has computed it)."""
        return self.preview if self.viewing is not None else self.snapshot

    def shown_network(self) -> Network | None:
        """A copy of the network the views show (live, or as it was at the epoch looked at)."""
        return self._network(self.shown())

    def _network(self, frame) -> Network | None:
        if frame is None or self.built is None:
            return None
        return Network(self.built.problem.n_inputs, self.built.layers, dtype=self.built.specs[1].dtype,
                       weights=frame.weights)

    def is_modified(self) -> bool:
        """Settings, weights or training changed since the project was saved or opened."""
        return self.marker() != self.saved_marker

    def marker(self):
        """What saving records: a change of it means unsaved work."""
        return self.specs, self.run_id, self.steps, self.weight_edits, tuple(map(id, self.runs)), self.target_cost

    def _update_modified(self):
        modified = self.is_modified()
        if modified != self._shown_modified:
            self._shown_modified = modified
            self.document_changed.emit()

    # --- edits: each an undoable command ------------------------------------------------------
    def add_layer(self, index: int | None = None):
        """A hidden layer at ``index`` (after the last by default), like the one before it."""
        hidden = list(self.network.hidden)
        index = len(hidden) if index is None else index
        hidden.insert(index, hidden[index - 1] if index > 0 else (hidden[0] if hidden else (4, "tanh")))
        self._edit("add layer", network=replace(self.network, hidden=tuple(hidden)))

    def remove_layer(self, index: int | None = None):
        hidden = list(self.network.hidden)
        if not hidden:
            return
        index = len(hidden) - 1 if index is None else index
        del hidden[index]
        self._edit(f"remove layer {index + 1}", network=replace(self.network, hidden=tuple(hidden)))

    def set_units(self, layer: int, units: int):
        hidden = list(self.network.hidden)
        hidden[layer] = (units, hidden[layer][1])
        self._edit(f"set layer {layer + 1} to {units} neurons", network=replace(self.network, hidden=tuple(hidden)))

    def set_activation(self, layer: int, activation: str):
        hidden = list(self.network.hidden)
        hidden[layer] = (hidden[layer][0], activation)
        self._edit(f"set layer {layer + 1} to {activation}", network=replace(self.network, hidden=tuple(hidden)))

    def toggle_feature(self, key: str):
        features = list(self.data.features)
        if key in features:
            if len(features) == 1:
                self.notice.emit("At least one input feature is needed.")
                return
            features.remove(key)
        else:
            features = [f for f in datasets.FEATURES if f in features or f == key]  # the canonical order
        self._edit(f"{'add' if key in features else 'remove'} input {key}",
                   data=replace(self.data, features=tuple(features)))

    def set_data(self, data: DataSpec, table=None):
        """New data; an output activation or loss pinned for the old data no longer applies. ``table``:
        the CSV file as the import dialog read it, so that the worker need not read it again."""
        if data.source == datasets.DRAWN and not data.points:
            points, task = self._points_to_draw_on()
            data = replace(data, points=points, task=task, test_fraction=0.0)
        other = _what_is_predicted(data) != _what_is_predicted(self.data)
        network = replace(self.network, output_activation=None) if other else self.network
        training = replace(self.training, loss=None) if other else self.training
        if table is not None and data != self.data and not self.opening:  # a rebuild follows: it takes the table
            self._send(TableRead(next(self._ids), data, table))
        self._edit("change data", data=data, network=network, training=training)

    def draw_point(self, x: float, y: float, label: float):
        """A point of class ``label`` (of value ``label``, for a regression) at (x, y) in the drawn set;
        the network trains on with it."""
        drawn = self._drawn()
        label = float(label) if drawn.task == "regression" else int(label)
        self._edit_points(drawn.points + ((float(x), float(y), label),), "draw a point")

    def erase_point(self, x: float, y: float, radius: float):
        """Remove the drawn point nearest (x, y), if it lies within ``radius``."""
        points = self._drawn().points
        if not points:
            return
        distances = [(px - x) ** 2 + (py - y) ** 2 for px, py, _ in points]
        nearest = min(range(len(points)), key=distances.__getitem__)
        if distances[nearest] <= radius ** 2:
            self._edit_points(points[:nearest] + points[nearest + 1:], "erase a point")

    def _drawn(self) -> DataSpec:
        if self.data.source == datasets.DRAWN:
            return self.data
        points, task = self._points_to_draw_on()
        return DataSpec(source=datasets.DRAWN, points=points, task=task, test_fraction=0.0,
                        seed=self.data.seed, features=self.data.features)

    def _points_to_draw_on(self) -> tuple:
        """(points, task): the 2-D training points shown now, to edit by hand, with their classes (or
        values: task "regression"); a few of two classes to start with otherwise."""
        problem = self.built.problem if self.built else None
        if problem is not None and problem.is_plane:
            regression = problem.task == "regression"
            labels = problem.Y_train.reshape(-1)
            labels = labels.astype(float) if regression else labels.astype(int)
            return (tuple((float(x), float(y), k.item()) for (x, y), k in zip(problem.points_train, labels)),
                    "regression" if regression else None)
        return ((-2.0, -2.0, 0), (2.0, 2.0, 1), (-2.0, 2.0, 1), (2.0, -2.0, 0)), None

    def _edit_points(self, points: tuple, text: str):
        data = replace(self._drawn(), points=points)
        outputs = 3 if data.task != "regression" and any(label == 2 for _, _, label in points) else 1
        problem = self.built.problem if self.built is not None else None
        same_network = (problem is not None and problem.is_plane and problem.n_outputs == outputs
                        and (problem.task == "regression") == (data.task == "regression"))
        # the network goes on training with the new points, from the first one drawn on a 2-D set (a
        # fresh one when they need other outputs)
        self._follow_point = self._followed_point()
        self._edit(text, data=data, restore=self._current_run() if same_network else None)

    def _followed_point(self):
        """The 2-D point followed, to find it again among drawn points split anew."""
        sample, problem = self.trace_state.sample, self.built.problem if self.built else None
        if sample is None or problem is None or not problem.is_plane:
            return None
        points = problem.points_train if sample[0] == "train" else problem.points_test
        return tuple(points[sample[1]]) if sample[1] < len(points) else None

    def _find_followed_point(self):
        """Follow the same point in the data just built, wherever the split put it."""
        point, self._follow_point = self._follow_point, None
        problem = self.built.problem
        for split, points in (("train", problem.points_train), ("test", problem.points_test)):
            rows = np.flatnonzero((points == point).all(axis=1)) if point is not None and len(points) else []
            if len(rows):
                self.trace_state = replace(self.trace_state, sample=(split, int(rows[0])))
                return
        if point is not None:  # erased: following another point in its place would mislead
            self.trace_state = replace(self.trace_state, sample=None, layer=None)
            self.notice.emit("The point followed was erased; click a point to follow another.")

    def set_seed(self, seed: int):
        self._edit(f"set seed {seed}", network=replace(self.network, seed=seed),
                   training=replace(self.training, seed=seed))

    def set_precision(self, dtype: str):
        self._edit(f"set precision {dtype}", network=replace(self.network, dtype=dtype))

    def set_hyperparameter(self, name: str, value):
        """Live, without a rebuild; an absurd value is refused here and changes nothing."""
        try:
            _check_hyperparameter(name, value)
        except ValueError as error:
            self.notice.emit(f"That setting cannot be used: {error}. Nothing was changed.")
            self.specs_changed.emit()  # the controls show the value in force again
            return
        label = name.replace("_", " ")
        self._edit(f"set {label} {value}", training=replace(self.training, **{name: value}), rebuild=False,
                   merge_key=TYPED.index(name) if name in TYPED else -1)

    def reset(self):
        """Fresh weights from the seed: the same seed replays the same run (undoable)."""
        self._edit("reset", force=True)

    def import_weights(self, net: Network, adopt: bool = False):
        """Train on from ``net``'s weights; with ``adopt``, take its architecture and precision too."""
        if self._refuse_while_opening():
            return
        network = self.network
        if adopt:
            natural = self.built.layers[-1][1] if self.built else None
            output = net.spec[-1][1]
            network = replace(network, hidden=tuple(net.spec[:-1]), dtype=net.dtype.name,
                              output_activation=None if output == natural else output)
        restore = TrainedRun(TrainedState(tuple(net.get_weights())), RunHistory(), next(self._run_ids), 0)
        self._edit("import weights", network=network, restore=restore, force=True)

    def _edit(self, text, data=None, network=None, training=None, rebuild=True, restore=None, merge_key=-1,
              force=False):
        after = Specs(data or self.data, network or self.network, training or self.training)
        if after == self.specs and not force:
            return
        if not self._refuse_while_opening():
            self.undo_stack.push(SpecEdit(self, text, after, rebuild, restore, merge_key))

    def merged(self, gone: SpecEdit, into: SpecEdit):
        """``gone`` merged into ``into`` (quick edits of one rate): its requests are ``into``'s now."""
        for pending in self.pending.values():
            if pending.command is gone:
                pending.command = into

    def apply_edit(self, command: SpecEdit, specs: Specs, restore, leaving: str):
        """Called by commands (do, undo, redo): make ``specs`` the ones in force."""
        before = self.specs
        self.specs = specs
        if command.rebuild:
            command.runs[leaving] = self._current_run()
            if not self._quiet:
                self._configure(restore, command)
        elif not self._quiet:
            for name in LIVE:
                if getattr(specs.training, name) != getattr(before.training, name):
                    self._send(SetHyperparameter(next(self._ids), name, getattr(specs.training, name)), command)
        if command.rebuild:  # a message about the run left behind no longer applies (one about this run
            self.notice.emit("")  # does: "lower the learning rate" stays while the user lowers it)
        self.specs_changed.emit()
        self._update_modified()

    def _current_run(self) -> TrainedRun | None:
        """The run the Session shows, to bring back later; None for one not trained yet."""
        pending = self.pending.get(self.generation)
        if pending is not None:  # not built yet: it will be what it was sent to be
            return pending.restore
        if self.snapshot is None:
            return None
        return TrainedRun(self.snapshot.state, self.history.copy(), self.run_id, self.snapshot.steps,
                          self.checkpoints.copy())

    # --- weights typed or dragged on the diagram -------------------------------------------------
    def set_weight(self, layer: int, row: int, column: int | None, value: float):
        """``kernel[row, column]`` of ``layer`` (its ``bias[row]`` when ``column`` is None), live and undoable."""
        if self._refuse_while_opening():
            return
        if self.viewing is not None or self.snapshot is None:
            self.notice.emit("Weights are edited on the live run: go back to it first (the timeline's Live).")
            return
        kernel, bias = self.snapshot.weights[layer]
        before = float(bias[row] if column is None else kernel[row, column])
        self.undo_stack.push(WeightEdit(self, layer, row, column, before, float(value)))

    def send_weight(self, layer: int, row: int, column: int | None, value: float, undoing: bool = False):
        """Called by WeightEdit (do, undo, redo)."""
        self.weight_edits += -1 if undoing else 1
        self._send(SetWeight(next(self._ids), layer, row, column, value))
        self._update_modified()

    # --- the past: checkpoints, the epoch looked at, pinned runs -------------------------------
    def view_epoch(self, epoch: int | None):
        """Show the network as it was at ``epoch`` (its nearest checkpoint), or the live run (None)."""
        if epoch is None or not len(self.checkpoints) or self.built is None:
            if self.viewing is None:
                return
            self.viewing = self.preview = None
        else:
            checkpoint = self.checkpoints.nearest(epoch)
            if checkpoint.epoch == self.viewing:
                return
            self.viewing, self.preview = checkpoint.epoch, None
            self._preview_id = next(self._ids)
            self._send(Preview(self._preview_id, checkpoint.epoch, checkpoint.weights))
            self.shown_changed.emit()
            return  # the trace follows once the worker has computed that checkpoint's outputs
        self.shown_changed.emit()
        self._update_trace()

    def set_checkpoint_budget(self, nbytes: int):
        """Keep the run's checkpoints within ``nbytes`` from now on; a lower budget thins them at once."""
        self.checkpoints.budget = limits.check_int(nbytes, "the checkpoint memory", limits.CHECKPOINT_BUDGET)
        self.checkpoints_changed.emit()

    def train_from(self, epoch: int) -> bool:
        """Go on training from the checkpoint nearest ``epoch``; the epochs after it become a pinned run,
        so nothing is lost (undoable). False, and said, if it cannot be done now."""
        if not len(self.checkpoints) or self._refuse_while_opening():
            return False
        checkpoint = self.checkpoints.nearest(epoch)
        if checkpoint.epoch == len(self.history):
            self.view_epoch(None)
            return True
        if len(self.runs) >= runs.MAX_RUNS:
            self.notice.emit(f"{runs.MAX_RUNS} runs are pinned, the most there can be: unpin one, then train "
                             "from here (the epochs after it are kept as a pinned run).")
            return False
        future = self._run_now(f"until epoch {len(self.history):,}")
        store = self.checkpoints.copy()
        store.truncate_after(checkpoint.epoch)
        history = RunHistory.from_history(self.history.to_history().up_to(checkpoint.epoch))
        state = checkpoint.trainer_state
        restore = TrainedRun(TrainedState(checkpoint.weights, state, checkpoint.epoch), history, self.run_id,
                             state["steps"] if state else 0, store)
        self.view_epoch(None)
        self.undo_stack.push(TrainFromHere(self, f"train from epoch {checkpoint.epoch:,}", restore, future))
        return True

    def pin_run(self, label: str = ""):
        """Keep this run's history, settings and weights to compare later runs with (undoable)."""
        if self.snapshot is None:
            return
        self.undo_stack.push(RunsEdit(self, "pin this run", self._run_now(label), pin=True))

    def unpin_run(self, run: runs.PinnedRun):
        """Stop comparing with ``run`` (undoable)."""
        label = self.run_labels()[self.runs.index(run)]
        self.undo_stack.push(RunsEdit(self, f"unpin {label}", run, pin=False))

    def insert_run(self, run: runs.PinnedRun, position: int):
        """Pin ``run`` back at ``position``; called by RunsEdit when an unpin is undone."""
        self._set_runs(self.runs[:position] + (run,) + self.runs[position:])

    def _run_now(self, label: str = "") -> runs.PinnedRun:
        return runs.PinnedRun(self.data, self.network, self.training, self.history.to_history(),
                              self.current_network(), label)

    def add_run(self, run: runs.PinnedRun) -> bool:
        """Pin ``run`` last; False, and said, when ``runs.MAX_RUNS`` are pinned already."""
        try:
            self._set_runs(runs.pin(self.runs, run))
        except ValueError as error:
            self.notice.emit(f"{error}.")
            return False
        return True

    def remove_run(self, run: runs.PinnedRun) -> tuple:
        """Unpin ``run``, shown or hidden since (``shown_as`` copies share its weights); return the run
        as it was pinned and its position."""
        position = next(i for i, r in enumerate(self.runs) if r.weights is run.weights)
        removed = self.runs[position]
        self._set_runs(self.runs[:position] + self.runs[position + 1:])
        return removed, position

    def show_run(self, run: runs.PinnedRun, visible: bool):
        """Draw ``run``'s curves or not (saved with the project)."""
        self._set_runs(tuple(r.shown_as(visible) if r is run else r for r in self.runs))

    def _set_runs(self, pinned: tuple):
        self.runs = pinned
        self.runs_changed.emit()
        self._update_modified()

    def set_target_cost(self, cost: float):
        """The cost the runs are timed to reach (saved with the project)."""
        self.target_cost = limits.check_number(cost, "the target cost", limits.TARGET_COST)
        self.runs_changed.emit()
        self._update_modified()

    def run_histories(self) -> list:
        """Each pinned run's History, then this run's, as ``run_labels`` names them."""
        return [run.history for run in self.runs] + [self.history.to_history()]

    def run_labels(self) -> list[str]:
        """Each pinned run's label (its own, or what differs from the others), then this run's."""
        current = runs.PinnedRun(self.data, self.network, self.training, trainer.History(),
                                 Network(1, [(1, "linear")]))
        described = runs.describe_differences([*self.runs, current])
        return [run.label or text for run, text in zip(self.runs, described)] + [f"this run: {described[-1]}"]

    # --- the chain rule of one sample ------------------------------------------------------------
    def set_trace(self, **changes):
        """Follow another sample (``sample=("train", i)``), pass (``mode``) or layer (``layer``)."""
        self.trace_state = replace(self.trace_state, **changes)
        self._update_trace()

    def step_trace(self, direction: int):
        """One layer further along the pass (1) or back (−1)."""
        if self.built is not None:
            self.trace_state = self.trace_state.walk(len(self.built.layers), direction)
            self._update_trace()

    def _update_trace(self):
        built = self.built
        if built is not None and self.trace_state.layer is not None and self.trace_state.layer >= len(built.layers):
            self.trace_state = replace(self.trace_state, layer=None)  # the network has fewer layers now
        if built is None or self.trace_state.sample is None:
            result = None
        else:
            result = trace.compute(self.shown_network(), built.problem, built.loss, self.trace_state)
        if result is not None or self.trace is not None:
            self.trace = result
            self.trace_changed.emit()

    # --- training ---------------------------------------------------------------------------
    def play(self):
        self.notice.emit("")
        self._send(Control(next(self._ids), "play"))

    def pause(self):
        self._send(Control(next(self._ids), "pause"))

    def toggle_play(self):
        self.pause() if self.running else self.play()

    def step(self):
        self.notice.emit("")
        self._send(Control(next(self._ids), "step"))

    # --- view ---------------------------------------------------------------------------------
    def set_view(self, **changes):
        view = replace(self.view, **changes)
        if view != self.view:
            self.view = view
            self.view_changed.emit()

    # --- files --------------------------------------------------------------------------------
    def open_project(self, project: Project, path=None, as_template: bool = False, recovered: bool = False,
                     warning: str = ""):
        """Build a checked project; it is adopted all at once when built, and if the worker refuses
        it (its data cannot be read, its weights do not fit), nothing changes. A template (a preset)
        is not the file later saves go to; recovered work counts as unsaved."""
        was_running = self.running
        self.pause()
        restore = None
        if project.weights is not None:
            epochs = len(project.history.train_loss) if project.history is not None else 0
            state = TrainedState(tuple(project.weights.get_weights()), project.trainer_state, epochs)
            steps = project.trainer_state.get("steps", 0) if project.trainer_state else 0
            restore = TrainedRun(state, RunHistory.from_history(project.history), next(self._run_ids), steps,
                                 project.checkpoints)
        request = Configure(next(self._ids), project.data, project.network, project.training,
                            restore.state if restore else None)
        self._send(request, opening=(project, path, as_template, recovered, warning, was_running), restore=restore)

    def save_project(self, path) -> None:
        """Write the project as the window shows it: settings, weights, trainer state, cost history,
        checkpoints and pinned runs. ValueError or OSError if it cannot be written."""
        if self.opening:
            raise OSError("a project is being opened; save once it has opened")
        self.flush()
        net = self.current_network()
        state = self.snapshot.trainer_state if self.snapshot is not None else None
        save_project(path, self.data, self.network, self.training, net,
                     self.history.to_history() if net is not None else None, state,
                     checkpoints=self.checkpoints if net is not None and len(self.checkpoints) else None, runs=self.runs,
                     target_cost=self.target_cost)
        self.project_path = str(path)
        self.mark_saved()

    def mark_saved(self):
        self.saved_marker = self.marker()
        self._shown_modified = False
        self.undo_stack.setClean()
        self.document_changed.emit()

    def flush(self, timeout: float = 30.0) -> None:
        """Wait (drawing, but taking no input) until every configure sent has been answered and the
        run shown has its first snapshot: then its weights, trainer state and history agree."""
        deadline = time.monotonic() + timeout
        while (self.busy or self.snapshot is None) and time.monotonic() < deadline:
            QCoreApplication.processEvents(QEventLoop.ExcludeUserInputEvents, 50)
        if self.busy or self.snapshot is None:
            raise OSError("the data is still being prepared; try again when it is ready")

    def close(self, timeout_ms: int = 5000) -> bool:
        """Stop training and join the worker's thread, waiting at most ``timeout_ms``."""
        return self.worker_thread.close(timeout_ms)

    # --- talking to the worker ----------------------------------------------------------------
    def _configure(self, restore: TrainedRun | None = None, command: SpecEdit | None = None):
        request = Configure(next(self._ids), self.data, self.network, self.training,
                            restore.state if restore else None)
        self._show_run(request.id, restore)
        self._send(request, command=command, restore=restore)

    def _show_run(self, generation: int, restore: TrainedRun | None):
        """From now on, show the run of configure ``generation``, continued from ``restore``."""
        self.generation = generation
        self.snapshot = None
        self.history = restore.history.copy() if restore else RunHistory()
        self.run_id = restore.run_id if restore else next(self._run_ids)
        self.steps = restore.steps if restore else 0
        budget = self.checkpoints.budget  # the user's, whatever budget a restored store was kept in
        self.checkpoints = restore.checkpoints.copy() if restore and restore.checkpoints else CheckpointStore()
        self.checkpoints.budget = budget
        self._climb_said = False
        looking_back = self.viewing is not None
        self.viewing = self.preview = None
        self.trace = None  # of the run left behind: it comes back with this run's first outputs
        if looking_back:
            self.shown_changed.emit()
        self.history_changed.emit(True)
        self.checkpoints_changed.emit()

    def _send(self, request, command=None, opening=None, restore=None):
        if isinstance(request, (Configure, SetHyperparameter)):
            self.pending[request.id] = _Pending(isinstance(request, Configure), command, opening, restore)
        self.request_sent.emit(request)

    @Slot(object)
    def _on_reply(self, reply):
        pending = self.pending.pop(reply.id, None)
        if pending is not None and pending.superseded:
            return
        if isinstance(reply, Refused):
            self._refused(reply, pending)
        elif isinstance(reply, Built) and pending is not None:
            if pending.opening is not None:
                self._adopt(reply, pending)
            elif reply.id == self.generation:
                self.built = reply
                if self._follow_point is not None:
                    self._find_followed_point()
                self.problem_changed.emit()
        elif isinstance(reply, Previewed) and reply.id == self._preview_id and self.viewing is not None:
            self.preview = reply
            self.shown_changed.emit()
            self._update_trace()

    def _refused(self, reply: Refused, pending: _Pending | None):
        if reply.id == self._preview_id and self.viewing is not None:  # a past epoch that cannot be shown
            self.view_epoch(None)
        if pending is None:  # a control, or a preview: nothing to undo
            self.notice.emit(f"{reply.message[:1].upper()}{reply.message[1:]}.")
            return
        if pending.opening is not None:
            path, was_running = pending.opening[1], pending.opening[-1]
            name = Path(path).name if path else "the project"
            if was_running:
                self.play()  # as it was
            self.notice.emit(f"Cannot open {name}: {reply.message}. Nothing was changed.")
            return
        undone = self._roll_back(pending.command) if pending.command is not None else 0
        if pending.rebuild and reply.id == self.generation:  # nothing left to undo: show what the worker runs
            self._fall_back()
        later = " It was undone, with the edits made after it." if undone > 1 else " Nothing was changed."
        self.notice.emit(f"That setting cannot be used: {reply.message}.{later}")

    def _fall_back(self):
        """The rebuild the Session showed was refused and nothing can be undone: show again the run the
        worker has in force, the last one built."""
        if self.built is None:
            return
        self.specs = Specs(*self.built.specs)
        self.generation = self.built.id
        self.snapshot = None
        self.specs_changed.emit()
        self._send(Control(next(self._ids), "refresh"))

    def _roll_back(self, command: SpecEdit) -> int:
        """Undo ``command`` and every edit made since, then put back in force what was before it;
        the number of edits undone."""
        stack = self.undo_stack
        if command not in [stack.command(i) for i in range(stack.index())]:
            return 1  # already undone: what is in force was sent since
        undone = []
        self._quiet = True
        try:
            while True:
                top = stack.command(stack.index() - 1)
                top.undo()
                top.setObsolete(True)  # so the stack removes it without undoing it again
                stack.undo()
                undone.append(top)
                if top is command:
                    break
        finally:
            self._quiet = False
        for pending in self.pending.values():
            pending.superseded = pending.superseded or pending.command in undone
        rebuilds = [c for c in undone if getattr(c, "rebuild", False)]  # a weight typed since is undone with it
        if rebuilds:  # the earliest one undone left this run behind
            self._configure(rebuilds[-1].runs.get("before"))
        else:
            for name in LIVE:
                self._send(SetHyperparameter(next(self._ids), name, getattr(self.training, name)))
        self.specs_changed.emit()
        self._update_modified()
        return len(undone)

    def _adopt(self, built: Built, pending: _Pending):
        project, path, as_template, recovered, warning, _ = pending.opening
        self.specs = Specs(project.data, project.network, project.training)
        self.trace_state = trace.TraceState()
        self._show_run(built.id, pending.restore)
        self.runs = tuple(project.runs)
        self.target_cost = runs.DEFAULT_TARGET_COST if project.target_cost is None else project.target_cost
        self.runs_changed.emit()
        self.built = built
        self.project_path = str(path) if path and not as_template else None
        self.undo_stack.clear()
        self.notice.emit(warning)
        self.specs_changed.emit()
        self.problem_changed.emit()
        self.mark_saved()
        if self.project_path:
            self.project_opened.emit(self.project_path)
        if recovered:
            self.saved_marker = None
            self._update_modified()

    @Slot(object)
    def _on_snapshot(self, snapshot: Snapshot):
        if snapshot.generation != self.generation:  # from a run the Session has moved on from: it is not drawn
            self.worker_thread.worker.view_skipped(snapshot.id)
            return
        self.snapshot = snapshot
        self.steps = snapshot.steps
        if snapshot.new_epochs:
            self.history.extend(snapshot.new_epochs)
            self.history_changed.emit(False)
            if not self._climb_said and has_climbed(self.history["train_loss"]):  # once: the user may mean it
                self._offer_going_back(f"the cost has climbed to {self.history.last.train_loss:.3g}, more than "
                                       f"{CLIMB_FACTOR:g} times its lowest: the learning rate may be too high.")
        if snapshot.new_checkpoints:
            for epoch, weights, state in snapshot.new_checkpoints:
                if not len(self.checkpoints) or epoch > self.checkpoints.latest.epoch:
                    self.checkpoints.add(epoch, weights, state)
            self.checkpoints_changed.emit()
        self.snapshot_changed.emit()
        if self.viewing is None and (snapshot.grid is not None or snapshot.predictions is not None):
            self._update_trace()  # at the pace of the outputs
        self._update_modified()

    @Slot(bool)
    def _on_running_changed(self, running: bool):
        self.running = running
        self.running_changed.emit(running)

    @Slot(str)
    def _on_stopped(self, why: str):
        if "diverged" in why:  # the last finite weights may be far gone: offer the last good checkpoint
            self._offer_going_back(f"Training paused: {why}")
        else:
            self.notice.emit(f"Training paused: {why}")

    def _offer_going_back(self, message: str):
        """Say ``message``, offering the checkpoint from before the cost began to climb, if there is one;
        once said (a divergence, or a climb), a climb of this run is not said again."""
        self._climb_said = True
        self.notice.emit(message[:1].upper() + message[1:])
        checkpoint = recovery_checkpoint(self.history.to_history(), self.checkpoints)
        if checkpoint is not None and checkpoint.epoch < len(self.history):
            self.recovery_offered.emit(checkpoint.epoch)


def _check_hyperparameter(name: str, value) -> None:
    """The trainer's own checks, on a one-weight stand-in network (ValueError for absurd values)."""
    if name not in LIVE:
        raise ValueError(f"unknown setting {name!r}")
    stand_in = trainer.Trainer(Network(1, [(1, "linear")]))
    setattr(stand_in, name, value)


def _what_is_predicted(data: DataSpec) -> tuple:
    """What an output activation or loss is chosen for: another file, target or task needs its own."""
    return data.source, data.csv_path, data.target, data.task
