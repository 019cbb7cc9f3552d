"""``playground PROJECT.json`` opens that project in the window."""
from PySide6.QtWidgets import QApplication

from core.project import save_project
from core.spec import DataSpec, NetworkSpec, TrainingConfig
from playground import app
from playground.ui.main_window import MainWindow
from window_helpers import WAIT, settled


def test_the_command_opens_a_project_given_on_the_command_line(qtbot, tmp_path, monkeypatch):
    project = tmp_path / "xor.json"
    save_project(project, DataSpec(source="xor"), NetworkSpec(hidden=[[5, "relu"]]), TrainingConfig())
    monkeypatch.setattr(QApplication, "exec", lambda self: 0)  # return at once instead of running the loop
    assert app.run(str(project)) == 0
    window = next(w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible())
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.session.project_path == str(project), timeout=WAIT)
    settled(qtbot, window.session)
    assert window.session.built.specs[0].source == "xor" and window.session.built.layers[0] == (5, "relu")
    window.close()
