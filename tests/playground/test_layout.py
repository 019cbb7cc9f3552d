"""The window fits any screen from 1280×720 up, with a deep network and zoomed for a projector."""
import pytest
from PySide6.QtCore import QPoint, QRect
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QApplication

from window_helpers import settled


def _visible_in(window, widget, min_width, min_height):
    """The widget lies inside the window's client area and has at least this room."""
    top_left = widget.mapTo(window, QPoint(0, 0))
    rect = QRect(top_left, widget.size())
    return (widget.isVisible() and window.rect().contains(rect) and widget.width() >= min_width
            and widget.height() >= min_height), rect


@pytest.mark.parametrize("zoom", [1.0, 1.5])
def test_ten_hidden_layers_at_1280x720_leave_every_panel_usable(qtbot, window, zoom):
    session = window.session
    session.set_view(zoom=zoom)
    for _ in range(8):
        session.add_layer()
    settled(qtbot, session)
    qtbot.wait(50)  # the settings panel takes its width once the font has reached every field
    assert window.minimumSizeHint().width() <= 1280 and window.minimumSizeHint().height() <= 720
    window.resize(1280, 720)
    qtbot.waitUntil(lambda: window.width() == 1280 and window.height() == 720, timeout=2000)
    QApplication.processEvents()
    for widget, width, height in ((window.output_tabs, 280, 180), (window.loss_plot, 280, 150),
                                  (window.diagram.bar_view, 40, 150), (window.diagram.scroll_area, 200, 200),
                                  (window.training_controls.learning_rate, 60, 10)):
        ok, rect = _visible_in(window, widget, width, height)
        assert ok, f"{type(widget).__name__} at {rect.getRect()} in a {window.width()}×{window.height()} window"
    settings = window.settings_panel
    assert settings.widget().width() <= settings.viewport().width()  # nothing clipped on the right
    assert window.diagram.scroll_area.horizontalScrollBar().maximum() > 0  # the diagram scrolls, the window keeps its size
    label = window.epoch_label
    assert QFontMetrics(label.font()).horizontalAdvance("epoch 9,999,999") <= label.width()
    session.set_trace(sample=("train", 3))  # the trace bar takes room under the diagram:
    qtbot.waitUntil(lambda: window.trace_bar.isVisible(), timeout=2000)
    QApplication.processEvents()
    diagram = window.diagram  # it shrinks to fit, every neuron in sight, as it scrolls sideways only
    assert diagram.canvas.height() <= diagram.scroll_area.viewport().height()


def test_a_stray_drag_cannot_make_a_panel_vanish(qtbot, window):
    window.resize(1280, 720)
    for splitter in (window.splitter, window.right_splitter):
        assert not any(splitter.isCollapsible(i) for i in range(splitter.count()))
    window.splitter.moveSplitter(0, 1)  # drag the handle beside the data panel all the way left
    window.splitter.moveSplitter(1280, 2)
    assert window.settings_panel.width() >= window.settings_panel.minimumWidth() > 0
    assert window.right_splitter.width() >= 300


def test_zoom_scales_every_text_and_persists(qtbot, window):
    base = QApplication.font().pointSizeF()
    window.menu.zoom_in.trigger()
    window.menu.zoom_in.trigger()
    assert window.session.view.zoom == 1.5
    assert QApplication.font().pointSizeF() == pytest.approx(base * 1.5)
    window.menu.zoom_reset.trigger()
    assert QApplication.font().pointSizeF() == pytest.approx(base)
    window.menu.zoom_out.trigger()
    window._save_settings()
    from playground.ui.main_window import MainWindow
    again = MainWindow(recovery_folder=window.autosaver.folder)
    qtbot.addWidget(again)
    assert again.session.view.zoom == 0.9
    again.session.mark_saved()
    again.close()


def test_a_csv_in_a_deep_folder_with_a_long_name_does_not_widen_the_window(qtbot, window, tmp_path):
    from core.spec import DataSpec
    folder = tmp_path / ("a folder with a very long name " * 7).strip()
    folder.mkdir()
    path = folder / ("measurements_" * 12 + ".csv")
    path.write_text("a,b,y\n" + "".join(f"{i},{i * 2 % 7},{i % 2}\n" for i in range(40)))
    window.session.set_view(zoom=1.25)  # the settings panel takes the width its fields need
    qtbot.wait(50)
    panel = window.settings_panel.minimumWidth()
    window.session.set_data(DataSpec(source="csv", csv_path=str(path), target="y"))
    settled(qtbot, window.session)
    window.session.set_view(zoom=1.0)
    window.session.set_view(zoom=1.25)
    qtbot.wait(50)
    assert window.settings_panel.minimumWidth() == panel
    label = window.data_controls.source_label
    assert label.toolTip() == str(path) and path.name[:10] in label.text()
