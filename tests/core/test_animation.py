"""Animations written from frames: read back for their frame count, size and rate. No Qt needed."""
from pathlib import Path

import numpy as np
import pytest
from blocked_imports import run_without

from playground.animation import write_animation

ROOT = Path(__file__).resolve().parents[2]


def _frames(n, height=48, width=64):
    """Distinct frames: a bar that moves across a gradient."""
    frames = []
    for i in range(n):
        frame = np.zeros((height, width, 3), dtype=np.uint8)
        frame[..., 0] = np.linspace(0, 255, width, dtype=np.uint8)
        frame[:, (i * 3) % width, 1] = 255
        frame[i % height, :, 2] = 200
        frames.append(frame)
    return frames


def test_a_gif_has_the_frames_size_and_rate_asked_for(tmp_path):
    from PIL import Image

    assert write_animation(tmp_path / "run.gif", iter(_frames(24)), fps=20) == 24
    with Image.open(tmp_path / "run.gif") as gif:
        assert (gif.format, gif.n_frames, gif.size, gif.info["loop"]) == ("GIF", 24, (64, 48), 0)
        durations = []
        for i in range(gif.n_frames):
            gif.seek(i)
            durations.append(gif.info["duration"])
    assert durations == [50] * 24  # 20 frames a second


def test_a_gif_reads_back_close_to_its_frames(tmp_path):
    import imageio.v3 as iio

    frames = _frames(5)
    write_animation(tmp_path / "run.gif", frames, fps=5)
    back = iio.imread(tmp_path / "run.gif", index=None)[..., :3]
    assert back.shape == (5, 48, 64, 3)
    assert np.abs(back.astype(int) - np.array(frames, dtype=int)).mean() < 8  # a 256-colour palette per frame


def test_an_mp4_has_the_frames_size_and_rate_asked_for(tmp_path):
    import imageio.v3 as iio

    assert write_animation(tmp_path / "run.mp4", (f for f in _frames(30, 60, 80)), fps=15) == 30
    video = iio.imread(tmp_path / "run.mp4", plugin="FFMPEG", index=None)
    meta = iio.immeta(tmp_path / "run.mp4", plugin="FFMPEG")
    assert video.shape == (30, 60, 80, 3) and meta["fps"] == 15 and meta["codec"] == "h264"


@pytest.mark.parametrize("name, frames, fps, message", [
    ("a.gif", [], 10, "no frames to write"),
    ("a.mp4", [], 10, "no frames to write"),
    ("a.avi", _frames(2), 10, "unknown suffix '.avi'"),
    ("a.gif", _frames(2), 0, "fps must be above 0 and at most 50 for .gif"),
    ("a.gif", _frames(2), 60, "fps must be above 0 and at most 50"),
    ("a.mp4", _frames(2), True, "fps must be above 0 and at most 120 for .mp4"),
    ("a.gif", [np.zeros((8, 8, 3))], 10, r"frame 0: expected an \(height, width, 3\) uint8 array, got float64"),
    ("a.gif", [np.zeros((8, 8), np.uint8)], 10, "frame 0: expected"),
    ("a.mp4", _frames(1) + _frames(1, 40, 64), 10, "frame 1 is 64×40; the first was 64×48"),
    ("a.mp4", _frames(2, 47, 64), 10, "an MP4 needs an even width and height, got 64×47"),
])
def test_bad_animations_are_refused_and_leave_the_old_file(tmp_path, name, frames, fps, message):
    (tmp_path / name).write_bytes(b"old")
    with pytest.raises(ValueError, match=message):
        write_animation(tmp_path / name, frames, fps=fps)
    assert (tmp_path / name).read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no temporary file left behind


def test_the_writer_imports_without_qt():
    body = "import playground.animation, sys; assert 'PySide6' not in sys.modules"
    result = run_without(("PySide6", "shiboken6", "pyqtgraph"), body, cwd=ROOT)
    assert result.returncode == 0, result.stderr
