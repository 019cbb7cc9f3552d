"""Colours and pyqtgraph settings shared by the views (light, readable at a projector)."""
import pyqtgraph as pg

pg.setConfigOptions(background="w", foreground="#333", antialias=False)

ORANGE = (245, 147, 34)  # negative / class 0, as TensorFlow Playground
BLUE = (8, 119, 189)  # positive / class 1
CLASS_COLOURS = [ORANGE, BLUE, (76, 175, 80), (156, 39, 176), (233, 30, 99), (0, 150, 136),
                 (121, 85, 72), (96, 125, 139), (255, 193, 7), (63, 81, 181)]
# width 1: Qt draws thin lines directly; a wider pen is stroked into polygons, ~2x slower per frame
TRAIN_PEN = pg.mkPen(BLUE, width=1)
TEST_PEN = pg.mkPen(ORANGE, width=1)

# Diverging map for signed values (weights, outputs): orange below zero, white at zero, blue above.
DIVERGING = pg.ColorMap([0.0, 0.5, 1.0], [ORANGE, (248, 248, 248), BLUE])
# Sequential map for gradient magnitudes (log-scaled): pale grey for ~0, through amber and red, to plum.
GRADIENT = pg.ColorMap([0.0, 0.35, 0.7, 1.0], [(225, 225, 225), (253, 190, 60), (225, 55, 40), (90, 0, 70)])


RUN_COLOURS = CLASS_COLOURS[2:]  # pinned runs: neither this run's blue nor its test orange


def class_colour(index: int):
    return CLASS_COLOURS[int(index) % len(CLASS_COLOURS)]


def run_colour(index: int):
    return RUN_COLOURS[int(index) % len(RUN_COLOURS)]


def preview(make_widget, feed=None, hz=10):
    """Show one widget in its own window (the modules' ``__main__`` previews).

    ``feed(widget, tick)`` is called ``hz`` times a second with demo data."""
    app = pg.mkQApp("Preview")
    widget = make_widget()
    widget.resize(800, 500)
    widget.show()
    if feed is not None:
        ticks = iter(range(10**9))
        timer = pg.QtCore.QTimer()
        timer.timeout.connect(lambda: feed(widget, next(ticks)))
        timer.start(int(1000 / hz))
    app.exec()
