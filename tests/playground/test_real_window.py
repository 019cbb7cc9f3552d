"""The real window on a virtual X display: Space trains, Space pauses, Ctrl+S saves, Ctrl+Q quits with status 0.

Training is observed from outside, as a person would notice it: the process burns CPU while
training and idles while paused.
"""
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not (shutil.which("Xvfb") and shutil.which("xdotool")),
                                reason="needs Xvfb and xdotool (.ci/run installs them)")


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _cpu_share(pid: int, seconds: float = 1.5) -> float:
    start = _cpu_seconds(pid)
    time.sleep(seconds)
    return (_cpu_seconds(pid) - start) / seconds


def _xdotool(display, *args):
    return subprocess.run(["xdotool", *args], env={**os.environ, "DISPLAY": display},
                          capture_output=True, text=True, timeout=10)


@pytest.fixture
def display():
    for number in range(90, 120):
        if not Path(f"/tmp/.X11-unix/X{number}").exists() and not Path(f"/tmp/.X{number}-lock").exists():
            break
    name = f":{number}"
    server = subprocess.Popen(["Xvfb", name, "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    yield name
    server.terminate()
    server.wait(10)


def test_space_trains_space_pauses_ctrl_s_saves_ctrl_q_quits(display, tmp_path):
    from core.project import load_project, save_project
    from core.spec import DataSpec, NetworkSpec, TrainingConfig

    project = tmp_path / "circle.json"
    save_project(project, DataSpec(), NetworkSpec(), TrainingConfig())
    command = shutil.which("playground", path=str(Path(sys.executable).parent)) or "playground"
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    env.update(DISPLAY=display, QT_QPA_PLATFORM="xcb", HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "config"),
               XDG_DATA_HOME=str(tmp_path / "data"))
    app = subprocess.Popen([command, str(project)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True)
    try:
        window = ""
        for _ in range(60):
            window = _xdotool(display, "search", "--onlyvisible", "--name", "Backprop Playground").stdout.split()
            if window or app.poll() is not None:
                break
            time.sleep(0.5)
        assert window, f"no window appeared; output:\n{app.stdout.read() if app.poll() is not None else ''}"
        window = window[-1]
        _xdotool(display, "windowfocus", "--sync", window)  # keys typed now go to the window, as a user's
        time.sleep(1.0)
        idle = _cpu_share(app.pid)
        _xdotool(display, "key", "space")
        training = _cpu_share(app.pid)
        _xdotool(display, "key", "space")
        time.sleep(0.5)
        paused = _cpu_share(app.pid)
        assert training > 0.5, f"Space should start training (CPU share {training:.2f})"
        assert idle < 0.3 and paused < 0.3, f"idle {idle:.2f} and paused {paused:.2f} should be near zero"
        _xdotool(display, "key", "ctrl+s")  # the trained run is work: saved, so quitting need not ask
        time.sleep(1.0)
        assert len(load_project(project).history.train_loss) > 0
        _xdotool(display, "key", "ctrl+q")
        status = app.wait(timeout=20)
        output = app.stdout.read()
        assert status == 0, output
        assert "Traceback" not in output and "Error" not in output, output
    finally:
        if app.poll() is None:
            app.kill()
            app.wait()
