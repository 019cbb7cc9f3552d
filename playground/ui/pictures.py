"""Pictures to take away: any view as PNG or SVG, the whole window as PNG.

A view showing one pyqtgraph plot (the cost curves, the output, the landscape) is exported without its
controls: PNG through pyqtgraph's ``ImageExporter``, SVG by rendering the plot through Qt's
``QSvgGenerator`` (QtSvg, part of PySide6-Essentials). pyqtgraph's own ``SVGExporter`` cannot be used:
in pyqtgraph 0.14 it fails on the path data Qt 6.10 and later write (pyqtgraph issue #3485). Other
views (the network diagram with its header controls, tables) are taken whole, the part of a deep
network scrolled out of sight too: PNG by
``QWidget.grab()``, SVG by rendering the widget through ``QSvgGenerator``, so their drawing stays
vector paths and text. Files are written beside their final name and renamed once complete.
"""
from __future__ import annotations

import re
from contextlib import contextmanager
from pathlib import Path

import pyqtgraph as pg
from pyqtgraph.exporters import ImageExporter
from PySide6.QtCore import QBuffer, QIODevice, QPoint, QRect, QRectF, QSize
from PySide6.QtGui import QImage, QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox, QScrollBar, QWidget

from core.io import atomic_file

SUFFIXES = (".png", ".svg")
EMPTY_PATH = re.compile(r'<path\b[^>]*\sd=""[^>]*/>\s*')
FILTERS = {".png": "PNG image (*.png)", ".svg": "SVG drawing (*.svg)"}


def export_view(widget: QWidget, path) -> None:
    """Write the picture ``widget`` shows to ``path``, a PNG or an SVG by its suffix, at the widget's
    size in pixels. ValueError for another suffix or a widget of no size; OSError if it cannot be written."""
    path = Path(path)
    suffix = _checked_suffix(path, SUFFIXES)
    view = plot_view(widget)
    source = view if view is not None else widget
    _check_size(source)
    with atomic_file(path) as tmp, _whole(widget):
        if suffix == ".svg":
            _write_svg(source, tmp, path)
        elif view is not None:
            _save(ImageExporter(view.scene()).export(toBytes=True), tmp, path)
        else:
            _save(widget.grab().toImage(), tmp, path)


def export_window(window: QWidget, path) -> None:
    """Write the whole window (menus, toolbar and every panel) as a PNG at its size in pixels."""
    path = Path(path)
    _checked_suffix(path, (".png",))
    _check_size(window)
    with atomic_file(path) as tmp:
        _save(window.grab().toImage(), tmp, path)


def plot_view(widget: QWidget):
    """The pyqtgraph view (PlotWidget, GraphicsLayoutWidget) that ``widget`` is or shows, if it shows
    exactly one (a stacked widget's hidden pages do not count); else None."""
    if isinstance(widget, pg.GraphicsView):
        return widget
    shown = [view for view in widget.findChildren(pg.GraphicsView) if view.isVisibleTo(widget)]
    return shown[0] if len(shown) == 1 else None


def ask_export_view(parent: QWidget, widget: QWidget, name: str) -> bool:
    """Ask where to save ``widget``'s picture (PNG or SVG), save it, and say so if it fails; True if saved."""
    return _ask(parent, f"Export {name}", f"{name}.png", SUFFIXES, lambda path: export_view(widget, path))


def ask_export_window(window: QWidget) -> bool:
    return _ask(window, "Export the window", "window.png", (".png",), lambda path: export_window(window, path))


def _ask(parent, title, default_name, suffixes, write) -> bool:
    filters = ";;".join(FILTERS[s] for s in suffixes)
    path, chosen = QFileDialog.getSaveFileName(parent, title, default_name, filters)
    if not path:
        return False
    if Path(path).suffix.lower() not in suffixes:  # the filter chosen says which
        path += next((s for s in suffixes if FILTERS[s] == chosen), suffixes[0])
    try:
        write(path)
    except (ValueError, OSError) as error:
        QMessageBox.warning(parent, title, f"Cannot export the picture:\n\n{error}")
        return False
    return True


def _checked_suffix(path: Path, allowed) -> str:
    suffix = path.suffix.lower()
    if suffix not in allowed:
        raise ValueError(f"cannot export {path.name[:80]!r}: unknown suffix {path.suffix[:20]!r}; "
                         f"expected one of {', '.join(allowed)}")
    return suffix


def _check_size(widget: QWidget) -> None:
    if widget.width() <= 0 or widget.height() <= 0:
        raise ValueError(f"nothing to export: the view is {widget.width()}×{widget.height()} pixels")


def _save(image: QImage, tmp: Path, path: Path) -> None:
    if image.isNull() or not image.save(str(tmp), "PNG"):
        raise OSError(f"could not write a PNG image to {path}")


def _write_svg(widget: QWidget, tmp: Path, path: Path) -> None:
    """Render ``widget`` (a pyqtgraph view or any widget) as vector drawing into the SVG file ``tmp``,
    which becomes ``path``."""
    width, height = widget.width(), widget.height()
    drawing = QBuffer()  # in memory first: the text is cleaned before it is written
    drawing.open(QIODevice.WriteOnly)
    generator = QSvgGenerator()
    generator.setOutputDevice(drawing)
    generator.setSize(QSize(width, height))
    generator.setViewBox(QRect(0, 0, width, height))
    generator.setTitle(path.stem)
    generator.setDescription("Backprop Playground")
    generator.setResolution(widget.logicalDpiX())  # as on screen: the views lay out text for this resolution
    painter = QPainter()
    if not painter.begin(generator):
        raise OSError(f"could not write an SVG drawing to {path}")
    try:
        with _exporting(widget):
            if isinstance(widget, pg.GraphicsView):  # the scene as the view shows it, without the widget's frame
                widget.render(painter, QRectF(0, 0, width, height), QRect(0, 0, width, height))
            else:
                QWidget.render(widget, painter, QPoint())
    finally:
        painter.end()  # finishes the drawing; a painter left open on the generator crashes Python
    text = bytes(drawing.data()).decode("utf-8")
    if not text:
        raise OSError(f"could not write an SVG drawing to {path}")
    # empty items (a curve with no points yet) become paths without data, which readers warn about
    tmp.write_text(EMPTY_PATH.sub("", text), encoding="utf-8")


@contextmanager
def _whole(widget: QWidget):
    """A view that scrolls part of itself (the diagram of a deep network: ``scrolled_width()`` pixels
    out of sight) is laid out wide enough to show all of it meanwhile, so that the picture has it all."""
    hidden = widget.scrolled_width() if hasattr(widget, "scrolled_width") else 0
    if hidden <= 0:
        yield
        return
    size = widget.size()
    scrolled = [(bar, bar.value()) for bar in widget.findChildren(QScrollBar)]
    widget.resize(size.width() + hidden, size.height())
    QApplication.sendPostedEvents()  # the layouts inside it follow the new size now, not after the export
    try:
        yield
    finally:
        widget.resize(size)
        QApplication.sendPostedEvents()
        for bar, value in scrolled:  # scrolled where the user left it
            bar.setValue(value)


@contextmanager
def _exporting(widget: QWidget):
    """pyqtgraph's items in ``widget`` draw as for an export meanwhile: a scatter's symbols each as a
    path, instead of pieces of one cached pixmap, which the SVG generator cannot crop."""
    views = [widget] if isinstance(widget, pg.GraphicsView) else widget.findChildren(pg.GraphicsView)
    items = [item for view in views for item in view.scene().items() if hasattr(item, "setExportMode")]
    for item in items:
        item.setExportMode(True, {"antialias": True, "resolutionScale": 1.0})
    try:
        yield
    finally:
        for item in items:
            item.setExportMode(False)
