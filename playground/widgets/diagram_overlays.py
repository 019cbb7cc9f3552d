"""What the network diagram draws over its neurons and edges: pictures of what each hidden neuron
computes over the input plane, and the chain rule of one sample.

Both are single graphics items however many neurons there are: every Python paint call waits for
the GIL that training holds.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsRectItem, QGraphicsSimpleTextItem

from playground.widgets import style

ATLAS_SCALE = 0.5  # the pictures' image has half the pixels of the screen it covers
LUT = style.DIVERGING.getLookupTable(0.0, 1.0, 256, alpha=False)  # (256, 3) uint8: −1 → orange … +1 → blue


class NeuronPictures(pg.ImageItem):
    """Every drawn hidden neuron's activation over the input plane, as TensorFlow Playground draws
    them, in one image covering the diagram: a square picture centred on each neuron."""

    def __init__(self):
        super().__init__(axisOrder="row-major")
        self.setZValue(5)  # over the edges, under the neurons' outlines
        self.places = []  # per hidden layer: [(row, col), ...] of each drawn neuron's picture in the image
        self.size_px = (1, 1)  # (rows, columns) of the image
        self.side = 0
        self.grids = None
        self.area = QRectF(0, 0, 1, 1)  # the view area the image covers

    def arrange(self, box: pg.ViewBox, columns: list, side_px: float) -> None:
        """Where each picture goes, for the box's current size; ``side_px`` is a picture's side on screen."""
        (x0, x1), (y0, y1) = box.viewRange()
        width, height = max(box.width() * ATLAS_SCALE, 1), max(box.height() * ATLAS_SCALE, 1)
        self.size_px = (int(height), int(width))
        self.side = max(int(side_px * ATLAS_SCALE), 2)
        half = self.side // 2
        self.places = []
        for column in columns[1:-1]:
            cols = np.round((column["x"] - x0) / (x1 - x0) * width).astype(int) - half
            rows = np.round((column["ys"] - y0) / (y1 - y0) * height).astype(int) - half
            self.places.append(list(zip(rows, np.full(len(rows), cols))))
        self.area = QRectF(x0, y0, x1 - x0, y1 - y0)
        if self.grids is not None:
            self.show_grids(self.grids)

    def show_grids(self, grids) -> None:
        """``grids``: per hidden layer, (n, n, neurons drawn) activations over the plane (None: none)."""
        self.grids = grids
        if grids is None or not self.places or len(grids) != len(self.places):
            self.setVisible(False)
            return
        visible = self.isVisible()  # the diagram decides whether they show; this only paints them
        atlas = np.zeros((*self.size_px, 4), dtype=np.uint8)
        side = self.side
        for grid, places in zip(grids, self.places):
            if grid.shape[2] != len(places):
                continue  # the layer changed since: its pictures come with the next outputs
            index = np.arange(side) * grid.shape[0] // side  # nearest-neighbour resize to side × side
            top = np.abs(grid).max(axis=(0, 1))
            scaled = grid / np.where(top > 0, top, 1.0)  # each neuron from its most negative to its most positive
            colours = LUT[np.clip(((scaled + 1) * 127.5).astype(int), 0, 255)]  # (n, n, k, 3)
            colours = colours[index][:, index]
            for k, (row, col) in enumerate(places):
                r0, c0 = max(row, 0), max(col, 0)
                r1, c1 = min(row + side, self.size_px[0]), min(col + side, self.size_px[1])
                if r1 <= r0 or c1 <= c0:
                    continue
                atlas[r0:r1, c0:c1, :3] = colours[r0 - row:r1 - row, c0 - col:c1 - col, k]
                atlas[r0:r1, c0:c1, 3] = 255
        self.setImage(atlas, autoLevels=False, levels=(0, 255))
        self.setRect(self.area)  # after the image: the rect scales the image's own pixel size
        self.setVisible(visible)


class TraceOverlay:
    """One sample's chain rule on the diagram: a value beside each neuron, the layer the walk has
    reached shaded, and the edges that carry its product drawn over the others."""

    def __init__(self, box: pg.ViewBox, edge_lines_type):
        self.box = box
        self.shade = QGraphicsRectItem()
        self.shade.setBrush(QBrush(QColor(255, 214, 102, 70)))
        self.shade.setPen(QPen(Qt.NoPen))
        self.shade.setZValue(-1)
        self.edges = edge_lines_type()
        self.edges.setZValue(4)
        self.pen = pg.mkPen((70, 70, 70), width=1.6)
        for item in (self.shade, self.edges):
            box.addItem(item)
        self.labels = []
        self.font = None
        self.hide()

    def hide(self) -> None:
        self.shade.setVisible(False)
        self.edges.setVisible(False)
        for label in self.labels:
            label.setVisible(False)

    def show(self, columns: list, edges: list, values: list, layer: int | None, font) -> None:
        """``values`` per column (inputs first): each drawn neuron's number; ``layer`` the layer the walk
        has reached (0 for the first hidden layer) or None."""
        entries = [(column["x"], y, value) for column, column_values in zip(columns, values)
                   for y, value in zip(column["ys"], column_values)]
        while len(self.labels) < len(entries):
            label = QGraphicsSimpleTextItem()
            label.setFlag(QGraphicsItem.ItemIgnoresTransformations)
            label.setZValue(12)
            label.setBrush(pg.mkBrush("#111"))
            self.box.addItem(label)
            self.labels.append(label)
        for label, (x, y, value) in zip(self.labels, entries):
            label.setText(f"{value:+.2g}")
            label.setFont(font)
            label.setPos(x + 0.13, y + 0.28)  # up and right of its neuron, clear of the edges' start
            label.setVisible(True)
        for label in self.labels[len(entries):]:
            label.setVisible(False)
        if layer is None:
            self.shade.setVisible(False)
            self.edges.setVisible(False)
            return
        column = columns[layer + 1]
        tallest = max(len(c["ys"]) for c in columns)
        self.shade.setRect(QRectF(column["x"] - 0.45, -tallest / 2 - 0.5, 0.9, tallest + 0.5))
        self.shade.setVisible(True)
        e = edges[layer]  # the edges into the layer reached: they carry x·W forward, dJ/dz·Wᵀ backward
        xs, ys = np.empty(2 * len(e["x0"])), np.empty(2 * len(e["x0"]))
        xs[0::2], xs[1::2] = e["x0"], e["x1"]
        ys[0::2], ys[1::2] = e["y0"], e["y1"]
        self.edges.strokes = {(0, 0): (self.pen, pg.arrayToQPath(xs, ys, connect="pairs"))}
        self.edges.set_bounds(QRectF(0, -tallest / 2 - 0.6, len(columns), tallest + 0.6))
        self.edges.setVisible(True)
        self.edges.update()
