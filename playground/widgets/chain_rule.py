"""The chain rule for one sample, layer by layer, typeset in the lessons' notation.

``step_html`` is one layer's step (what the diagram shows beside itself while the pass is walked);
``trace_html`` is the whole backward pass, from the cost to the inputs. Vectors of a few numbers are
shown whole, in aligned columns; longer ones as a summary; every array with its shape.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSpinBox, QTextBrowser, QVBoxLayout, QWidget

from core import activations, explain

WHOLE = 8  # vectors up to this long are shown number by number
DERIVATIVES = {  # f'(z) as the lessons write it
    "linear": "1", "sigmoid": "σ(z)(1 − σ(z))", "tanh": "1 − tanh²(z)", "relu": "1 if z > 0, else 0",
    "leaky_relu": "1 if z > 0, else 0.01", "elu": "1 if z > 0, else eᶻ", "softplus": "σ(z)",
    "swish": "σ(z) + a(1 − σ(z))",
}
STYLE = ("<style>td { padding: 1px 5px; white-space: nowrap; } td.n { text-align: right; font-family: monospace; } "
         "td.s { white-space: normal; font-family: monospace; } .f { color: #555; } .card { margin-bottom: 10px; }"
         "</style>")


def sym(name: str, index=None, sup: str = "") -> str:
    """A typeset symbol: ``sym("z", 2)`` is z with a subscript 2."""
    sub = f"<sub>{index}</sub>" if index is not None else ""
    return f"<i>{name}</i>{sub}{sup}"


def d(of: str, index=None) -> str:
    """dJ/d(of): the derivative of the cost with respect to a symbol."""
    return f"∂<i>J</i>/∂{sym(of, index)}"


def numbers(v) -> str:
    """A vector as table cells: each number right-aligned, or a summary of a long one; its shape last."""
    v = np.ravel(np.asarray(v, dtype=float))
    if len(v) <= WHOLE:
        return f"<td class='f'>({len(v)})</td>" + "".join(f"<td class='n' nowrap>{x:+.3g}</td>" for x in v)
    return f"<td class='f'>({len(v)})</td>" + summary(v)


def summary(v) -> str:
    """One cell that wraps in a narrow panel: min, mean, max and norm."""
    return (f"<td class='s' colspan='{WHOLE}'>min {v.min():+.3g} · mean {v.mean():+.3g} · max {v.max():+.3g}"
            f" · ‖·‖ {np.linalg.norm(v):.3g}</td>")


def matrix(m) -> str:
    """A small matrix row by row, or a summary of a large one, with its shape."""
    m = np.asarray(m, dtype=float)
    shape = f"<td class='f'>({m.shape[0]} × {m.shape[1]})</td>"
    if m.size <= WHOLE * 2 and m.shape[1] <= WHOLE:  # a table of its own: its columns line up
        rows = "".join("<tr>" + "".join(f"<td class='n'>{x:+.3g}</td>" for x in r) + "</tr>" for r in m)
        return shape + f"<td colspan='{WHOLE}'><table cellspacing='0'>{rows}</table></td>"
    return shape + summary(m)


def row(label: str, cells: str) -> str:
    return f"<tr><td nowrap>{label}</td>{cells}</tr>"


def step_html(trace: explain.Trace, layer: int, mode: str) -> str:
    """One layer's step of the pass: forward, z and a from the layer's input; backward, the
    upstream derivative times the local one, then dJ/dW, dJ/db and what goes on to the layer before."""
    t = trace.layers[layer]
    k, last = layer + 1, layer == len(trace.layers) - 1
    label = activations.ACTIVATIONS[t.activation].label
    title = f"{'Output layer' if last else f'Hidden layer {k}'} ({label}), {mode}"
    rows = []
    if mode == "forward":
        rows.append(row(f"{sym('a', k - 1)} (its input)", numbers(t.a_prev)))
        rows.append(row(f"{sym('z', k)} = {sym('a', k - 1)}·{sym('W', k)} + {sym('b', k)}", numbers(t.z)))
        rows.append(row(f"{sym('a', k)} = <i>f</i>({sym('z', k)})", numbers(t.a)))
    else:
        if t.grad_a is None:  # the loss is fused with the output's activation
            rows.append(row(f"{d('z', k)} = {trace.formula}<br><span class='f'>(the cost and {label} together)</span>",
                            numbers(t.grad_z)))
        else:
            upstream = trace.formula if last else f"{d('z', k + 1)}·{sym('W', k + 1, 'ᵀ')}"
            rows.append(row(f"upstream {d('a', k)} = {upstream}", numbers(t.grad_a)))
            if t.local is not None:
                rows.append(row(f"local <i>f</i>′({sym('z', k)}) = {DERIVATIVES[t.activation]}", numbers(t.local)))
                rows.append(row(f"{d('z', k)} = upstream ⊙ local", numbers(t.grad_z)))
            else:
                rows.append(row(f"{d('z', k)} = softmax Jacobian · {d('a', k)}", numbers(t.grad_z)))
        rows.append(row(f"{d('W', k)} = {sym('a', k - 1, 'ᵀ')}·{d('z', k)}", matrix(t.d_kernel)))
        rows.append(row(f"{d('b', k)} = {d('z', k)}", numbers(t.d_bias)))
        rows.append(row(f"{d('a', k - 1)} = {d('z', k)}·{sym('W', k, 'ᵀ')}", numbers(t.grad_a_prev)))
    return f"<div class='card'><b>{title}</b><table>{''.join(rows)}</table></div>"


def trace_html(trace: explain.Trace, x, names, sample) -> str:
    """The whole backward pass for one sample, from the cost back to the inputs."""
    split, index = sample
    head = (f"<p><b>Sample {index + 1} of the {'training' if split == 'train' else 'test'} set</b>"
            f"<table>{row('inputs ' + sym('x'), numbers(x))}"
            f"{row('prediction ŷ', numbers(trace.prediction))}{row('target <i>y</i>', numbers(trace.target))}"
            f"<tr><td>cost <i>J</i></td><td></td><td class='n'>{trace.loss:.4g}</td></tr></table>"
            f"<span class='f'>inputs: {', '.join(map(str, names[:WHOLE]))}{' …' if len(names) > WHOLE else ''}"
            "</span></p>")
    steps = "".join(step_html(trace, layer, "backward") for layer in range(len(trace.layers) - 1, -1, -1))
    return STYLE + head + steps


class ChainRuleView(QWidget):
    """The sample followed (pick one here or click it on the output) and every derivative backprop
    computes for it."""

    sample_chosen = Signal(str, int)  # "train" or "test", row

    def __init__(self, parent=None):
        super().__init__(parent)
        self.split = QComboBox()
        self.split.addItem("training sample", "train")
        self.split.addItem("test sample", "test")
        self.split.setFocusPolicy(Qt.NoFocus)
        self.index = QSpinBox()
        self.index.setToolTip("Which sample to follow through the chain rule (or click a point of the output)")
        self.index.setMinimum(1)
        self.index.setFocusPolicy(Qt.ClickFocus)
        self.text = QTextBrowser()
        self.sizes = (0, 0)
        self.shown_sample = None
        top = QHBoxLayout()
        top.addWidget(QLabel("Follow"))
        top.addWidget(self.split)
        top.addWidget(self.index)
        top.addWidget(QLabel("<span style='color:#666'>(or click a point of the output)</span>"))
        top.addStretch()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.text)
        self.index.valueChanged.connect(lambda _: self._chosen())
        self.split.activated.connect(lambda _: self._chosen())

    def _chosen(self):
        split = self.split.currentData()
        self.index.setMaximum(max(self.sizes[0 if split == "train" else 1], 1))
        self.sample_chosen.emit(split, self.index.value() - 1)

    def set_problem(self, problem) -> None:
        self.sizes = (len(problem.X_train), len(problem.X_test))
        self.index.blockSignals(True)  # a smaller range is not the user choosing another sample
        self.index.setMaximum(max(self.sizes[0 if self.split.currentData() == "train" else 1], 1))
        self.index.blockSignals(False)

    def show_trace(self, trace, problem, sample) -> None:
        """The trace of ``sample`` (("train" | "test", row)) in ``problem``; ``trace`` None: none yet."""
        if sample is not None:
            for widget in (self.split, self.index):
                widget.blockSignals(True)
            self.split.setCurrentIndex(self.split.findData(sample[0]))
            self.index.setValue(sample[1] + 1)
            for widget in (self.split, self.index):
                widget.blockSignals(False)
        if trace is None or sample is None:
            self.text.setHtml("<p style='color:#666'>Pick a sample above, or click a point of the output.</p>")
            return
        X = problem.X_train if sample[0] == "train" else problem.X_test
        # the same sample, trained on: keep the place read; another sample: its header, at the top
        scroll = self.text.verticalScrollBar().value() if sample == self.shown_sample else 0
        self.text.setHtml(trace_html(trace, X[sample[1]], problem.input_names, sample))
        self.text.verticalScrollBar().setValue(scroll)
        self.shown_sample = sample


if __name__ == "__main__":
    from core.spec import DataSpec, NetworkSpec, prepare
    from playground.widgets import style

    problem = prepare(DataSpec(source="house_prices"))
    net = NetworkSpec(hidden=[[8, "relu"], [4, "tanh"]]).build(problem)

    def feed(view, tick):
        if tick == 0:
            view.set_problem(problem)
        sample = ("train", tick % 20)
        view.show_trace(explain.chain_rule(net, problem.X_train[sample[1]], problem.Y_train[sample[1]], "mse"),
                  problem, sample)

    style.preview(ChainRuleView, feed, hz=1)
