"""The training as an animation: which checkpoints become frames, frames drawn offscreen as the curve
grows, encoded off the UI thread to a GIF or MP4 of the requested frame count and size."""
import os
import threading
from types import SimpleNamespace

import imageio.v3 as iio
import imageio_ffmpeg
import numpy as np
import pytest
import shiboken6
from PySide6.QtWidgets import QDialogButtonBox

from core.checkpoints import CheckpointStore
from core.spec import DataSpec, NetworkSpec, TrainingConfig, prepare
from playground.session.history import RunHistory
from playground.training.worker import view_extent
from playground.ui.animation_export import (AnimationChoices, AnimationDialog, AnimationExport, AnimationProgress,
                                            FrameRenderer, OutputPictures, cost_curves, encode, pick_frames,
                                            picture_side)
from playground.widgets import style

WAIT = 20000


# --- which checkpoints -----------------------------------------------------------------------------
def test_frames_spread_evenly_over_dense_checkpoints():
    assert pick_frames(range(101), 11) == list(range(0, 101, 10))
    assert pick_frames([0, 1, 2], 5) == [0, 1, 2]  # no more checkpoints than frames: all of them
    assert pick_frames(range(7), 2) == [0, 6]


def test_frames_of_a_thinned_store_are_distinct_and_keep_the_first_and_the_last():
    store = CheckpointStore(max_count=60, recent=5)
    for epoch in range(5000):
        store.add(epoch, [(np.zeros((1, 1)), np.zeros(1))])
    epochs = [c.epoch for c in store]
    assert len(epochs) == 60
    picked = pick_frames(epochs, 40)
    assert len(picked) == 40 == len(set(picked)) and picked == sorted(picked)
    assert picked[0] == 0 and picked[-1] == len(epochs) - 1
    # the late epochs, kept thinly, are all taken before the dense early ones run out
    late = [i for i, e in enumerate(epochs) if e > 1000]
    assert set(late) <= set(picked)


def test_fewer_than_two_frames_is_refused():
    with pytest.raises(ValueError, match="at least 2 frames, got 1"):
        pick_frames(range(10), 1)


# --- a run to animate ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def run():
    """The default problem trained 60 epochs with Adam, a checkpoint and the figures of every epoch."""
    data, network, training = DataSpec(), NetworkSpec(), TrainingConfig(optimizer="adam", learning_rate=0.02)
    problem = prepare(data)
    net = network.build(problem)
    trainer = training.build(net, problem)
    store, history = CheckpointStore(), RunHistory()
    store.add(0, net.get_weights())

    def record(stats):
        store.add(stats.epoch, net.get_weights())
        history.extend([stats])

    trainer.fit(problem.X_train, problem.Y_train, 60, problem.X_test, problem.Y_test, callback=record)
    built = SimpleNamespace(problem=problem, extent=view_extent(problem), layers=tuple(net.spec),
                            specs=(data, network, training))
    return SimpleNamespace(store=store, history=history, built=built)


def frames_of(run, count, side):
    """The frames of ``count`` checkpoints, and the OutputPictures that draws them."""
    pictures = OutputPictures(run.built, side, side)
    checkpoints = list(run.store)
    chosen = pick_frames([c.epoch for c in checkpoints], count)
    return [(checkpoints[i].epoch, lambda w=checkpoints[i].weights: pictures(w)) for i in chosen], pictures


def export(qtbot, path, frames_and_pictures, curves, choices):
    frames, pictures = frames_and_pictures
    exporter = AnimationExport()
    steps = []
    exporter.progress.connect(lambda fraction, text: steps.append((fraction, text)))
    with qtbot.waitSignal(exporter.finished, timeout=WAIT) as done:
        exporter.start(path, frames, curves, choices, owned=[pictures])
    assert not shiboken6.isValid(pictures.view)  # closed once the frames were drawn
    assert exporter.close()
    return done.args[0], steps


def near(frame, colour, tolerance=40):
    return int((np.abs(frame[..., :3].astype(int) - colour).max(axis=2) < tolerance).sum())


def test_an_exported_gif_has_the_requested_frames_and_size_and_the_curve_grows(qtbot, tmp_path, run):
    choices = AnimationChoices(width=480, height=360, fps=10, frames=12, suffix=".gif")
    side = picture_side(480, 360)
    written, steps = export(qtbot, tmp_path / "training.gif", frames_of(run, 12, side), cost_curves(run.history),
                            choices)
    assert written == str(tmp_path / "training.gif") and os.listdir(tmp_path) == ["training.gif"]
    frames = iio.imread(tmp_path / "training.gif", index=None)
    assert frames.shape[:3] == (12, 360, 480)
    assert [text for _, text in steps] == [f"Drawing frame {k} of 12" for k in range(1, 13)] + \
        ["Encoding 12 frames as GIF"]
    assert [fraction for fraction, _ in steps] == [k / 12 for k in range(1, 13)] + [1.0]
    curve = frames[:, :, 480 // 2:]  # the right half: the cost curves, beside the output
    blue = [near(frame, style.BLUE) for frame in curve]
    assert blue[0] < blue[6] < blue[-1]  # the train curve grows
    assert all(a <= b + 5 for a, b in zip(blue, blue[1:]))  # and never shrinks (a few pixels of GIF dither aside)
    assert all(not np.array_equal(a, b) for a, b in zip(frames, frames[1:]))
    pictures = frames[:, 60:300, 20:220]  # the decision boundary changes as the network trains
    assert not np.array_equal(pictures[0], pictures[-1])


def test_an_exported_mp4_has_the_requested_frames_and_size(qtbot, tmp_path, run):
    choices = AnimationChoices(width=640, height=480, fps=24, frames=30, suffix=".mp4", log_scale=True)
    export(qtbot, tmp_path / "training.mp4", frames_of(run, 30, picture_side(640, 480)), cost_curves(run.history),
           choices)
    frames, seconds = imageio_ffmpeg.count_frames_and_secs(str(tmp_path / "training.mp4"))
    assert frames == 30 and seconds == pytest.approx(30 / 24, abs=0.05)
    reader = imageio_ffmpeg.read_frames(str(tmp_path / "training.mp4"))
    assert next(reader)["size"] == (640, 480)
    reader.close()


def test_a_frame_is_the_requested_size_with_the_picture_and_the_curve_to_its_epoch(qtbot, run):
    curves = cost_curves(run.history)
    assert set(curves) == {"train", "test"} and len(curves["train"][0]) == 60
    renderer = FrameRenderer(400, 600, curves, last_epoch=60)  # portrait: the picture above the curves
    picture = np.zeros((50, 50, 3), np.uint8)
    picture[...] = (200, 30, 30)
    frame = renderer.render(30, picture)
    assert frame.shape == (600, 400, 3) and frame.dtype == np.uint8
    assert near(frame[:300], (200, 30, 30), 10) > 100 * 100  # the picture, scaled up, in the top half
    assert len(renderer.lines["train"].xData) == 30 and renderer.lines["train"].xData[-1] == 30
    assert "epoch 30 · train cost" in renderer.title.text
    with pytest.raises(ValueError, match="not an \\(height, width, 3\\) uint8 array: float64 of shape \\(5, 5\\)"):
        renderer.render(31, np.zeros((5, 5)))
    renderer.close()


def test_output_pictures_of_a_table_show_predicted_against_actual(qtbot):
    data = DataSpec(source="house_prices")
    problem = prepare(data)
    network = NetworkSpec(hidden=((4, "tanh"),))
    net = network.build(problem)
    built = SimpleNamespace(problem=problem, extent=None, layers=tuple(net.spec), specs=(data, network, None))
    pictures = OutputPictures(built, 300, 200)
    picture = pictures(net.get_weights())
    assert picture.shape == (200, 300, 3) and len(np.unique(picture.reshape(-1, 3), axis=0)) > 5
    assert len(pictures.view.tabular.scatter.data) == len(problem.X_test)  # every test row, as the view draws them
    pictures.close()


# --- stopping and refusing -------------------------------------------------------------------------
def test_cancelling_while_drawing_writes_nothing(qtbot, tmp_path, run):
    exporter = AnimationExport()
    drawn = []

    def picture(weights):
        drawn.append(1)
        if len(drawn) == 3:
            exporter.cancel()  # as the Cancel button would, between two frames
        return np.full((20, 20, 3), 128, np.uint8)

    checkpoints = list(run.store)
    frames = [(c.epoch, lambda w=c.weights: picture(w)) for c in checkpoints[:10]]
    with qtbot.waitSignal(exporter.cancelled, timeout=WAIT):
        exporter.start(tmp_path / "a.gif", frames, cost_curves(run.history), AnimationChoices(frames=10))
    qtbot.wait(50)
    assert len(drawn) == 3 and not exporter.busy and os.listdir(tmp_path) == []
    assert exporter.close()


def test_encoding_stops_when_told_and_leaves_the_file_before(tmp_path):
    target = tmp_path / "a.gif"
    target.write_bytes(b"before")
    stop = threading.Event()

    def frames():
        for k in range(10):
            if k == 4:
                stop.set()  # as AnimationExport.cancel does, from the GUI thread
            yield np.full((16, 16, 3), 20 * k, np.uint8)

    job = encode(target, frames(), 10, stop)
    assert next(job) == 0.0
    with pytest.raises(Exception) as stopped:
        next(job)
    assert type(stopped.value).__name__ == "_Cancelled"
    assert target.read_bytes() == b"before" and os.listdir(tmp_path) == ["a.gif"]
    job = encode(target, [np.zeros((16, 16, 3), np.uint8)] * 3, 10, threading.Event())
    next(job)
    with pytest.raises(StopIteration) as done:
        next(job)
    assert done.value.value == str(target) and len(iio.imread(target, index=None)) == 1  # Pillow merges repeats


def test_a_picture_that_cannot_be_drawn_fails_the_export_with_why(qtbot, tmp_path, run):
    exporter = AnimationExport()

    def broken():
        raise ValueError("the weights do not fit")

    with qtbot.waitSignal(exporter.failed, timeout=WAIT) as failure:
        exporter.start(tmp_path / "a.gif", [(0, broken), (1, broken)], cost_curves(run.history),
                       AnimationChoices(frames=2))
    assert failure.args == ["frame of epoch 0 could not be drawn: the weights do not fit"]
    assert os.listdir(tmp_path) == [] and exporter.close()


@pytest.mark.parametrize("choices, message", [
    (AnimationChoices(width=641, suffix=".mp4"), "an MP4 needs an even width and height, got 641×480"),
    (AnimationChoices(fps=60, suffix=".gif"), "at most 50 for .gif, got 60"),
    (AnimationChoices(frames=1), "from 2 to 1000, got 1"),
    (AnimationChoices(width=1920, height=1080, frames=100), "need more than 512 MiB"),
    (AnimationChoices(suffix=".avi"), "unknown format '.avi'; expected one of .gif, .mp4"),
])
def test_choices_the_encoder_or_the_memory_cannot_take_are_refused(tmp_path, run, choices, message):
    exporter = AnimationExport()
    with pytest.raises(ValueError, match=message):
        exporter.start(tmp_path / f"a{choices.suffix}", [(0, None)], {}, choices)
    with pytest.raises(ValueError, match="'a.mp4' does not end in .gif"):
        exporter.start(tmp_path / "a.mp4", [(0, None)], {}, AnimationChoices())
    assert not exporter.busy and exporter.close()


# --- dialogs -------------------------------------------------------------------------------------
def test_the_dialog_returns_the_choices_and_offers_no_more_frames_than_checkpoints(qtbot):
    dialog = AnimationDialog(checkpoints=25)
    qtbot.addWidget(dialog)
    assert dialog.frames.maximum() == 25 and dialog.frames.value() == 25
    dialog.frame_size.setCurrentIndex(3)
    assert dialog.frame_size.currentText() == "1280 × 720"
    dialog.format.setCurrentIndex(dialog.format.findData(".mp4"))
    dialog.fps.setValue(30)
    dialog.frames.setValue(20)
    assert dialog.choices() == AnimationChoices(1280, 720, 30, 20, ".mp4")
    assert dialog.length.text() == "0.7 s"
    dialog.format.setCurrentIndex(dialog.format.findData(".gif"))
    assert dialog.fps.maximum() == 50
    too_few = AnimationDialog(checkpoints=1)
    qtbot.addWidget(too_few)
    assert not too_few.buttons.button(QDialogButtonBox.Ok).isEnabled()


def test_the_progress_dialog_follows_the_export_and_closes_when_it_ends(qtbot, tmp_path, run):
    exporter = AnimationExport()
    progress = AnimationProgress(exporter)
    frames, pictures = frames_of(run, 3, 100)
    with qtbot.waitSignal(exporter.finished, timeout=WAIT):
        exporter.start(tmp_path / "a.gif", frames, cost_curves(run.history), AnimationChoices(frames=3),
                       owned=[pictures])
        qtbot.waitUntil(lambda: progress.maximum() == 0)  # busy while encoding
        assert progress.labelText() == "Encoding 3 frames as GIF"
    assert exporter.close()
    qtbot.waitUntil(lambda: not shiboken6.isValid(progress))  # it deletes itself once closed
