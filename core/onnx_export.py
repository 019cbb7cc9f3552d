"""The .onnx export: the whole model as one graph that ONNX Runtime runs on raw rows.

Opset 17 (and ai.onnx.ml 3 when there are text columns), IR 8, in the network's dtype (float64 by
default, float32 on request). Inputs and outputs, each with a dynamic batch size:

- ``"input"`` (batch, number columns), the graph's dtype: the model's number columns in their order
  (metadata ``"input_columns"``); NaN marks a missing cell. For the 2-D sets, the raw x1 and x2.
- ``"text"`` (batch, text columns), strings, only for models with text columns: those columns in
  their order (metadata ``"text_columns"``), each cell exactly as in training (case and spaces
  count); "", "NA", "N/A", "null", "none", "NaN" or "?" in any case is missing; a text never seen
  in training is no category (all its one-hot inputs 0), as in the app.
- ``"output"`` (batch, n_outputs), the graph's dtype: regression values in the target's units;
  binary classification P(second class) (batch, 1); several classes, their probabilities.
- ``"class_index"`` (batch,), int64, classification only: the index into the metadata's
  ``"class_names"`` (argmax, or P > 0.5 for two classes).

A missing cell in a column that has no fill value gives NaN answers (the app refuses such a row).
The graph does what ``Preprocessing.encode`` does, in its order: fill missing cells (``Where`` over
``IsNaN``), the 2-D feature map (``Mul``, ``Sin``) or one-hot text columns (``Equal``), standardise,
then per layer a ``Gemm`` and its activation, then the target's scaling and the class index.
A network saved without preprocessing keeps the bare graph: ``"input"`` (batch, n_inputs) of
network inputs, ``"output"`` of network outputs. The metadata is ``core.io.metadata``'s.
"""
from __future__ import annotations

import itertools
import json

import numpy as np

from .activations import ELU, LeakyReLU
from .datasets import MISSING_TOKENS
from .io import ONNX_IR_VERSION, ONNX_OPSET, optional_library
from .model import Model

ML_OPSET = 3  # ai.onnx.ml's version that goes with opset 17, for LabelEncoder

# ONNX operator and attributes for each activation; swish, and elu and softplus in float64, are built
ONNX_OPS = {"linear": ("Identity", {}), "sigmoid": ("Sigmoid", {}), "tanh": ("Tanh", {}), "relu": ("Relu", {}),
            "leaky_relu": ("LeakyRelu", {"alpha": LeakyReLU.slope}), "elu": ("Elu", {"alpha": ELU.alpha}),
            "softplus": ("Softplus", {}), "softmax": ("Softmax", {"axis": -1})}


def model_bytes(model: Model, metadata: dict, dtype=None) -> bytes:
    """The serialized, checked ONNX model of ``model``, computing in ``dtype`` (default: the network's)."""
    onnx = optional_library("onnx")
    dtype = np.dtype(dtype or model.dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"onnx_dtype must be float32 or float64, got {dtype}")
    graph = _Graph(dtype)
    pre = model.preprocessing
    x = graph.preprocessing(pre) if pre is not None else graph.input("input", graph.elem, model.n_inputs)
    decode = pre is not None and pre.task == "regression" and pre.target_mean is not None
    x = graph.network(model, x, out="network_output" if decode else "output")
    if decode:  # back to the target's units: ŷ·std + mean
        graph.node("Add", graph.node("Mul", x, graph.constant([pre.target_std])), graph.constant([pre.target_mean]),
                   out="output")
    graph.output("output", graph.elem, model.n_outputs)
    if pre is not None and pre.task != "regression":
        if pre.task == "multiclass":
            graph.node("ArgMax", "output", axis=1, keepdims=0, out="class_index")
        else:
            above = graph.node("Greater", "output", graph.constant([0.5]))
            graph.node("Cast", graph.node("Squeeze", above, graph.constant([1], np.int64)), to=graph.INT64,
                       out="class_index")
        graph.output("class_index", graph.INT64)
    if pre is not None:
        columns = [(c.name, bool(c.categories)) for c in pre.columns]
        metadata = {**metadata, "input_columns": json.dumps([name for name, text in columns if not text])}
        if any(text for _, text in columns):
            metadata["text_columns"] = json.dumps([name for name, text in columns if text])
    return graph.serialize(onnx, metadata)


class _Graph:
    """Nodes, inputs and outputs of the graph being built."""

    def __init__(self, dtype: np.dtype):
        from onnx import TensorProto, helper, numpy_helper

        self.helper, self.numpy_helper = helper, numpy_helper
        self.dtype, self.elem, self.INT64 = dtype, helper.np_dtype_to_tensor_dtype(dtype), TensorProto.INT64
        self.STRING = TensorProto.STRING
        self.nodes, self.inputs, self.outputs, self.initializers = [], [], [], []
        self.uses_ml = False

    # --- pieces -------------------------------------------------------------------------------
    def node(self, op, *inputs, out=None, domain=None, **attributes) -> str:
        out = out or f"{op.lower()}_{len(self.nodes)}"
        self.nodes.append(self.helper.make_node(op, list(inputs), [out], name=out, domain=domain, **attributes))
        self.uses_ml |= domain == "ai.onnx.ml"
        return out

    def constant(self, value, dtype=None) -> str:
        return self.node("Constant", value=self.numpy_helper.from_array(np.array(value, dtype or self.dtype)))

    def input(self, name, elem, width) -> str:
        self.inputs.append(self.helper.make_tensor_value_info(name, elem, ["batch", width]))
        return name

    def output(self, name, elem, width=None) -> None:
        shape = ["batch"] if width is None else ["batch", width]
        self.outputs.append(self.helper.make_tensor_value_info(name, elem, shape))

    def column(self, x, j) -> str:
        """Column ``j`` of ``x`` as (batch, 1)."""
        return self.node("Slice", x, self.constant([j], np.int64), self.constant([j + 1], np.int64),
                         self.constant([1], np.int64))

    # --- preprocessing: raw columns → network inputs -----------------------------------------
    def preprocessing(self, pre) -> str:
        raw = self.raw_array(pre)
        if pre.fill is not None and any(value is not None for value in pre.fill):
            fill = [np.nan if value is None else column.categories.index(value) if column.categories else value
                    for column, value in zip(pre.columns, pre.fill)]
            raw = self.node("Where", self.node("IsNaN", raw), self.constant([fill]), raw, out="filled")
        if pre.feature_map is not None:
            x1, x2 = self.column(raw, 0), self.column(raw, 1)
            features = {"x1": lambda: x1, "x2": lambda: x2, "x1^2": lambda: self.node("Mul", x1, x1),
                        "x2^2": lambda: self.node("Mul", x2, x2), "x1x2": lambda: self.node("Mul", x1, x2),
                        "sin_x1": lambda: self.node("Sin", x1), "sin_x2": lambda: self.node("Sin", x2)}
            x = self.node("Concat", *[features[name]() for name in pre.feature_map], axis=1, out="features")
        elif any(column.categories for column in pre.columns):
            parts = []
            for i, column in enumerate(pre.columns):
                cell = self.column(raw, i)
                if column.categories:  # one 0/1 input per category; cell − cell is 0, or NaN for a missing cell
                    same = self.node("Equal", cell, self.constant([range(len(column.categories))]))
                    cell = self.node("Add", self.node("Cast", same, to=self.elem), self.node("Sub", cell, cell))
                parts.append(cell)
            x = self.node("Concat", *parts, axis=1, out="one_hot")
        else:
            x = raw
        if pre.input_mean is not None:  # (x − mean) / std
            x = self.node("Div", self.node("Sub", x, self.constant(pre.input_mean)), self.constant(pre.input_std),
                          out="standardised")
        return x

    def raw_array(self, pre) -> str:
        """The raw columns in order as ``Preprocessing.raw_array`` has them: numbers as given, text as
        the index of its category (−1 for an unseen one, NaN for a missing cell)."""
        numbers = [i for i, column in enumerate(pre.columns) if not column.categories]
        texts = [i for i, column in enumerate(pre.columns) if column.categories]
        if numbers:
            self.input("input", self.elem, len(numbers))
        if not texts:
            return "input"
        self.input("text", self.STRING, len(texts))
        parts = []
        for i, column in enumerate(pre.columns):
            if not column.categories:
                parts.append(self.column("input", numbers.index(i)))
                continue
            codes = {category: float(k) for k, category in enumerate(column.categories)}
            # a missing cell's spellings win over a category of the same text, as in the app
            codes.update((variant, np.nan) for token in MISSING_TOKENS for variant in _cases(token))
            code = self.node("LabelEncoder", self.column("text", texts.index(i)), domain="ai.onnx.ml",
                             keys_strings=list(codes), values_floats=list(codes.values()), default_float=-1.0)
            parts.append(self.node("Cast", code, to=self.elem))
        return self.node("Concat", *parts, axis=1, out="raw")

    # --- the network ------------------------------------------------------------------------
    def network(self, model: Model, x: str, out: str) -> str:
        for i, layer in enumerate(model.layers):
            self.initializers += [self.numpy_helper.from_array(layer.kernel.astype(self.dtype), f"kernel_{i}"),
                                  self.numpy_helper.from_array(layer.bias.astype(self.dtype), f"bias_{i}")]
            z = self.node("Gemm", x, f"kernel_{i}", f"bias_{i}", out=f"z_{i}")  # z = xW + b
            a, act = out if i == len(model.layers) - 1 else f"a_{i}", layer.activation.name
            if act == "swish":  # z·σ(z); ONNX's HardSwish is a different function
                x = self.node("Mul", z, self.node("Sigmoid", z), out=a)
            elif act == "elu" and self.dtype == np.float64:  # no float64 Elu in ONNX Runtime: z > 0 ? z : e^min(z,0) − 1
                x = self.node("Where", self.node("Greater", z, self.constant(0)), z,
                              self.node("Sub", self.node("Exp", self.node("Min", z, self.constant(0))),
                                        self.constant(1)), out=a)
            elif act == "softplus" and self.dtype == np.float64:  # nor Softplus: max(z, 0) + log(1 + e^−|z|), stable
                x = self.node("Add", self.node("Relu", z),
                              self.node("Log", self.node("Add", self.constant(1),
                                                         self.node("Exp", self.node("Neg", self.node("Abs", z))))),
                              out=a)
            else:
                op, attributes = ONNX_OPS[act]
                x = self.node(op, z, out=a, **attributes)
        return x

    def serialize(self, onnx, metadata: dict) -> bytes:
        helper = self.helper
        graph = helper.make_graph(self.nodes, "backprop_playground", self.inputs, self.outputs,
                                  initializer=self.initializers)
        opsets = [helper.make_opsetid("", ONNX_OPSET)]
        if self.uses_ml:
            opsets.append(helper.make_opsetid("ai.onnx.ml", ML_OPSET))
        model = helper.make_model(graph, opset_imports=opsets, producer_name="backprop-playground",
                                  ir_version=ONNX_IR_VERSION)
        helper.set_model_props(model, metadata)
        onnx.checker.check_model(model, full_check=True)
        return model.SerializeToString()


def _cases(token: str) -> list:
    """Every spelling of ``token`` that lower-cases to it: "na" → "na", "nA", "Na", "NA"."""
    return ["".join(letters) for letters in itertools.product(*(dict.fromkeys((c, c.upper())) for c in token))]
