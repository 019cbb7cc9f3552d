"""The chain rule for one sample, layer by layer, from the cost back to the inputs."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSpinBox, QTextBrowser, QVBoxLayout, QWidget

from core import activations, explain

SHOWN = 6  # entries of a vector shown before "…"
DERIVATIVES = {  # f'(z) in words, as the lessons write it
    "linear": "1", "sigmoid": "σ(z)(1 − σ(z))", "tanh": "1 − tanh²(z)", "relu": "1 if z > 0 else 0",
    "leaky_relu": "1 if z > 0 else 0.01", "elu": "1 if z > 0 else eᶻ", "softplus": "σ(z)", "swish": "σ(z) + a(1 − σ(z))",
}
FUSED = {"bce": "ŷ − y", "cross_entropy": "softmax(z) − y"}


def _vector(v) -> str:
    v = np.ravel(v)
    text = ", ".join(f"{x:+.3g}" for x in v[:SHOWN])
    return f"[{text}{', …' if len(v) > SHOWN else ''}]" + (f" <span style='color:#888'>({len(v)})</span>" if len(v) > SHOWN else "")


def _matrix(m) -> str:
    rows = [_vector(row) for row in m[:3]]
    more = f"<br>&nbsp;&nbsp;… {m.shape[0]} rows" if m.shape[0] > 3 else ""
    return "<br>&nbsp;&nbsp;".join(rows) + more


def trace_html(trace: explain.Trace, loss: str, x, names) -> str:
    """The trace as the lessons write it: upstream derivative × local derivative, layer after layer."""
    n = len(trace.layers)
    lines = [f"<p><b>Sample</b> x = {_vector(x)} <span style='color:#888'>({', '.join(names[:SHOWN])})</span><br>"
             f"prediction ŷ = {_vector(trace.prediction)}, target y = {_vector(trace.target)}, "
             f"cost J = {trace.loss:.4g}</p>"]
    for t in reversed(trace.layers):
        k = t.index + 1
        is_output = t.index == n - 1
        title = "Output layer" if is_output else f"Hidden layer {k}"
        label = activations.ACTIVATIONS[t.activation].label
        lines.append(f"<p><b>{title}</b> ({label}): z{k} = a{k - 1}·W{k} + b{k} = {_vector(t.z)}, "
                     f"a{k} = f(z{k}) = {_vector(t.a)}<br>")
        if t.grad_a is None:
            lines.append(f"dJ/dz{k} = {FUSED[loss]} (fused with the loss) = {_vector(t.grad_z)}<br>")
        else:
            source = trace.formula if is_output else f"dJ/dz{k + 1}·W{k + 1}ᵀ"
            lines.append(f"dJ/da{k} = {source} = {_vector(t.grad_a)}<br>")
            if t.local is not None:
                lines.append(f"f′(z{k}) = {DERIVATIVES[t.activation]} = {_vector(t.local)}<br>"
                             f"dJ/dz{k} = dJ/da{k} ⊙ f′(z{k}) = {_vector(t.grad_z)}<br>")
            else:
                lines.append(f"dJ/dz{k} = softmax Jacobian · dJ/da{k} = {_vector(t.grad_z)}<br>")
        lines.append(f"dJ/dW{k} = a{k - 1}ᵀ·dJ/dz{k} =<br>&nbsp;&nbsp;{_matrix(t.d_kernel)}<br>"
                     f"dJ/db{k} = dJ/dz{k} = {_vector(t.d_bias)}<br>"
                     f"dJ/da{k - 1} = dJ/dz{k}·W{k}ᵀ = {_vector(t.grad_a_prev)}</p>")
    return "".join(lines)


class ChainRuleView(QWidget):
    """Pick a training sample; see every derivative backprop computes for it."""

    sample_changed = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.sample = QSpinBox()
        self.sample.setToolTip("Which training sample to follow through the backward pass")
        self.sample.setFocusPolicy(Qt.ClickFocus)
        self.random = QPushButton("Another sample")
        self.random.setFocusPolicy(Qt.NoFocus)
        self.text = QTextBrowser()
        self.text.setStyleSheet("font-family: monospace; font-size: 12px;")
        self.problem = self.loss = None
        self.rng = np.random.default_rng(0)
        top = QHBoxLayout()
        top.addWidget(QLabel("Training sample"))
        top.addWidget(self.sample)
        top.addWidget(self.random)
        top.addStretch()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.text)
        self.random.clicked.connect(lambda: self.sample.setValue(int(self.rng.integers(0, self.sample.maximum() + 1))))
        self.sample.valueChanged.connect(self.sample_changed)

    def set_problem(self, problem, loss: str) -> None:
        self.problem, self.loss = problem, loss
        self.sample.setRange(0, max(len(problem.X_train) - 1, 0))

    def show_network(self, net) -> None:
        """Recompute the trace for the chosen sample with ``net`` (a copy owned by the caller)."""
        if self.problem is None or net is None:
            return
        i = self.sample.value()
        x, y = self.problem.X_train[i], np.asarray(self.problem.Y_train)[i]
        trace = explain.chain_rule(net, x, y, self.loss)
        scroll = self.text.verticalScrollBar().value()
        self.text.setHtml(trace_html(trace, self.loss, x, self.problem.input_names))
        self.text.verticalScrollBar().setValue(scroll)


if __name__ == "__main__":
    from core.spec import DataSpec, NetworkSpec, prepare
    from playground.widgets import style

    problem = prepare(DataSpec(source="house_prices"))
    net = NetworkSpec(hidden=[[8, "relu"], [4, "tanh"]]).build(problem)

    def feed(view, tick):
        if tick == 0:
            view.set_problem(problem, "mse")
        view.show_network(net)

    style.preview(ChainRuleView, feed, hz=2)
