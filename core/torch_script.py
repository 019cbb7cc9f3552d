"""The PyTorch script export: one readable .py that defines the model (its layers as an
``nn.Sequential`` and its preprocessing as NumPy code, commented), predicts from a CSV, and goes on
training with the app's loss, optimizer and settings, alone or data-parallel under ``torchrun``.

``io.save(model, "model.py")`` writes it, with the weights beside it in ``model.safetensors``; the
script's own text is ``templates/torch_model.py.txt`` with this model's settings and layers filled in.
Writing it needs no PyTorch; running it needs torch, numpy and safetensors.
"""
from __future__ import annotations

import pprint
import textwrap
from pathlib import Path

from .datasets import MISSING_TOKENS
from .model import Model

TEMPLATE = Path(__file__).resolve().parent / "templates" / "torch_model.py.txt"

# each activation's torch module and what it computes, for the comments
MODULES = {"sigmoid": ("nn.Sigmoid()", "a = σ(z) = 1 / (1 + e^−z)"), "tanh": ("nn.Tanh()", "a = tanh(z)"),
           "relu": ("nn.ReLU()", "a = max(z, 0)"), "leaky_relu": ("nn.LeakyReLU(0.01)", "a = z if z > 0, else 0.01·z"),
           "elu": ("nn.ELU()", "a = z if z > 0, else e^z − 1"), "softplus": ("nn.Softplus()", "a = log(1 + e^z)"),
           "swish": ("nn.SiLU()", "a = z·σ(z)"),
           "softmax": ("nn.Softmax(dim=-1)", "a = softmax(z), each class's probability")}


def script_text(model: Model, weights_name: str) -> str:
    """The script for ``model``, reading its weights from ``weights_name`` beside it. ValueError for a
    network without the preprocessing and training settings the script is made of."""
    if model.preprocessing is None or model.training is None:
        raise ValueError("a PyTorch script needs the model's preprocessing and training settings: "
                         "io.save(net, path, preprocessing=problem.preprocessing, training=config)")
    pre = model.preprocessing
    kind = {"regression": "a value", "binary": "one of 2 classes",
            "multiclass": f"one of {len(pre.class_names or ())} classes"}[pre.task]
    names = [repr(c.name) for c in pre.columns]
    shown = ", ".join(names[:6]) + (", …" if len(names) > 6 else "")
    title = textwrap.fill(f"Predicts {pre.target_name!r} ({kind}) from {len(names)} columns: {shown}.", 96)
    text = TEMPLATE.read_text(encoding="utf-8")
    for marker, value in (("@@TITLE@@", title), ("@@NAME@@", Path(weights_name).with_suffix(".py").name),
                          ("@@WEIGHTS@@", weights_name), ("@@SETTINGS@@", _settings(model)),
                          ("@@LAYERS@@", _layers(model))):
        text = text.replace(marker, value)
    return text


def _settings(model: Model) -> str:
    pre, training = model.preprocessing, model.training
    categories = {c.name: list(c.categories) for c in pre.columns if c.categories}
    fill = {c.name: value for c, value in zip(pre.columns, pre.fill or ()) if value is not None}
    lines = [
        "# --- this model, as trained in Backprop Playground ------------------------------------------",
        ("COLUMNS", [c.name for c in pre.columns], "the raw input columns, in order"),
        ("CATEGORIES", categories, "text columns: their categories; the network sees one 0/1 input per category"),
        ("FILL", fill, "the value a missing cell takes, per column (other columns refuse missing cells)"),
        ("FEATURES", None if pre.feature_map is None else list(pre.feature_map),
         "the 2-D sets: the network's inputs, computed from x1 and x2"),
        ("INPUT_MEAN", None if pre.input_mean is None else list(pre.input_mean),
         "each input is standardised: (x − mean) / std, with the training split's figures" if pre.standardized
         else "None: the inputs are used as they are, not standardised"),
        ("INPUT_STD", None if pre.input_std is None else list(pre.input_std), None),
        ("TASK", pre.task, "'regression', 'binary' or 'multiclass'"),
        ("TARGET", pre.target_name, "the column to predict"),
        ("CLASS_NAMES", None if pre.class_names is None else list(pre.class_names), "the name of each class index"),
        ("TARGET_MEAN", pre.target_mean, "regression: the network learns (y − mean) / std and answers ŷ·std + mean"
         if pre.target_mean is not None else "None: the network learns the target as it is"),
        ("TARGET_STD", pre.target_std, None),
        ("MISSING", set(MISSING_TOKENS), 'cells that mean "no value", compared lower-cased'),
        ("TRAINING", {"loss": training.loss, "optimizer": training.optimizer, "learning_rate": training.learning_rate,
                      "batch_size": training.batch_size, "regularization": training.regularization,
                      "reg_rate": training.reg_rate, "seed": training.seed}, "the app's training settings"),
    ]
    out = []
    for line in lines:
        if isinstance(line, str):
            out.append(line)
            continue
        name, value, comment = line
        if comment:
            out.append(f"# {comment}")
        out.append(f"{name} = {_literal(value)}")
    out.append(f"DTYPE = torch.{model.dtype.name}  # the app's precision")
    return "\n".join(out) + "\n"


def _literal(value) -> str:
    """Python source for ``value``: a dict one key a line, anything else as pprint lays it out."""
    if isinstance(value, dict) and value:
        items = "".join(f"    {key!r}: {_literal(item)},\n" for key, item in value.items())
        return "{\n" + items + "}"
    return pprint.pformat(value, width=100, compact=True)


def _layers(model: Model) -> str:
    lines = ['def build_network() -> nn.Sequential:',
             '    """The network, layer by layer as in the app: each Linear computes z = a·W + b (PyTorch',
             '    keeps W transposed, (n_out, n_in)), then its activation a = f(z)."""',
             '    return nn.Sequential(']
    for i, layer in enumerate(model.layers):
        where = "output layer" if i == len(model.layers) - 1 else f"hidden layer {i + 1}"
        linear = f"        nn.Linear({layer.n_in}, {layer.units}),"
        lines.append(f"{linear:<40}# {where}: {layer.n_in} → {layer.units}")
        act = layer.activation.name
        if act == "linear":
            lines.append(f"{'':<40}# linear: a = z, no module")
        else:
            module, formula = MODULES[act]
            lines.append(f"{'        ' + module + ',':<40}# {formula}")
    lines.append("    ).to(DTYPE)")
    return "\n".join(lines)
