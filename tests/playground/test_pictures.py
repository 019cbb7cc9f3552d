"""Pictures to take away: views as PNG or SVG, the window as PNG, written whole or not at all."""
import os
import xml.etree.ElementTree as ElementTree
from types import SimpleNamespace

import numpy as np
import pytest
from PySide6.QtGui import QImage, QPainter
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QWidget

from core.spec import DataSpec, prepare
from core.trainer import EpochStats
from playground.training.worker import view_extent
from playground.ui.pictures import export_view, export_window, plot_view
from playground.widgets.landscape_view import LandscapeView
from playground.widgets.loss_plot import LossPlot
from playground.widgets.network_diagram import NetworkDiagram
from playground.widgets.output_view import OutputView

SVG = "{http://www.w3.org/2000/svg}"


def svg_elements(path):
    """(tag → count, every text) of an SVG file, which must parse as XML."""
    root = ElementTree.parse(path).getroot()
    assert root.tag == f"{SVG}svg"
    tags, texts = {}, []
    for element in root.iter():
        tag = element.tag.removeprefix(SVG)
        tags[tag] = tags.get(tag, 0) + 1
        if tag == "text" and element.text:
            texts.append(element.text.strip())
    return tags, texts


def pixels(image: QImage) -> np.ndarray:
    """(height, width, 3) ints of an image."""
    image = image.convertToFormat(QImage.Format_RGB888)
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    return rows[:, :3 * image.width()].reshape(image.height(), image.width(), 3).astype(int)


def drawn_back(svg_path, width, height) -> np.ndarray:
    """The SVG drawn by Qt's SVG renderer on white, at ``width`` × ``height``."""
    image = QImage(width, height, QImage.Format_RGB888)
    image.fill(0xFFFFFFFF)
    painter = QPainter(image)
    QSvgRenderer(str(svg_path)).render(painter)
    painter.end()
    return pixels(image)


def looks_alike(a, b, block=8) -> float:
    """The share of ``block``-pixel squares whose mean colour differs by more than 40 of 255 in a channel:
    0 for the same picture antialiased differently; a shifted or rescaled drawing gives 0.5 % and more."""
    h, w = a.shape[0] // block * block, a.shape[1] // block * block
    means = [x[:h, :w].reshape(h // block, block, w // block, block, 3).mean(axis=(1, 3)) for x in (a, b)]
    return float((np.abs(means[0] - means[1]).max(axis=2) > 40).mean())


def shown(qtbot, widget, size=(640, 420)):
    qtbot.addWidget(widget)
    widget.resize(*size)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


@pytest.fixture
def loss_plot(qtbot):
    plot = shown(qtbot, LossPlot())
    plot.history.extend([EpochStats(e, 1 / e, 1 - 1 / (e + 1), 1.2 / e, 1 - 1.1 / (e + 1)) for e in range(1, 101)])
    plot.set_history(plot.history, True)
    return plot


@pytest.fixture
def diagram(qtbot):
    diagram = shown(qtbot, NetworkDiagram(), (700, 480))
    diagram.set_structure([("x1", "X₁", True), ("x2", "X₂", True)], [[4, "tanh"], [2, "tanh"]], (1, "sigmoid"), "bce")
    return diagram


def test_a_plot_is_exported_without_its_controls_as_png_at_its_size(tmp_path, loss_plot):
    assert plot_view(loss_plot) is loss_plot.graphics  # the curves, not the log-scale box
    export_view(loss_plot, tmp_path / "cost.png")
    image = QImage(str(tmp_path / "cost.png"))
    assert (image.width(), image.height()) == (loss_plot.graphics.width(), loss_plot.graphics.height())
    assert len(np.unique(pixels(image).reshape(-1, 3), axis=0)) > 10  # drawn, not blank
    on_screen = pixels(loss_plot.graphics.grab().toImage())
    assert looks_alike(pixels(image), on_screen) < 0.001


def test_a_plot_as_svg_is_vector_drawing(tmp_path, loss_plot):
    export_view(loss_plot, tmp_path / "cost.svg")
    tags, texts = svg_elements(tmp_path / "cost.svg")
    assert tags.get("polyline", 0) + tags.get("path", 0) >= 4  # the curves and axes
    assert {"cost", "accuracy", "epoch"} <= set(texts) and "100" in texts
    view = loss_plot.graphics  # drawn back, it is what the screen shows: text and curves in their places
    on_screen = pixels(view.grab().toImage())
    assert looks_alike(drawn_back(tmp_path / "cost.svg", view.width(), view.height()), on_screen) < 0.001


def test_the_diagram_with_its_header_controls_as_png_and_svg(tmp_path, diagram):
    assert plot_view(diagram) is None  # two pyqtgraph views and Qt headers: it is taken whole
    export_view(diagram, tmp_path / "network.png")
    image = QImage(str(tmp_path / "network.png"))
    assert (image.width(), image.height()) == (diagram.width(), diagram.height())
    export_view(diagram, tmp_path / "network.SVG")  # the suffix in any case
    tags, texts = svg_elements(tmp_path / "network.SVG")
    assert tags.get("path", 0) >= 10  # the edges and neurons, as paths
    assert {"X₁", "X₂", "2 hidden layers", "colour by"} <= set(texts)
    on_screen = pixels(diagram.grab().toImage())  # each neuron one circle, where the screen has it
    assert looks_alike(drawn_back(tmp_path / "network.SVG", diagram.width(), diagram.height()), on_screen) < 0.001


def test_a_deep_network_scrolled_out_of_sight_is_exported_whole(tmp_path, qtbot):
    diagram = shown(qtbot, NetworkDiagram(), (500, 480))
    diagram.set_structure([("x1", "X₁", True)], [[3, "tanh"]] * 8, (1, "sigmoid"), "bce")
    hidden = diagram.scrolled_width()
    assert hidden > 300  # ten columns do not fit in 500 pixels
    diagram.scroll_area.horizontalScrollBar().setValue(200)
    for suffix in (".png", ".svg"):
        export_view(diagram, tmp_path / f"deep{suffix}")
    assert QImage(str(tmp_path / "deep.png")).width() == 500 + hidden
    tags, texts = svg_elements(tmp_path / "deep.svg")
    assert "output" in texts and texts.count("Tanh") == 8  # the last layers' headers too
    assert 'd=""' not in (tmp_path / "deep.svg").read_text()  # no empty paths for readers to warn about
    assert diagram.width() == 500 and diagram.scrolled_width() == hidden  # as it was on screen,
    assert diagram.scroll_area.horizontalScrollBar().value() == 200  # scrolled where it was


def test_the_output_view_exports_the_page_it_shows(tmp_path, qtbot):
    output = shown(qtbot, OutputView())
    problem = prepare(DataSpec())
    output.set_problem(SimpleNamespace(problem=problem, extent=view_extent(problem)))
    assert plot_view(output) is output.plane.plot
    confusion = prepare(DataSpec(source="iris"))
    output.set_problem(SimpleNamespace(problem=confusion, extent=None))
    assert plot_view(output) is None  # the confusion matrix is a table: taken whole
    export_view(output, tmp_path / "confusion.png")
    image = QImage(str(tmp_path / "confusion.png"))
    assert (image.width(), image.height()) == (output.width(), output.height())


def test_the_landscape_view_exports_its_plot(tmp_path, qtbot):
    view = shown(qtbot, LandscapeView())
    assert plot_view(view) is view.plot
    export_view(view, tmp_path / "landscape.svg")
    _, texts = svg_elements(tmp_path / "landscape.svg")
    assert "log₁₀ cost" in texts


def test_the_whole_window_as_png(tmp_path, window):
    export_window(window, tmp_path / "window.png")
    image = QImage(str(tmp_path / "window.png"))
    assert (image.width(), image.height()) == (window.width(), window.height())
    with pytest.raises(ValueError, match="unknown suffix '.svg'; expected one of .png"):
        export_window(window, tmp_path / "window.svg")


def test_bad_names_and_folders_are_refused_and_leave_nothing(tmp_path, loss_plot):
    with pytest.raises(ValueError, match="cannot export 'cost.jpg': unknown suffix '.jpg'; expected one of .png, .svg"):
        export_view(loss_plot, tmp_path / "cost.jpg")
    with pytest.raises(OSError):
        export_view(loss_plot, tmp_path / "missing" / "cost.png")
    empty = QWidget()
    empty.setFixedSize(0, 0)
    with pytest.raises(ValueError, match="nothing to export: the view is 0×0 pixels"):
        export_view(empty, tmp_path / "empty.png")
    assert os.listdir(tmp_path) == []


def test_a_failed_write_keeps_the_file_before(tmp_path, diagram, monkeypatch):
    target = tmp_path / "network.png"
    target.write_bytes(b"the picture before")
    monkeypatch.setattr(QImage, "save", lambda *args: False)
    with pytest.raises(OSError, match="could not write a PNG image to .*network.png"):
        export_view(diagram, target)
    assert target.read_bytes() == b"the picture before"
    assert os.listdir(tmp_path) == ["network.png"]  # no temporary file left behind
    monkeypatch.undo()  # the real save again
    export_view(diagram, target)
    assert QImage(str(target)).width() == diagram.width()


def test_the_colour_bar_keeps_its_scale_for_a_diverged_runs_huge_gradients(diagram):
    shapes = diagram._kernel_shapes()
    grads = [np.full(s, 1e150) for s in shapes]
    grads[0][0, 0] = np.inf  # one overflowed
    diagram.show_snapshot(SimpleNamespace(weights=[(np.zeros(s), np.zeros(s[1])) for s in shapes],
                                          kernel_grads=grads, neuron_grads=[np.full(s[1], 1e150) for s in shapes],
                                          neuron_grids=None, predictions=None))
    low, high = diagram.colour_bar.levels()
    assert high == 150.0 and low < high  # a scale, not two equal numbers


def test_an_overflowed_cost_does_not_flatten_the_cost_axis(qtbot):
    plot = shown(qtbot, LossPlot())
    plot.history.extend([EpochStats(e, 10.0 * e, None, (np.inf if e == 5 else 5.0), None) for e in range(1, 6)])
    plot.set_history(plot.history, True)
    assert plot.cost.viewRange()[1][1] == pytest.approx(1.1 * 50.0)  # the highest finite cost, with a margin
