"""The network diagram: build the network by clicking, see its gradients (or weights) in colour, what
each hidden neuron computes (2-D data), one sample's chain rule, and type or drag a weight.

Columns are the inputs, the hidden layers and the output. Edges are bucketed by (colour, width);
each bucket is one ``connect='pairs'`` path and all of them are drawn by a single item, so a frame
costs one Python paint call however many edges there are (while training holds the GIL, every
Python call of the UI thread has to wait for it). Layers wider than ``MAX_SHOWN`` are drawn as an
evenly spaced sample of their neurons with a count.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QRect, QRectF, Qt, Signal
from PySide6.QtGui import QFont, QFontMetrics, QTransform
from PySide6.QtWidgets import (QButtonGroup, QComboBox, QFrame, QGraphicsItem, QGraphicsSimpleTextItem, QHBoxLayout,
                               QLabel, QPushButton, QRadioButton, QScrollArea, QSizePolicy, QToolTip, QVBoxLayout,
                               QWidget)

from core import activations
from playground.training.protocol import SHOWN_PER_LAYER, shown_units
from playground.widgets import style
from playground.widgets.diagram_overlays import NeuronPictures, TraceOverlay
from playground.widgets.fields import CountField

MAX_SHOWN = SHOWN_PER_LAYER  # neurons drawn per column; wider layers show an evenly spaced sample
COLOUR_BUCKETS = 16
WIDTHS = (0.8, 1.8, 3.2)  # pixels, by |W| relative to the largest weight shown
DECADES = 4  # the gradient colour map spans this many powers of ten below the largest gradient
COLOUR_BAR_WIDTH = 90
HIT_PX = 8  # an edge answers the pointer this close, a neuron this much beyond its rim
TOOLTIP_MS = 24 * 3600 * 1000  # a tooltip stays while the pointer does: it goes when the pointer leaves
DRAG_PER_PX = 0.01  # a dragged weight moves this much per pixel (times its size, at least 1)
INPUT_X = 0.7  # the inputs sit right of their column's middle, leaving room for their names
COLUMN_WIDTH = 104  # pixels a column needs at zoom 1; narrower panes scroll instead of growing the window
BUTTON = 24  # pixels of a header button at zoom 1
HIDDEN_ACTIVATIONS = [name for name in activations.ACTIVATIONS if name != "softmax"]


def _tool_button(text: str, tip: str) -> QPushButton:
    button = QPushButton(text)
    button.setToolTip(tip)
    button.setFixedSize(BUTTON, BUTTON)
    button.setFocusPolicy(Qt.NoFocus)  # Space stays play/pause
    return button


class LayerHeader(QWidget):
    """Above a hidden layer: − / count / + for its neurons; its activation and × to remove it."""

    units_changed = Signal(int, object)  # layer index, new unit count (any typed int)
    activation_changed = Signal(int, str)
    removed = Signal(int)  # layer index

    def __init__(self, index: int, units: int, activation: str):
        super().__init__()
        self.minus = _tool_button("−", "")
        self.remove = _tool_button("×", "")
        self.plus = _tool_button("+", "")
        self.count = CountField("Neurons in this layer (type a number for a wide layer)")
        self.count.setButtonSymbols(CountField.NoButtons)
        self.count.setAlignment(Qt.AlignCenter)
        self.activation = QComboBox()
        for name in HIDDEN_ACTIVATIONS:
            self.activation.addItem(activations.ACTIVATIONS[name].label, name)
        self.activation.setFocusPolicy(Qt.NoFocus)
        self.activation.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.activation.setMinimumContentsLength(4)  # long names elide instead of widening the column
        self.activation.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Fixed)
        self.update_layer(index, units, activation)
        self.remove.clicked.connect(lambda: self.removed.emit(self.index))
        self.minus.clicked.connect(lambda: self._emit_units(max(self.units - 1, 1)))
        self.plus.clicked.connect(lambda: self._emit_units(self.units + 1))
        self.count.entered.connect(self._emit_units)
        self.activation.activated.connect(
            lambda i: self.activation_changed.emit(self.index, self.activation.itemData(i)))
        top = QHBoxLayout()
        top.setSpacing(1)
        top.addStretch()
        for widget in (self.minus, self.count, self.plus):
            top.addWidget(widget)
        top.addStretch()
        bottom = QHBoxLayout()
        bottom.setSpacing(1)
        bottom.addWidget(self.activation, 1)
        bottom.addWidget(self.remove)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(3, 0, 3, 0)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addLayout(bottom)

    def update_layer(self, index: int, units: int, activation: str) -> None:
        """Show layer ``index`` as it now is, without emitting anything."""
        self.index, self.units = index, int(units)
        for widget in (self.count, self.activation):
            widget.blockSignals(True)
        self.count.show_value(self.units)
        self.activation.setCurrentIndex(max(HIDDEN_ACTIVATIONS.index(activation) if activation in HIDDEN_ACTIVATIONS
                                            else -1, 0))
        for widget in (self.count, self.activation):
            widget.blockSignals(False)
        self.minus.setToolTip(f"Remove a neuron from hidden layer {index + 1}")
        self.plus.setToolTip(f"Add a neuron to hidden layer {index + 1}")
        self.remove.setToolTip(f"Remove hidden layer {index + 1}")
        self.activation.setToolTip(f"Activation of hidden layer {index + 1}: "
                                   f"{activations.ACTIVATIONS[activation].label}")

    def set_zoom(self, zoom: float) -> None:
        for button in (self.minus, self.plus, self.remove):
            button.setFixedSize(round(BUTTON * zoom), round(BUTTON * zoom))
        self.count.setFixedWidth(round(44 * zoom))

    def _emit_units(self, units: int):
        if units != self.units:
            self.units = units
            self.units_changed.emit(self.index, units)


def _label(text: str, colour: str, x: float, y: float, anchor, font: QFont) -> QGraphicsSimpleTextItem:
    """Text at view point (x, y), ``anchor`` its fraction to put there; drawn by Qt alone (no Python
    paint call, which would wait for the GIL while training runs)."""
    item = QGraphicsSimpleTextItem(text)
    item.setFont(font)
    item.setBrush(pg.mkBrush(colour))
    item.setFlag(QGraphicsItem.ItemIgnoresTransformations)  # constant size in pixels
    bounds = item.boundingRect()
    item.setTransform(QTransform.fromTranslate(-anchor[0] * bounds.width(), -anchor[1] * bounds.height()))
    item.setPos(x, y)
    return item


class EdgeLines(pg.GraphicsObject):
    """Every edge in one item: ``strokes[(width class, colour bucket)] = (pen, path)``, thin under thick."""

    def __init__(self):
        super().__init__()
        self.strokes = {}
        self.bounds = QRectF()

    def set_bounds(self, rect: QRectF) -> None:
        self.prepareGeometryChange()
        self.bounds = rect

    def boundingRect(self) -> QRectF:
        return self.bounds

    def paint(self, painter, *args):
        for key in sorted(self.strokes):
            pen, path = self.strokes[key]
            painter.setPen(pen)
            painter.drawPath(path)


class NetworkDiagram(QWidget):
    """``set_structure`` when the architecture changes; ``show_snapshot`` to recolour."""

    layer_added = Signal()
    layer_removed = Signal()
    layer_deleted = Signal(int)  # a given hidden layer's × was clicked
    units_changed = Signal(int, object)
    activation_changed = Signal(int, str)
    feature_toggled = Signal(str)
    mode_requested = Signal(str)  # "gradients" or "weights"
    weight_edit_requested = Signal(int, int, object, float)  # layer, row, column (None: the bias), its value
    weight_dragged = Signal(int, int, object, float)  # the same, with the value dragged to
    # hidden layer, drawn position and unit of the neuron under the pointer; −1, −1, −1 off it
    neuron_hovered = Signal(int, int, int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.mode = "gradients"
        self.zoom = 1.0
        self.columns = []  # per column: dict(x, ys, units, names)
        self.edges = []  # per layer: dict(src, dst, x0, y0, x1, y1)
        self.snapshot = None
        self.neuron_high = 0.0
        self.drawn_keys = None  # per edge, the curve (colour bucket × width class) it is drawn in
        self.structure = None
        self.label_font = QFont()
        self.pictures_on = True
        self.trace_values = None  # per column, the followed sample's value at each drawn neuron
        self.drag = None  # (layer, row, column, value at the press, press y in px) while a weight is dragged
        self.hovered = (-1, -1, -1)
        self.node_size, self.picture_size = 20.0, None  # px, as drawn: a neuron answers the pointer within them

        self.layer_count = QLabel()
        self.add_layer = _tool_button("+", "Add a hidden layer")
        self.remove_layer = _tool_button("−", "Remove the last hidden layer")
        self.add_layer.clicked.connect(self.layer_added)
        self.remove_layer.clicked.connect(self.layer_removed)
        self.colour_by = QButtonGroup(self)
        top = QHBoxLayout()
        top.addWidget(self.remove_layer)
        top.addWidget(self.add_layer)
        top.addWidget(self.layer_count)
        top.addStretch()
        top.addWidget(QLabel("colour by"))
        for mode, tip in (("gradients", "Edges by |dJ/dW|, neurons by |dJ/dz| (log scale)"),
                          ("weights", "Edges by weight, neurons by bias (orange < 0 < blue)")):
            button = QRadioButton(mode)
            button.setToolTip(tip)
            button.setFocusPolicy(Qt.NoFocus)
            button.setChecked(mode == self.mode)
            button.toggled.connect(lambda on, m=mode: on and m != self.mode and self.mode_requested.emit(m))
            self.colour_by.addButton(button)
            top.addWidget(button)

        self.headers = QHBoxLayout()
        self.headers.setSpacing(0)
        self.header_widgets = []
        self.inputs_header, self.output_header = QLabel(), QLabel()
        for label in (self.inputs_header, self.output_header):
            label.setAlignment(Qt.AlignCenter)
            label.setWordWrap(True)
            label.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.output_header.setToolTip("The output layer follows the problem: linear for regression, sigmoid "
                                      "for two classes, softmax for several")

        self.view = pg.GraphicsLayoutWidget()
        self.view.setMinimumHeight(120)  # the pane sets the height: the neurons are spaced to fit it
        self.view.ci.layout.setContentsMargins(0, 0, 0, 0)
        self.box = self.view.addViewBox(row=0, col=0, enableMouse=False, enableMenu=False)
        self.box.setDefaultPadding(0)
        self.bar_view = pg.GraphicsLayoutWidget()
        self.bar_view.setFixedWidth(COLOUR_BAR_WIDTH)
        self.colour_bar = pg.ColorBarItem(values=(-DECADES, 0), colorMap=style.GRADIENT, interactive=False,
                                          width=14)
        self.bar_view.addItem(self.colour_bar)

        self.edge_lines = EdgeLines()
        self.box.addItem(self.edge_lines)
        self._set_edge_pens()
        self.pens = {"on": pg.mkPen("#444", width=1.2), "off": pg.mkPen("#bbb", width=1.2)}
        self.brushes = {"input": pg.mkBrush(*style.BLUE), "off": pg.mkBrush(235, 235, 235),
                        "clear": pg.mkBrush(0, 0, 0, 0)}
        for mode, cmap in (("gradients", style.GRADIENT), ("weights", style.DIVERGING)):
            for b, colour in enumerate(cmap.map((np.arange(COLOUR_BUCKETS) + 0.5) / COLOUR_BUCKETS, mode="byte")):
                self.brushes[mode, b] = pg.mkBrush(*colour[:3])
        self.nodes = pg.ScatterPlotItem(size=18, pxMode=True, hoverable=False)
        self.nodes.setZValue(10)
        self.nodes.sigClicked.connect(self._node_clicked)
        self.box.addItem(self.nodes)
        self.pictures = NeuronPictures()
        self.box.addItem(self.pictures)
        self.trace_overlay = TraceOverlay(self.box, EdgeLines)
        self.picture_pens = [pg.mkPen(*colour[:3], width=3)
                             for colour in style.GRADIENT.map((np.arange(COLOUR_BUCKETS) + 0.5) / COLOUR_BUCKETS,
                                                              mode="byte")]
        self.labels = []
        self.view.scene().sigMouseMoved.connect(self._hover)
        self.box.sigTransformChanged.connect(self._resized)  # after a resize, once the view's range is set
        self.view.viewport().installEventFilter(self)  # double-click or press and drag an edge: its weight

        # Headers and network share one canvas, so columns stay aligned; the canvas needs a width per
        # column and scrolls when the pane is narrower, instead of widening the window.
        self.canvas = QWidget()
        canvas_layout = QVBoxLayout(self.canvas)
        canvas_layout.setContentsMargins(0, 0, 0, 0)
        canvas_layout.setSpacing(2)
        canvas_layout.addLayout(self.headers)
        canvas_layout.addWidget(self.view, 1)
        self.scroll_area = QScrollArea()
        self.scroll_area.setWidget(self.canvas)
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QFrame.NoFrame)
        self.scroll_area.setVerticalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.scroll_area.setMinimumWidth(2 * COLUMN_WIDTH)
        self.scroll_area.viewport().installEventFilter(self)  # the canvas is as tall as the pane, never taller
        body = QHBoxLayout()
        body.setSpacing(0)
        body.addWidget(self.scroll_area, 1)
        body.addWidget(self.bar_view)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addLayout(body, 1)

    def scrolled_width(self) -> int:
        """Pixels of the diagram out of sight, scrolled (a picture of it widens it by as much)."""
        return max(0, self.canvas.minimumWidth() - self.scroll_area.viewport().width())

    # --- structure ---------------------------------------------------------------------
    def set_structure(self, inputs, hidden, output, loss: str = "", toggleable: bool = False) -> None:
        """inputs: [(key, label, active), ...], the candidate inputs and which feed the network;
        hidden: [(units, activation), ...]; output: (units, activation). With ``toggleable``
        a click on an input emits ``feature_toggled(key)``."""
        structure = (tuple(map(tuple, inputs)), tuple(map(tuple, hidden)), tuple(output), loss, toggleable)
        if structure == self.structure:
            return
        self.structure = structure
        self.input_keys = [key for key, _, _ in inputs]
        self.input_names = [label for _, label, _ in inputs]
        self.active = [bool(on) for _, _, on in inputs]
        self.toggleable = toggleable
        self.hidden = [list(layer) for layer in hidden]
        self.output = tuple(output)
        n_hidden = len(self.hidden)
        self.layer_count.setText(f"{n_hidden} hidden layer{'s' * (n_hidden != 1)}")
        self.remove_layer.setEnabled(n_hidden > 0)
        self._build_headers(loss)
        self.canvas.setMinimumWidth(round(COLUMN_WIDTH * self.zoom) * (len(self.hidden) + 2))
        self._layout_columns()
        self._layout_edges()
        self._draw_labels()
        if self.snapshot is not None and [w[0].shape for w in self.snapshot.weights] != self._kernel_shapes():
            self.snapshot = None  # the new structure is grey until its first snapshot
        self.trace_values = None
        self.trace_overlay.hide()
        self._place_nodes()
        self._recolour()

    def _build_headers(self, loss):
        """Reuse the header widgets there are (a click on one must not destroy it), add or drop the rest."""
        toggle = "<br>click to toggle" if self.toggleable else ""
        self.inputs_header.setText(f"<b>inputs</b><br>{sum(self.active)} of {len(self.input_names)}{toggle}")
        units, act = self.output
        self.output_header.setText(f"<b>output</b><br>{activations.ACTIVATIONS[act].label}" +
                                   (f" · {loss}" if loss else ""))
        while len(self.header_widgets) > len(self.hidden):
            header = self.header_widgets.pop()
            self.headers.removeWidget(header)
            header.deleteLater()
        for i, (units, act) in enumerate(self.hidden):
            if i < len(self.header_widgets):
                self.header_widgets[i].update_layer(i, units, act)
                continue
            header = LayerHeader(i, int(units), act)
            header.set_zoom(self.zoom)
            header.units_changed.connect(self.units_changed)
            header.activation_changed.connect(self.activation_changed)
            header.removed.connect(self.layer_deleted)
            self.header_widgets.append(header)
        while self.headers.count():
            self.headers.takeAt(0)
        for widget in [self.inputs_header, *self.header_widgets, self.output_header]:
            self.headers.addWidget(widget, 1)

    def _layout_columns(self):
        unit_counts = [len(self.input_names)] + [int(u) for u, _ in self.hidden] + [int(self.output[0])]
        self.columns = []
        tallest = max(min(n, MAX_SHOWN) for n in unit_counts)
        for c, n in enumerate(unit_counts):
            shown = shown_units(n)  # the same neurons the worker draws pictures of
            ys = (len(shown) - 1) / 2 - np.arange(len(shown), dtype=float)
            if c == 0:  # kernel rows exist only for active inputs
                rows = np.cumsum(self.active) - 1
                units = np.where(self.active, rows, -1)[shown]
            else:
                units = shown
            x = c + (INPUT_X if c == 0 else 0.5)
            self.columns.append(dict(x=x, ys=ys, units=units, total=n, shown=shown))
        self.tallest = tallest
        self.box.setRange(xRange=(0, len(unit_counts)), yRange=(-tallest / 2 - 0.6, tallest / 2), padding=0)
        self.edge_lines.set_bounds(QRectF(0, -tallest / 2 - 0.6, len(unit_counts), tallest + 0.6))

    def _layout_edges(self):
        self.edges = []
        for left, right in zip(self.columns, self.columns[1:]):
            keep = left["units"] >= 0
            src_y, src = left["ys"][keep], left["units"][keep]
            a, b = np.meshgrid(np.arange(len(src)), np.arange(len(right["units"])), indexing="ij")
            a, b = a.ravel(), b.ravel()
            self.edges.append(dict(src=src[a], dst=right["units"][b], y0=src_y[a], y1=right["ys"][b],
                                   x0=np.full(len(a), left["x"]), x1=np.full(len(a), right["x"])))
        self.drawn_keys = None
        self.edge_xy = {k: np.concatenate([e[k] for e in self.edges]) if self.edges else np.zeros(0)
                        for k in ("x0", "y0", "x1", "y1")}

    def _draw_labels(self):
        """Input names left of their neurons, elided to the room there is (the tooltip has them whole)."""
        for label in self.labels:
            self.box.removeItem(label)
        first = self.columns[0]
        room = max(self.view.width() / max(len(self.columns), 1) * (INPUT_X - 0.16), 20)
        metrics = QFontMetrics(self.label_font)
        self.labels = [_label(metrics.elidedText(self.input_names[i], Qt.ElideMiddle, int(room)),
                              "#222" if self.active[i] else "#aaa", first["x"] - 0.12, y, (1, 0.5), self.label_font)
                       for i, y in zip(first["shown"], first["ys"])]
        self.labels += [_label(f"{len(c['units'])} of {c['total']} shown", "#555", c["x"], c["ys"][-1] - 0.4, (0.5, 0),
                               self.label_font) for c in self.columns if c["total"] > len(c["units"])]
        for label in self.labels:
            self.box.addItem(label)

    def set_zoom(self, zoom: float) -> None:
        """Scale the neurons, labels and headers (the window's font scales the rest)."""
        self.zoom = zoom
        self.label_font = QFont()
        self.label_font.setPointSizeF(QFont().pointSizeF())
        for header in self.header_widgets:
            header.set_zoom(zoom)
        for button in (self.add_layer, self.remove_layer):
            button.setFixedSize(round(BUTTON * zoom), round(BUTTON * zoom))
        self.bar_view.setFixedWidth(round(COLOUR_BAR_WIDTH * zoom))
        self.colour_bar.axis.setWidth(None)  # the bar fixes 45 px; its ticks and label need more when larger
        self.colour_bar.axis.setStyle(tickFont=self.label_font)
        self.colour_bar.axis.label.setFont(self.label_font)
        if self.columns:
            self.canvas.setMinimumWidth(round(COLUMN_WIDTH * zoom) * len(self.columns))
            self._draw_labels()
            self._place_nodes()
            self._colour_nodes()

    # --- colour ------------------------------------------------------------------------
    def set_mode(self, mode: str) -> None:
        if mode == self.mode:
            return
        self.mode = mode
        for button in self.colour_by.buttons():
            button.blockSignals(True)
            button.setChecked(button.text() == mode)
            button.blockSignals(False)
        self._set_edge_pens()
        self.drawn_keys = None
        self._recolour()

    def show_snapshot(self, snapshot) -> None:
        """Recolour by what ``snapshot`` holds (weights, gradients, neuron pictures): a Snapshot or a past
        checkpoint's Previewed."""
        if snapshot is not None and [tuple(w[0].shape) for w in snapshot.weights] != self._kernel_shapes():
            return  # a snapshot of the previous architecture, still in flight
        self.snapshot = snapshot
        if snapshot is not None:  # neurons share one log scale across layers
            grads = np.concatenate([g.ravel() for g in snapshot.neuron_grads])
            finite = grads[np.isfinite(grads)]
            self.neuron_high = float(np.log10(max(finite.max(initial=0.0), 1e-30)))
            # outputs computed (for a table: predictions, and no pictures); else the pictures stay
            if snapshot.neuron_grids is not None or snapshot.predictions is not None:
                showing = self._showing_pictures()
                self.pictures.show_grids(snapshot.neuron_grids if self.pictures_on else None)
                if showing != self._showing_pictures():  # neurons become pictures (or circles again)
                    self._place_nodes()
        self._recolour()

    def set_pictures(self, on: bool) -> None:
        """Show what each hidden neuron computes over the input plane (2-D data only)."""
        self.pictures_on = on
        if not on:
            self.pictures.show_grids(None)
        elif self.snapshot is not None and self.snapshot.neuron_grids is not None:
            self.pictures.show_grids(self.snapshot.neuron_grids)
        if self.columns:
            self._place_nodes()
            self._colour_nodes()

    def show_trace(self, trace, mode: str, layer) -> None:
        """One sample's chain rule (a ``core.explain.Trace``, None to stop): each drawn neuron shows its
        activation ``a`` (mode "forward") or ``dJ/dz`` ("backward"), and ``layer`` is highlighted."""
        fits = trace is not None and [len(t.z) for t in trace.layers] == [c["total"] for c in self.columns[1:]]
        if not fits:
            stopping = self.trace_values is not None
            self.trace_values = None
            self.trace_overlay.hide()
            if stopping and self.columns:
                self._place_nodes()
            self._colour_nodes()
            return
        first = self.columns[0]
        inputs = trace.layers[0].a_prev if mode == "forward" else trace.layers[0].grad_a_prev
        values = [np.where(first["units"] >= 0, inputs[np.maximum(first["units"], 0)], np.nan)]
        for column, step in zip(self.columns[1:], trace.layers):
            values.append((step.a if mode == "forward" else step.grad_z)[column["units"]])
        starting = self.trace_values is None
        self.trace_values = values
        if starting:  # the neurons show the sample's values: circles, not pictures
            self._place_nodes()
        active = [v[np.isfinite(v)] for v in values]
        self.trace_overlay.show([{**c, "ys": c["ys"][np.isfinite(v)]} for c, v in zip(self.columns, values)],
                                self.edges, active, layer, self.label_font)
        self._colour_nodes()

    def _kernel_shapes(self):
        sizes = [sum(self.active)] + [int(u) for u, _ in self.hidden] + [int(self.output[0])]
        return list(zip(sizes, sizes[1:]))

    def _set_edge_pens(self):
        cmap = style.GRADIENT if self.mode == "gradients" else style.DIVERGING
        colours = cmap.map(np.linspace(0, 1, COLOUR_BUCKETS), mode="byte")
        # opaque pens: Qt draws them much faster than translucent ones
        self.edge_pens = {(b, w): pg.mkPen(tuple(colours[b][:3]), width=width)
                          for b in range(COLOUR_BUCKETS) for w, width in enumerate(WIDTHS)}
        self.colour_bar.setColorMap(cmap)

    def _edge_values(self):
        """(colour position in [0, 1], width class) per drawn edge, from the latest snapshot."""
        n = len(self.edge_xy["x0"])
        if self.snapshot is None or n == 0:
            return np.full(n, 0.0 if self.mode == "gradients" else 0.5), np.zeros(n, int)
        weights = np.concatenate([w[0][e["src"], e["dst"]] for w, e in zip(self.snapshot.weights, self.edges)])
        magnitude = np.abs(weights)
        width = np.minimum((magnitude / max(magnitude.max(), 1e-12) * len(WIDTHS)).astype(int), len(WIDTHS) - 1)
        if self.mode == "weights":
            top = max(float(magnitude.max()), 1e-12)
            self._set_colour_bar((-top, top), "weight")
            return (weights / top + 1) / 2, width
        grads = np.concatenate([g[e["src"], e["dst"]] for g, e in zip(self.snapshot.kernel_grads, self.edges)])
        if not grads.any():  # before the first step there is no gradient to show
            return np.zeros(n), width
        logs = np.log10(np.maximum(grads, 1e-30))
        finite = logs[np.isfinite(logs)]  # a diverged run's gradients may overflow
        if not len(finite):
            return np.zeros(n), width
        high = float(np.ceil(finite.max() * 2) / 2)  # in half decades, so the colour bar's axis rarely moves
        self._set_colour_bar((high - DECADES, high), "log₁₀ |dJ/dW|")
        return np.clip((logs - (high - DECADES)) / DECADES, 0, 1), width

    def _set_colour_bar(self, levels, label):
        """Touch the colour bar only on change: its axis is costly to repaint."""
        levels = tuple(round(float(v), 2) for v in levels)  # (146.5, 150.5) stays two levels
        if (levels, label) != getattr(self, "_bar_state", None):
            self._bar_state = (levels, label)
            self.colour_bar.setLevels(levels)
            self.colour_bar.axis.setLabel(label)

    def _recolour(self):
        if not self.columns:
            return
        position, width = self._edge_values()
        bucket = np.minimum((position * COLOUR_BUCKETS).astype(int), COLOUR_BUCKETS - 1)
        key = bucket * len(WIDTHS) + width
        previous = self.drawn_keys
        if previous is None or len(previous) != len(key):
            stale = range(COLOUR_BUCKETS * len(WIDTHS))
        else:  # rebuild only the curves that gained or lost an edge; each paint costs the trainer time
            moved = key != previous
            stale = np.union1d(key[moved], previous[moved])
        if len(stale):
            self.drawn_keys = key
            order = np.argsort(key, kind="stable")
            bounds = np.searchsorted(key[order], np.arange(COLOUR_BUCKETS * len(WIDTHS) + 1))
            xy = self.edge_xy
            for k in stale:
                chosen = order[bounds[k]:bounds[k + 1]]
                xs = np.empty(2 * len(chosen))
                ys = np.empty(2 * len(chosen))
                xs[0::2], xs[1::2] = xy["x0"][chosen], xy["x1"][chosen]
                ys[0::2], ys[1::2] = xy["y0"][chosen], xy["y1"][chosen]
                b, w = divmod(int(k), len(WIDTHS))
                self.edge_lines.strokes[w, b] = (self.edge_pens[b, w], pg.arrayToQPath(xs, ys, connect="pairs"))
            self.edge_lines.update()
        self._colour_nodes()

    def _place_nodes(self):
        """Positions, outlines and sizes of the neurons; colours come from ``_colour_nodes``. With
        pictures, a hidden neuron is a square picture framed in its gradient's colour."""
        self.node_colours = None
        xs, ys, pens, data, symbols, sizes = [], [], [], [], [], []
        spacing = self.view.height() / (self.tallest + 0.6)  # pixels between neighbours
        size = float(np.clip(0.7 * spacing, 7, 20 * self.zoom))
        column_px = self.view.width() / max(len(self.columns), 1)
        picture = float(np.clip(min(0.9 * spacing, 0.42 * column_px), 12, 56 * self.zoom))
        pictures = self._showing_pictures()
        for c, column in enumerate(self.columns):
            square = pictures and 0 < c < len(self.columns) - 1
            for j, (y, unit) in enumerate(zip(column["ys"], column["units"])):
                xs.append(column["x"])
                ys.append(y)
                data.append((c, j))
                pens.append(self.pens["off" if c == 0 and unit < 0 else "on"])
                symbols.append("s" if square else "o")
                sizes.append(picture if square else size)
        self.node_size, self.picture_size = size, picture if pictures else None
        self.nodes.setData(x=xs, y=ys, pen=pens, data=data, size=sizes, symbol=symbols)
        self.pictures.arrange(self.box, self.columns, picture - 4)
        self.pictures.setVisible(pictures)

    def _showing_pictures(self) -> bool:
        return self.pictures_on and self.pictures.grids is not None and self.trace_values is None

    def _colour_nodes(self):
        """One brush per neuron from a small cache of bucketed colours (cheap to set every frame); a
        neuron drawn as a picture keeps it clear and shows its colour in its frame."""
        if not self.columns:
            return
        if self.trace_values is not None:  # the followed sample's values, orange < 0 < blue
            brushes, palette = [], "weights"
            for values in self.trace_values:
                top = max(float(np.nanmax(np.abs(values), initial=0.0)), 1e-12)
                positions = np.nan_to_num((np.tanh(2 * values / top) + 1) / 2, nan=0.5)
                buckets = np.minimum((positions * COLOUR_BUCKETS).astype(int), COLOUR_BUCKETS - 1)
                brushes.extend(self.brushes[palette, b] for b in buckets)
            pens = None
        else:
            brushes = [self.brushes["input" if unit >= 0 else "off"] for unit in self.columns[0]["units"]]
            pens = [self.pens["off" if unit < 0 else "on"] for unit in self.columns[0]["units"]]
            pictures = self._showing_pictures()
            last = len(self.columns) - 2
            for layer, positions in enumerate(self._node_values()):
                buckets = np.minimum((positions * COLOUR_BUCKETS).astype(int), COLOUR_BUCKETS - 1)
                framed = pictures and layer < last
                brushes.extend(self.brushes["clear"] if framed else self.brushes[self.mode, b] for b in buckets)
                pens.extend(self.picture_pens[b] if framed else self.pens["on"] for b in buckets)
        key = tuple(map(id, brushes)) + (tuple(map(id, pens)) if pens else ())  # cached objects: equal is same
        if key != self.node_colours:
            self.node_colours = key
            self.nodes.setBrush(brushes)
            if pens:
                self.nodes.setPen(pens)
            else:
                self._restore_pens()

    def _restore_pens(self):
        self.nodes.setPen([self.pens["off" if c == 0 and unit < 0 else "on"]
                           for c, column in enumerate(self.columns) for unit in column["units"]])

    def _resized(self, *_):
        """The view changed size (the pane, or the canvas that scrolls): neurons, pictures and labels
        are sized in pixels."""
        if self.columns:
            self._draw_labels()
            self._place_nodes()
            self._colour_nodes()

    def _node_values(self):
        """Per non-input column, each drawn neuron's position on the colour map, in [0, 1]."""
        out = []
        for c, column in enumerate(self.columns[1:]):
            units = column["units"]
            if self.snapshot is None or (self.mode == "gradients" and self.neuron_high <= -30):
                pos = np.full(len(units), 0.0 if self.mode == "gradients" else 0.5)  # nothing to show yet
            elif self.mode == "weights":
                pos = (np.tanh(self.snapshot.weights[c][1][units]) + 1) / 2
            else:
                logs = np.log10(np.maximum(self.snapshot.neuron_grads[c][units], 1e-30))
                pos = np.clip((logs - (self.neuron_high - DECADES)) / DECADES, 0, 1)
            out.append(pos)
        return out

    # --- interaction -------------------------------------------------------------------
    def _node_clicked(self, item, points, event=None):
        for point in points[:1]:
            column, j = point.data()
            if column == 0 and self.toggleable:
                self.feature_toggled.emit(self.input_keys[j])

    def _hover(self, scene_pos):
        if not self.columns or not self.box.sceneBoundingRect().contains(scene_pos):
            return
        found = self._item_at(scene_pos)
        hovered = (found[1] - 1, found[2], found[3]) if found and found[0] == "neuron" \
            and 0 < found[1] < len(self.columns) - 1 else (-1, -1, -1)
        if hovered != self.hovered:
            self.hovered = hovered
            self.neuron_hovered.emit(*hovered)
        text = self._describe(found)
        if text:  # shown for as long as the pointer stays on the item (the rect around it), not Qt's 10 s
            px = self.view.mapFromScene(scene_pos)
            QToolTip.showText(self.view.mapToGlobal(px), text, self.view,
                              QRect(px.x() - HIT_PX, px.y() - HIT_PX, 2 * HIT_PX, 2 * HIT_PX), TOOLTIP_MS)
        else:
            QToolTip.hideText()

    def _item_at(self, scene_pos):
        """("neuron", column, drawn position, unit) or ("edge", layer, row, column) under ``scene_pos``, or None."""
        if not self.columns:
            return None
        to_px = self.box.mapViewToScene
        point = np.array([scene_pos.x(), scene_pos.y()])
        for c, column in enumerate(self.columns):
            square = self.picture_size is not None and 0 < c < len(self.columns) - 1  # a picture, not a circle
            reach = (self.picture_size if square else self.node_size) / 2 + HIT_PX / 2
            for j, (y, unit) in enumerate(zip(column["ys"], column["units"])):
                centre = to_px(pg.Point(column["x"], y))
                dx, dy = abs(centre.x() - point[0]), abs(centre.y() - point[1])
                if (max(dx, dy) if square else np.hypot(dx, dy)) <= reach:
                    return ("neuron", c, j, int(unit))
        if not len(self.edge_xy["x0"]):
            return None
        a = self._scene_points("x0", "y0")
        b = self._scene_points("x1", "y1")
        ab = b - a
        t = np.clip(((point - a) * ab).sum(1) / np.maximum((ab * ab).sum(1), 1e-9), 0, 1)
        distance = np.hypot(*(a + t[:, None] * ab - point).T)
        k = int(distance.argmin())
        if distance[k] > HIT_PX:
            return None
        offsets = np.cumsum([0] + [len(e["src"]) for e in self.edges])
        layer = int(np.searchsorted(offsets, k, side="right") - 1)
        e = self.edges[layer]
        return ("edge", layer, int(e["src"][k - offsets[layer]]), int(e["dst"][k - offsets[layer]]))

    def _weight_at(self, scene_pos):
        """(layer, row, column or None for a bias, value) of the edge or neuron under ``scene_pos``."""
        found = self._item_at(scene_pos)
        if found is None or self.snapshot is None:
            return None
        kind, a, b, c = found
        if kind == "edge":
            return a, b, c, float(self.snapshot.weights[a][0][b, c])
        if a == 0:
            return None  # an input has no weight of its own
        return a - 1, c, None, float(self.snapshot.weights[a - 1][1][c])

    def eventFilter(self, obj, event):
        """Double-click an edge or a neuron: type its weight or bias. Press on one and drag up or down:
        the weight follows the pointer."""
        kind = event.type()
        if obj is self.scroll_area.viewport():
            if kind == QEvent.Resize:
                # it scrolls sideways only: taller than the pane (as its size hint asks when it is wider)
                # its lowest neurons could not be reached
                self.canvas.setFixedHeight(max(event.size().height(), self.canvas.minimumSizeHint().height()))
            return False  # mouse events the view passed on are not the diagram's: they are in other pixels
        if kind == QEvent.MouseButtonDblClick and event.button() == Qt.LeftButton:
            found = self._weight_at(self.view.mapToScene(event.position().toPoint()))
            self.drag = None
            if found is not None:
                self.weight_edit_requested.emit(*found)
                return True
        elif kind == QEvent.MouseButtonPress and event.button() == Qt.LeftButton:
            found = self._weight_at(self.view.mapToScene(event.position().toPoint()))
            self.drag = (*found, event.position().y()) if found is not None else None
        elif kind == QEvent.MouseMove and self.drag is not None and event.buttons() & Qt.LeftButton:
            layer, row, column, value, start = self.drag
            moved = start - event.position().y()
            if abs(moved) >= 3:  # a click that trembles is not a drag
                self.weight_dragged.emit(layer, row, column, value + moved * DRAG_PER_PX * max(1.0, abs(value)))
        elif kind == QEvent.MouseButtonRelease:
            self.drag = None
        return False

    def _describe(self, found):
        """Tooltip text for the neuron or edge ``_item_at`` found under the mouse, or ''."""
        if found is None:
            return ""
        if found[0] == "neuron":
            return self._describe_neuron(*found[1:])
        return self._describe_edge(*found[1:])

    def _scene_points(self, xk, yk):
        xs, ys = self.edge_xy[xk], self.edge_xy[yk]
        origin = self.box.mapViewToScene(pg.Point(0, 0))
        unit = self.box.mapViewToScene(pg.Point(1, 1))
        return np.column_stack([origin.x() + xs * (unit.x() - origin.x()), origin.y() + ys * (unit.y() - origin.y())])

    def _describe_neuron(self, c, j, unit):
        if c == 0:
            name = self.input_names[j]
            return f"input {name}" + ("" if unit >= 0 else " (off)") + (" — click to toggle" if self.toggleable else "")
        layer = c - 1
        is_output = layer == len(self.columns) - 2
        where = "output" if is_output else f"hidden layer {layer + 1}"
        lines = [f"<b>{where}, neuron {unit + 1}</b>"]
        if self.snapshot is not None:
            lines.append(f"bias b = {self.snapshot.weights[layer][1][unit]:+.4g}")
            lines.append(f"|dJ/dz| ≈ {self.snapshot.neuron_grads[layer][unit]:.3g}")
            lines.append("<i>double-click to type its bias, or drag up or down</i>")
        return "<br>".join(lines)

    def _describe_edge(self, layer, i, j):
        lines = [f"<b>W{layer + 1}[{i + 1}, {j + 1}]</b>"]
        if self.snapshot is not None:
            lines.append(f"weight = {self.snapshot.weights[layer][0][i, j]:+.4g}")
            lines.append(f"|dJ/dW| ≈ {self.snapshot.kernel_grads[layer][i, j]:.3g}")
            lines.append("<i>double-click to type it, or drag up or down</i>")
        return "<br>".join(lines)


if __name__ == "__main__":
    from types import SimpleNamespace

    def feed(diagram, tick):
        if tick == 0:
            inputs = [("x1", "X₁", True), ("x2", "X₂", True), ("x1x2", "X₁X₂", False)]
            diagram.set_structure(inputs, [[6, "tanh"], [40, "relu"]], (1, "sigmoid"), "bce", toggleable=True)
        rng = np.random.default_rng(tick)
        shapes = diagram._kernel_shapes()
        xs, ys = np.meshgrid(np.linspace(-1, 1, 32), np.linspace(-1, 1, 32))
        pictures = tuple(np.stack([np.tanh(3 * (np.cos(k + tick / 10) * xs + np.sin(k) * ys))
                                   for k in range(len(shown_units(s[1])))], axis=2) for s in shapes[:-1])
        diagram.show_snapshot(SimpleNamespace(
            weights=[(rng.normal(size=s), rng.normal(size=s[1])) for s in shapes],
            kernel_grads=[10 ** rng.uniform(-5, 0, size=s) for s in shapes],
            neuron_grads=[10 ** rng.uniform(-5, 0, size=s[1]) for s in shapes], neuron_grids=pictures,
            predictions=None))

    style.preview(NetworkDiagram, feed, hz=5)
