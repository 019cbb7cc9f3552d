"""The network diagram: build the network by clicking, and see its gradients (or weights) in colour.

Columns are the inputs, the hidden layers and the output. Edges are bucketed by (colour, width);
each bucket is one ``connect='pairs'`` path and all of them are drawn by a single item, so a frame
costs one Python paint call however many edges there are (while training holds the GIL, every
Python call of the UI thread has to wait for it). Layers wider than ``MAX_SHOWN`` are drawn as an
evenly spaced sample of their neurons with a count.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QTransform
from PySide6.QtWidgets import (QButtonGroup, QComboBox, QGraphicsItem, QGraphicsSimpleTextItem, QHBoxLayout, QLabel, QPushButton, QRadioButton,
                               QSpinBox, QToolTip, QVBoxLayout, QWidget)

from core import activations
from playground.widgets import style

MAX_SHOWN = 16  # neurons drawn per column; wider layers show an evenly spaced sample
MAX_UNITS = 4096
COLOUR_BUCKETS = 16
WIDTHS = (0.8, 1.8, 3.2)  # pixels, by |W| relative to the largest weight shown
DECADES = 4  # the gradient colour map spans this many powers of ten below the largest gradient
COLOUR_BAR_WIDTH = 90
HIDDEN_ACTIVATIONS = [name for name in activations.ACTIVATIONS if name != "softmax"]


def _tool_button(text: str, tip: str) -> QPushButton:
    button = QPushButton(text)
    button.setToolTip(tip)
    button.setFixedSize(26, 26)
    button.setFocusPolicy(Qt.NoFocus)  # Space stays play/pause
    return button


class LayerHeader(QWidget):
    """Above a hidden layer: − / count / + for its neurons and its activation."""

    units_changed = Signal(int, int)  # layer index, new unit count
    activation_changed = Signal(int, str)
    removed = Signal(int)  # layer index

    def __init__(self, index: int, units: int, activation: str):
        super().__init__()
        self.index = index
        self.units = units
        self.minus = _tool_button("−", f"Remove a neuron from hidden layer {index + 1}")
        self.remove = _tool_button("×", f"Remove hidden layer {index + 1}")
        self.remove.clicked.connect(lambda: self.removed.emit(self.index))
        self.plus = _tool_button("+", f"Add a neuron to hidden layer {index + 1}")
        self.count = QSpinBox()
        self.count.setRange(1, MAX_UNITS)
        self.count.setValue(units)
        self.count.setButtonSymbols(QSpinBox.NoButtons)
        self.count.setAlignment(Qt.AlignCenter)
        self.count.setFixedWidth(48)
        self.count.setToolTip("Neurons in this layer (type a number for a wide layer)")
        self.count.setKeyboardTracking(False)
        self.activation = QComboBox()
        for name in HIDDEN_ACTIVATIONS:
            self.activation.addItem(activations.ACTIVATIONS[name].label, name)
        self.activation.setCurrentIndex(HIDDEN_ACTIVATIONS.index(activation))
        self.activation.setToolTip(f"Activation of hidden layer {index + 1}")
        self.activation.setFocusPolicy(Qt.NoFocus)
        self.minus.clicked.connect(lambda: self._emit_units(self.count.value() - 1))
        self.plus.clicked.connect(lambda: self._emit_units(self.count.value() + 1))
        self.count.valueChanged.connect(self._emit_units)
        self.activation.currentIndexChanged.connect(
            lambda i: self.activation_changed.emit(self.index, self.activation.itemData(i)))
        row = QHBoxLayout()
        row.setSpacing(2)
        row.addStretch()
        for widget in (self.minus, self.count, self.plus, self.remove):
            row.addWidget(widget)
        row.addStretch()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 0, 2, 0)
        layout.addLayout(row)
        layout.addWidget(self.activation, 0, Qt.AlignHCenter)

    def _emit_units(self, units: int):
        units = max(1, min(MAX_UNITS, units))
        if units != self.units:
            self.units = units
            self.units_changed.emit(self.index, units)


def _label(text: str, colour: str, x: float, y: float, anchor) -> QGraphicsSimpleTextItem:
    """Text at view point (x, y), ``anchor`` its fraction to put there; drawn by Qt alone (no Python
    paint call, which would wait for the GIL while training runs)."""
    item = QGraphicsSimpleTextItem(text)
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
    units_changed = Signal(int, int)
    activation_changed = Signal(int, str)
    feature_toggled = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.mode = "gradients"
        self.columns = []  # per column: dict(x, ys, units, names)
        self.edges = []  # per layer: dict(src, dst, x0, y0, x1, y1)
        self.snapshot = None
        self.neuron_high = 0.0
        self.drawn_keys = None  # per edge, the curve (colour bucket × width class) it is drawn in

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
            button.toggled.connect(lambda on, m=mode: on and self.set_mode(m))
            self.colour_by.addButton(button)
            top.addWidget(button)

        self.headers = QHBoxLayout()
        self.headers.setSpacing(0)
        self.header_widgets = []

        self.view = pg.GraphicsLayoutWidget()
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
        self.brushes = {"input": pg.mkBrush(*style.BLUE), "off": pg.mkBrush(235, 235, 235)}
        for mode, cmap in (("gradients", style.GRADIENT), ("weights", style.DIVERGING)):
            for b, colour in enumerate(cmap.map((np.arange(COLOUR_BUCKETS) + 0.5) / COLOUR_BUCKETS, mode="byte")):
                self.brushes[mode, b] = pg.mkBrush(*colour[:3])
        self.nodes = pg.ScatterPlotItem(size=18, pxMode=True, hoverable=False)
        self.nodes.setZValue(10)
        self.nodes.sigClicked.connect(self._node_clicked)
        self.box.addItem(self.nodes)
        self.labels = []
        self.view.scene().sigMouseMoved.connect(self._hover)

        body = QHBoxLayout()
        body.setSpacing(0)
        body.addWidget(self.view, 1)
        body.addWidget(self.bar_view)
        header_row = QHBoxLayout()
        header_row.setSpacing(0)
        header_row.addLayout(self.headers, 1)
        header_row.addSpacing(COLOUR_BAR_WIDTH)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addLayout(header_row)
        layout.addLayout(body, 1)

    # --- structure ---------------------------------------------------------------------
    def set_structure(self, inputs, hidden, output, loss: str = "", toggleable: bool = False) -> None:
        """inputs: [(key, label, active), ...], the candidate inputs and which feed the network;
        hidden: [[units, activation], ...]; output: (units, activation). With ``toggleable``
        a click on an input emits ``feature_toggled(key)``."""
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
        self._layout_columns()
        self._layout_edges()
        self._draw_labels()
        self.snapshot = None
        self._place_nodes()
        self._recolour()

    def _build_headers(self, loss):
        while self.headers.count():
            item = self.headers.takeAt(0)
            if item.widget():
                item.widget().deleteLater()
        self.header_widgets = []
        toggle = "<br>click to toggle" if self.toggleable else ""
        inputs = QLabel(f"<b>inputs</b><br>{sum(self.active)} of {len(self.input_names)}{toggle}")
        inputs.setAlignment(Qt.AlignCenter)
        self.headers.addWidget(inputs, 1)
        for i, (units, act) in enumerate(self.hidden):
            header = LayerHeader(i, int(units), act)
            header.units_changed.connect(self.units_changed)
            header.activation_changed.connect(self.activation_changed)
            header.removed.connect(self.layer_deleted)
            self.header_widgets.append(header)
            self.headers.addWidget(header, 1)
        units, act = self.output
        out = QLabel(f"<b>output</b><br>{activations.ACTIVATIONS[act].label}" + (f" · {loss}" if loss else ""))
        out.setAlignment(Qt.AlignCenter)
        out.setToolTip("The output layer follows the problem: linear for regression, sigmoid for two "
                       "classes, softmax for several")
        self.headers.addWidget(out, 1)

    def _layout_columns(self):
        unit_counts = [len(self.input_names)] + [int(u) for u, _ in self.hidden] + [int(self.output[0])]
        self.columns = []
        tallest = max(min(n, MAX_SHOWN) for n in unit_counts)
        for c, n in enumerate(unit_counts):
            shown = np.unique(np.linspace(0, n - 1, min(n, MAX_SHOWN)).round().astype(int))
            ys = (len(shown) - 1) / 2 - np.arange(len(shown), dtype=float)
            if c == 0:  # kernel rows exist only for active inputs
                rows = np.cumsum(self.active) - 1
                units = np.where(self.active, rows, -1)[shown]
            else:
                units = shown
            self.columns.append(dict(x=c + 0.5, ys=ys, units=units, total=n, shown=shown))
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
        for label in self.labels:
            self.box.removeItem(label)
        first = self.columns[0]
        self.labels = [_label(self.input_names[i], "#222" if self.active[i] else "#aaa", first["x"] - 0.12, y, (1, 0.5))
                       for i, y in zip(first["shown"], first["ys"])]  # left of each input neuron
        self.labels += [_label(f"{len(c['units'])} of {c['total']} shown", "#555", c["x"], c["ys"][-1] - 0.4, (0.5, 0))
                        for c in self.columns if c["total"] > len(c["units"])]
        for label in self.labels:
            self.box.addItem(label)

    # --- colour ------------------------------------------------------------------------
    def set_mode(self, mode: str) -> None:
        self.mode = mode
        self._set_edge_pens()
        self.drawn_keys = None
        self._recolour()

    def show_snapshot(self, snapshot) -> None:
        if snapshot is not None and [w[0].shape for w in snapshot.weights] != self._kernel_shapes():
            return  # a snapshot of the previous architecture, still in flight
        self.snapshot = snapshot
        if snapshot is not None:  # neurons share one log scale across layers
            grads = np.concatenate([g.ravel() for g in snapshot.neuron_grads])
            self.neuron_high = float(np.log10(max(grads.max(initial=0.0), 1e-30)))
        self._recolour()

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
        high = float(np.ceil(logs.max() * 2) / 2)  # in half decades, so the colour bar's axis rarely moves
        self._set_colour_bar((high - DECADES, high), "log₁₀ |dJ/dW|")
        return np.clip((logs - (high - DECADES)) / DECADES, 0, 1), width

    def _set_colour_bar(self, levels, label):
        """Touch the colour bar only on change: its axis is costly to repaint."""
        levels = tuple(float(f"{v:.2g}") for v in levels)
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
        """Positions, outlines and sizes of the neurons; colours come from ``_colour_nodes``."""
        self.node_colours = None
        xs, ys, pens, data = [], [], [], []
        for c, column in enumerate(self.columns):
            for j, (y, unit) in enumerate(zip(column["ys"], column["units"])):
                xs.append(column["x"])
                ys.append(y)
                data.append((c, j))
                pens.append(self.pens["off" if c == 0 and unit < 0 else "on"])
        spacing = self.view.height() / (self.tallest + 0.6)  # pixels between neighbours
        size = float(np.clip(0.7 * spacing, 7, 20))
        self.nodes.setData(x=xs, y=ys, pen=pens, data=data, size=size)

    def _colour_nodes(self):
        """One brush per neuron from a small cache of bucketed colours (cheap to set every frame)."""
        brushes = [self.brushes["input" if unit >= 0 else "off"] for unit in self.columns[0]["units"]]
        for positions in self._node_values():
            buckets = np.minimum((positions * COLOUR_BUCKETS).astype(int), COLOUR_BUCKETS - 1)
            brushes.extend(self.brushes[self.mode, b] for b in buckets)
        key = tuple(map(id, brushes))  # brushes come from a cache, so equal colours are the same object
        if key != self.node_colours:
            self.node_colours = key
            self.nodes.setBrush(brushes)

    def resizeEvent(self, event):
        super().resizeEvent(event)
        if self.columns:
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
        text = self._describe(scene_pos)
        if text:
            QToolTip.showText(self.view.mapToGlobal(self.view.mapFromScene(scene_pos)), text, self.view)
        else:
            QToolTip.hideText()

    def _describe(self, scene_pos):
        """Tooltip text for the neuron or edge under the mouse, or ''."""
        to_px = self.box.mapViewToScene
        point = np.array([scene_pos.x(), scene_pos.y()])
        for c, column in enumerate(self.columns):
            for j, (y, unit) in enumerate(zip(column["ys"], column["units"])):
                centre = to_px(pg.Point(column["x"], y))
                if np.hypot(centre.x() - point[0], centre.y() - point[1]) <= 10:
                    return self._describe_neuron(c, j, unit)
        if not len(self.edge_xy["x0"]):
            return ""
        a = self._scene_points("x0", "y0")
        b = self._scene_points("x1", "y1")
        ab = b - a
        t = np.clip(((point - a) * ab).sum(1) / np.maximum((ab * ab).sum(1), 1e-9), 0, 1)
        distance = np.hypot(*(a + t[:, None] * ab - point).T)
        k = int(distance.argmin())
        return self._describe_edge(k) if distance[k] <= 3 else ""

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
        return "<br>".join(lines)

    def _describe_edge(self, k):
        offsets = np.cumsum([0] + [len(e["src"]) for e in self.edges])
        layer = int(np.searchsorted(offsets, k, side="right") - 1)
        e = self.edges[layer]
        i, j = int(e["src"][k - offsets[layer]]), int(e["dst"][k - offsets[layer]])
        lines = [f"<b>W{layer + 1}[{i + 1}, {j + 1}]</b>"]
        if self.snapshot is not None:
            lines.append(f"weight = {self.snapshot.weights[layer][0][i, j]:+.4g}")
            lines.append(f"|dJ/dW| ≈ {self.snapshot.kernel_grads[layer][i, j]:.3g}")
        return "<br>".join(lines)


if __name__ == "__main__":
    from types import SimpleNamespace

    def feed(diagram, tick):
        if tick == 0:
            inputs = [("x1", "X₁", True), ("x2", "X₂", True), ("x1x2", "X₁X₂", False)]
            diagram.set_structure(inputs, [[6, "tanh"], [40, "relu"]], (1, "sigmoid"), "bce", toggleable=True)
        rng = np.random.default_rng(tick)
        shapes = diagram._kernel_shapes()
        diagram.show_snapshot(SimpleNamespace(
            weights=[(rng.normal(size=s), rng.normal(size=s[1])) for s in shapes],
            kernel_grads=[10 ** rng.uniform(-5, 0, size=s) for s in shapes],
            neuron_grads=[10 ** rng.uniform(-5, 0, size=s[1]) for s in shapes]))

    style.preview(NetworkDiagram, feed, hz=5)
