"""Weights files: ``save(net, path)`` writes .npz, .json, .safetensors or .onnx; ``load(path)`` reads
the first three back into a ``Network`` that predicts identically.

Every file carries the same config::

    {"format": "backprop-playground-weights", "version": 1, "n_inputs": 2, "dtype": "float64",
     "layers": [{"units": 8, "activation": "tanh"}, {"units": 1, "activation": "sigmoid"}]}

- ``.npz``: ``kernel_0`` (n_in, n_out), ``bias_0`` (n_out,), ``kernel_1``, … and ``config``, the config
  as a JSON string in a 0-d unicode array.
- ``.json``: the config, each layer also holding ``"kernel"`` and ``"bias"`` as nested lists.
- ``.safetensors``: the ``state_dict`` of ``torch_recipe(net)``, a ``torch.nn.Sequential`` of ``Linear``
  modules each followed by its activation module (``linear`` has none): ``"{i}.weight"`` (n_out, n_in)
  = kernelᵀ and ``"{i}.bias"``, ``i`` counting every module, so tanh→sigmoid gives ``0.*, 2.*`` and
  linear→sigmoid gives ``0.*, 1.*``. ``__metadata__`` holds ``"config"`` (JSON) and ``"pytorch"`` (the recipe).
- ``.onnx`` (export only): opset 17, IR 8, in the network's dtype (float64 by default, float32 on
  request), input ``"input"`` (batch, n_inputs), output ``"output"`` (batch, n_outputs); per layer a
  Gemm and its activation node (swish is ``z * Sigmoid(z)``; in float64, Elu and Softplus are built
  from elementary nodes, as ONNX Runtime has no float64 kernels for them); config in ``metadata_props``.

Loaders read at most ``MAX_FILE_BYTES``, check names, shapes, dtypes, sizes and values, and only then
build the network. Any bad file raises ``FormatError``; nothing is unpickled or executed. Writers
write a temporary file in the same folder and rename it, so a crash never leaves a half-written file.
"""
from __future__ import annotations

import importlib
import json
import math
import os
import reprlib
import struct
import tempfile
import zipfile
import zlib
from contextlib import contextmanager
from io import BytesIO
from pathlib import Path

import numpy as np

from . import activations
from .network import MAX_UNITS, Network

FORMAT = "backprop-playground-weights"
VERSION = 1
SAVE_SUFFIXES = (".npz", ".json", ".safetensors", ".onnx")
LOAD_SUFFIXES = (".npz", ".json", ".safetensors")
MAX_LAYERS = 1_000
MAX_PARAMETERS = 10_000_000
MAX_FILE_BYTES = 256 * 2**20  # 10 M parameters written as JSON text fit
MAX_HEADER_BYTES = 16 * 2**20  # a safetensors header or an .npz config
ONNX_OPSET = 17
ONNX_IR_VERSION = 8  # the IR version that goes with opset 17, so older runtimes read the file too
EXTRA = "backprop-playground[formats]"

# torch.nn module for each activation; 'linear' has none
TORCH_MODULES = {"sigmoid": "Sigmoid()", "tanh": "Tanh()", "relu": "ReLU()", "leaky_relu": "LeakyReLU(0.01)",
                 "elu": "ELU()", "softplus": "Softplus()", "swish": "SiLU()", "softmax": "Softmax(dim=-1)"}
# ONNX operator and attributes for each activation; swish is built from two nodes
ONNX_OPS = {"linear": ("Identity", {}), "sigmoid": ("Sigmoid", {}), "tanh": ("Tanh", {}), "relu": ("Relu", {}),
            "leaky_relu": ("LeakyRelu", {"alpha": activations.LeakyReLU.slope}),
            "elu": ("Elu", {"alpha": activations.ELU.alpha}), "softplus": ("Softplus", {}),
            "softmax": ("Softmax", {"axis": -1})}


class FormatError(ValueError):
    """A weights or project file that cannot be read, with a message that says what is wrong."""


# --- public API -------------------------------------------------------------------------------
def save(net: Network, path, *, onnx_dtype=None) -> None:
    """Write ``net`` in the format named by ``path``'s suffix (.npz, .json, .safetensors, .onnx).

    ONNX graphs compute in ``onnx_dtype``, by default the network's own dtype, so ONNX Runtime
    returns what ``predict`` returns; pass "float32" for runtimes without float64 kernels.

    ValueError (FormatError for an unknown suffix) for non-finite weights; ImportError when the
    format's library is missing; OSError when the file cannot be written.
    """
    path = Path(path)
    writer = _WRITERS.get(path.suffix.lower())
    if writer is None:
        raise FormatError(f"cannot save {path.name!r}: unknown suffix {path.suffix!r}; "
                          f"expected one of {', '.join(SAVE_SUFFIXES)}")
    for name, array in _named_arrays(net):
        if not np.isfinite(array).all():
            raise ValueError(f"cannot save: {name} has NaN or infinite values")
    atomic_write(path, _onnx_bytes(net, onnx_dtype) if writer is _onnx_bytes else writer(net))


def load(path) -> Network:
    """Read a .npz, .json or .safetensors file written by ``save``.

    FormatError for a bad or unsupported file; OSError when it cannot be read.
    """
    path = Path(path)
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        hint = "; .onnx files are for other tools (export only)" if path.suffix.lower() == ".onnx" else ""
        raise FormatError(f"cannot load {path.name!r}: expected one of {', '.join(LOAD_SUFFIXES)}{hint}")
    data = read_file(path)
    try:
        return reader(data)
    except FormatError as error:
        raise FormatError(f"{path.name}: {error}") from None
    except RecursionError:
        raise FormatError(f"{path.name}: nested too deeply") from None
    except _PARSE_ERRORS as error:  # the libraries' own complaints about a malformed file
        raise FormatError(f"{path.name}: not a valid {path.suffix} file ({error})") from None


def torch_recipe(net: Network) -> str:
    """One line of Python that builds the ``torch.nn.Sequential`` whose ``load_state_dict`` takes the
    .safetensors file of ``net``; ``.double()`` is appended for float64 networks."""
    modules = []
    for layer in net.layers:
        modules.append(f"torch.nn.Linear({layer.n_in}, {layer.units})")
        if layer.activation.name in TORCH_MODULES:
            modules.append("torch.nn." + TORCH_MODULES[layer.activation.name])
    double = ".double()" if net.dtype == np.float64 else ""
    return f"torch.nn.Sequential({', '.join(modules)}){double}"


def network_to_dict(net: Network) -> dict:
    """The .json document: the config with each layer's kernel and bias as nested lists."""
    doc = _config(net)
    for entry, layer in zip(doc["layers"], net.layers):
        entry["kernel"] = layer.kernel.tolist()
        entry["bias"] = layer.bias.tolist()
    return doc


def network_from_dict(doc) -> Network:
    """The inverse of ``network_to_dict``; FormatError for anything else."""
    n_inputs, layers, dtype = _read_config(doc)
    weights = [(_json_array(entry.get("kernel"), f"kernel_{i}"), _json_array(entry.get("bias"), f"bias_{i}"))
               for i, entry in enumerate(doc["layers"])]
    return _build(n_inputs, layers, dtype, weights)


# --- files ------------------------------------------------------------------------------------
def atomic_write(path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename it over ``path``."""
    with atomic_file(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)


@contextmanager
def atomic_file(path):
    """A temporary path beside ``path`` (with its suffix) for a writer that needs a file name; when
    the block ends without error, the file is flushed to disk and renamed over ``path``, otherwise
    deleted."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=f".tmp{path.suffix}")
    os.close(fd)
    try:
        try:
            os.chmod(tmp, _mode_for(path))  # mkstemp makes it owner-only; the file should not be
        except OSError:
            pass  # a file system without modes: the file is still written
        yield Path(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())  # on disk before the rename, so a crash leaves the old file or the new one
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _mode_for(path: Path) -> int:
    """The mode of the file being replaced, or what a plain ``open`` would give a new one."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def read_file(path) -> bytes:
    """The whole file, refused with FormatError if it is larger than ``MAX_FILE_BYTES``."""
    with open(path, "rb") as f:
        data = f.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise FormatError(f"{Path(path).name} is larger than {MAX_FILE_BYTES // 2**20} MiB")
    return data


def parse_json(data: bytes, what: str = "file"):
    """JSON from bytes; FormatError for invalid or too deeply nested text."""
    try:
        return json.loads(data.decode("utf-8"))
    except RecursionError:
        raise FormatError(f"the {what} is nested too deeply") from None
    except ValueError as error:  # JSONDecodeError, UnicodeDecodeError, an over-long integer
        raise FormatError(f"the {what} is not valid JSON ({error})") from None


def dump_json(doc, indent: str = "") -> str:
    """Indented JSON with every list of plain values on one line, so a kernel reads row by row."""
    inner = indent + " "
    if isinstance(doc, dict) and doc:
        items = [f"{inner}{json.dumps(key)}: {dump_json(value, inner)}" for key, value in doc.items()]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    if isinstance(doc, list) and any(isinstance(value, (list, dict)) for value in doc):
        return "[\n" + ",\n".join(inner + dump_json(value, inner) for value in doc) + "\n" + indent + "]"
    return json.dumps(doc, allow_nan=False)


# --- config and validation --------------------------------------------------------------------
def _config(net: Network) -> dict:
    return {"format": FORMAT, "version": VERSION, "n_inputs": net.n_inputs, "dtype": net.dtype.name,
            "layers": [{"units": units, "activation": act} for units, act in net.spec]}


def check_version(doc: dict, format_name: str, newest: int) -> int:
    """The document's version after checking its format name; FormatError for a newer or odd one."""
    if doc.get("format") != format_name:
        raise FormatError(f"format is {doc.get('format')!r}, expected {format_name!r}")
    version = doc.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise FormatError(f"version must be a non-negative integer, got {version!r}")
    if version > newest:
        raise FormatError(f"version {version} was written by a newer Backprop Playground; "
                          f"this one reads up to version {newest}")
    return version


def _read_config(config) -> tuple[int, list, np.dtype]:
    """(n_inputs, [(units, activation)], dtype) from a config, checked before anything is built."""
    if not isinstance(config, dict):
        raise FormatError(f"the config must be a JSON object, got {type(config).__name__}")
    if check_version(config, FORMAT, VERSION) != VERSION:
        raise FormatError(f"unsupported version {config['version']!r}")
    n_inputs = _count(config.get("n_inputs"), "n_inputs")
    if config.get("dtype") not in ("float32", "float64"):
        raise FormatError(f"dtype must be 'float32' or 'float64', got {config.get('dtype')!r}")
    entries = config.get("layers")
    if not isinstance(entries, list) or not 1 <= len(entries) <= MAX_LAYERS:
        raise FormatError(f"layers must be a list of 1 to {MAX_LAYERS} layers, got {_short(entries)}")
    layers = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise FormatError(f"layer {i} must be an object with units and activation, got {_short(entry)}")
        act = entry.get("activation")
        try:
            act = activations.canonical_name(act) if isinstance(act, str) else None
        except ValueError as error:
            raise FormatError(f"layer {i}: {error}") from None
        if act is None:
            raise FormatError(f"layer {i}: activation must be a name, got {_short(entry.get('activation'))}")
        if act == "softmax" and i != len(entries) - 1:
            raise FormatError(f"layer {i}: softmax is for the output layer only")
        layers.append((_count(entry.get("units"), f"layer {i} units"), act))
    sizes = [n_inputs] + [units for units, _ in layers]
    n_parameters = sum((n_in + 1) * n_out for n_in, n_out in zip(sizes, sizes[1:]))
    if n_parameters > MAX_PARAMETERS:
        raise FormatError(f"the network has {n_parameters:,} parameters; the limit is {MAX_PARAMETERS:,}")
    return n_inputs, layers, np.dtype(config["dtype"])


def _count(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_UNITS:
        raise FormatError(f"{what} must be an integer from 1 to {MAX_UNITS}, got {_short(value)}")
    return value


def _build(n_inputs: int, layers: list, dtype: np.dtype, weights: list) -> Network:
    """A Network from a checked config and ``[(kernel (n_in, n_out), bias (n_out,)), ...]`` as read."""
    sizes = [n_inputs] + [units for units, _ in layers]
    for i, ((kernel, bias), n_in, n_out) in enumerate(zip(weights, sizes, sizes[1:])):
        for name, array, shape in ((f"kernel_{i}", kernel, (n_in, n_out)), (f"bias_{i}", bias, (n_out,))):
            if not isinstance(array, np.ndarray) or array.dtype.kind != "f" or array.dtype.itemsize not in (4, 8):
                kind = array.dtype if isinstance(array, np.ndarray) else type(array).__name__
                raise FormatError(f"{name} must be a float32 or float64 array, got {kind}")
            if array.shape != shape:
                raise FormatError(f"{name} has shape {array.shape}; the config says {shape}")
            if not np.isfinite(array).all():
                raise FormatError(f"{name} has NaN or infinite values")
    net = Network(n_inputs, layers, seed=0, dtype=dtype)
    net.set_weights(weights)
    return net


def _json_array(value, name: str) -> np.ndarray:
    """Nested lists of numbers → float64 array; FormatError for strings, booleans, ragged lists."""
    if not isinstance(value, list):
        raise FormatError(f"{name} must be a list of numbers, got {_short(value)}")
    try:
        array = np.array(value)
    except (ValueError, OverflowError):  # ragged, or too deep for an ndarray
        raise FormatError(f"{name} is not a rectangular list of numbers") from None
    if array.dtype.kind not in "iuf":  # strings, booleans, objects (huge integers) are not weights
        raise FormatError(f"{name} must hold numbers only, got {array.dtype}")
    return array.astype(np.float64)


def _short(value) -> str:
    """A repr for messages, bounded however large the value is."""
    return reprlib.repr(value)


def _named_arrays(net: Network):
    for i, layer in enumerate(net.layers):
        yield f"kernel_{i}", layer.kernel
        yield f"bias_{i}", layer.bias


def _torch_indices(acts) -> list[int]:
    """Index in the Sequential of each layer's Linear module: an activation module follows unless linear."""
    indices, i = [], 0
    for act in acts:
        indices.append(i)
        i += 1 if act == "linear" else 2
    return indices


def _library(name: str):
    """Import an optional library; a clear ImportError naming the pip extra if it is missing."""
    try:
        return importlib.import_module(name)
    except ImportError:
        raise ImportError(f"this file format needs the {name.split('.')[0]!r} package: "
                          f"pip install '{EXTRA}'") from None


# --- .npz -------------------------------------------------------------------------------------
def _npz_bytes(net: Network) -> bytes:
    buffer = BytesIO()
    np.savez(buffer, config=np.array(json.dumps(_config(net))), **dict(_named_arrays(net)))
    return buffer.getvalue()


def _npz_network(data: bytes) -> Network:
    with zipfile.ZipFile(BytesIO(data)) as archive:
        members = {info.filename: info for info in archive.infolist()}
    if len(members) > 2 * MAX_LAYERS + 1:
        raise FormatError(f"{len(members)} arrays; at most {2 * MAX_LAYERS + 1} are expected")
    if "config.npy" not in members:
        raise FormatError(f"no config array; found {_short(sorted(members))}")
    if members["config.npy"].file_size > MAX_HEADER_BYTES:  # sizes checked before decompressing (zip bombs)
        raise FormatError(f"the config unpacks to {members['config.npy'].file_size:,} bytes")
    with np.load(BytesIO(data), allow_pickle=False) as npz:
        config = npz["config"]
        if not isinstance(config, np.ndarray) or config.dtype.kind != "U" or config.shape != ():
            raise FormatError("config must be a JSON string (a 0-d unicode array)")
        config = parse_json(str(config).encode("utf-8"), "config")
        n_inputs, layers, dtype = _read_config(config)
        sizes = [n_inputs] + [units for units, _ in layers]
        expected = {"config.npy": MAX_HEADER_BYTES}
        for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
            expected[f"kernel_{i}.npy"] = n_in * n_out * 8 + 4096  # float64 data and a generous .npy header
            expected[f"bias_{i}.npy"] = n_out * 8 + 4096
        if set(members) != set(expected):
            raise FormatError(f"expected arrays {_short(sorted(expected))}, found {_short(sorted(members))}")
        for name, info in members.items():
            if info.file_size > expected[name]:
                raise FormatError(f"{name} unpacks to {info.file_size:,} bytes, more than its shape needs")
        weights = [(npz[f"kernel_{i}"], npz[f"bias_{i}"]) for i in range(len(layers))]
    return _build(n_inputs, layers, dtype, weights)


# --- .json ------------------------------------------------------------------------------------
def _json_bytes(net: Network) -> bytes:
    return (dump_json(network_to_dict(net)) + "\n").encode("utf-8")


def _json_network(data: bytes) -> Network:
    return network_from_dict(parse_json(data))


# --- .safetensors -----------------------------------------------------------------------------
SAFETENSORS_DTYPES = {"F32": 4, "F64": 8}


def _safetensors_bytes(net: Network) -> bytes:
    numpy_io = _library("safetensors.numpy")
    indices = _torch_indices(act for _, act in net.spec)
    tensors = {}
    for i, layer in zip(indices, net.layers):
        tensors[f"{i}.weight"] = np.ascontiguousarray(layer.kernel.T)  # torch's Linear keeps (out, in)
        tensors[f"{i}.bias"] = layer.bias
    return numpy_io.save(tensors, metadata={"config": json.dumps(_config(net)), "pytorch": torch_recipe(net)})


def _safetensors_network(data: bytes) -> Network:
    if len(data) < 8:
        raise FormatError(f"{len(data)} bytes is too short for a safetensors file")
    header_size = int.from_bytes(data[:8], "little")
    if header_size > min(len(data) - 8, MAX_HEADER_BYTES):  # checked before the header is trusted
        raise FormatError(f"header length {header_size:,} bytes exceeds the file or the "
                          f"{MAX_HEADER_BYTES // 2**20} MiB limit")
    header = parse_json(data[8:8 + header_size], "safetensors header")
    if not isinstance(header, dict) or not isinstance(header.get("__metadata__"), dict):
        raise FormatError("no __metadata__ with the network's config")
    config = header.pop("__metadata__").get("config")
    if not isinstance(config, str):
        raise FormatError("__metadata__ has no 'config' string")
    n_inputs, layers, dtype = _read_config(parse_json(config.encode("utf-8"), "config"))
    sizes = [n_inputs] + [units for units, _ in layers]
    indices = _torch_indices(act for _, act in layers)
    expected = {}
    for i, n_in, n_out in zip(indices, sizes, sizes[1:]):
        expected[f"{i}.weight"], expected[f"{i}.bias"] = [n_out, n_in], [n_out]
    if set(header) != set(expected):
        raise FormatError(f"expected tensors {_short(sorted(expected))}, found {_short(sorted(header))}")
    spans = []
    for name, shape in expected.items():
        info = header[name]
        if not isinstance(info, dict) or info.get("dtype") not in SAFETENSORS_DTYPES:
            raise FormatError(f"{name} must be F32 or F64, got {_short(info)}")
        if info.get("shape") != shape:
            raise FormatError(f"{name} has shape {_short(info.get('shape'))}; the config says {shape}")
        span = info.get("data_offsets")
        size = math.prod(shape) * SAFETENSORS_DTYPES[info["dtype"]]
        if not (isinstance(span, list) and len(span) == 2 and all(type(x) is int for x in span)
                and 0 <= span[0] and span[1] - span[0] == size):
            raise FormatError(f"{name} has data offsets {_short(span)}; its shape needs {size} bytes")
        spans.append(span)
    spans.sort()
    if [s[0] for s in spans] != [0] + [s[1] for s in spans[:-1]] or spans[-1][1] != len(data) - 8 - header_size:
        raise FormatError("the tensors' data offsets do not tile the data section")
    try:
        tensors = _library("safetensors.numpy").load(data)
    except _library("safetensors").SafetensorError as error:  # the library's own checks, after ours
        raise FormatError(str(error)) from None
    weights = [(tensors[f"{i}.weight"].T, tensors[f"{i}.bias"]) for i in indices]
    return _build(n_inputs, layers, dtype, weights)


# --- .onnx (export only) ----------------------------------------------------------------------
def _onnx_bytes(net: Network, dtype=None) -> bytes:
    onnx = _library("onnx")
    from onnx import helper, numpy_helper

    dtype = np.dtype(dtype or net.dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"onnx_dtype must be float32 or float64, got {dtype}")
    nodes = []

    def node(op, *inputs, out=None, **attributes) -> str:
        out = out or f"{op.lower()}_{len(nodes)}"
        nodes.append(helper.make_node(op, list(inputs), [out], name=out, **attributes))
        return out

    def constant(value) -> str:
        return node("Constant", value=numpy_helper.from_array(np.array(value, dtype)))

    initializers, x = [], "input"
    for i, layer in enumerate(net.layers):
        initializers += [numpy_helper.from_array(layer.kernel.astype(dtype), f"kernel_{i}"),
                         numpy_helper.from_array(layer.bias.astype(dtype), f"bias_{i}")]
        z = node("Gemm", x, f"kernel_{i}", f"bias_{i}", out=f"z_{i}")  # z = xW + b
        out, act = "output" if i == len(net.layers) - 1 else f"a_{i}", layer.activation.name
        if act == "swish":  # z·σ(z); ONNX's HardSwish is a different function
            x = node("Mul", z, node("Sigmoid", z), out=out)
        elif act == "elu" and dtype == np.float64:  # ONNX Runtime has no float64 Elu: z > 0 ? z : e^min(z, 0) − 1
            x = node("Where", node("Greater", z, constant(0)), z,
                     node("Sub", node("Exp", node("Min", z, constant(0))), constant(1)), out=out)
        elif act == "softplus" and dtype == np.float64:  # nor Softplus: max(z, 0) + log(1 + e^−|z|), stable
            x = node("Add", node("Relu", z), node("Log", node("Add", constant(1), node("Exp", node("Neg", node("Abs", z))))),
                     out=out)
        else:
            op, attributes = ONNX_OPS[act]
            x = node(op, z, out=out, **attributes)
    elem = helper.np_dtype_to_tensor_dtype(dtype)
    graph = helper.make_graph(nodes, "backprop_playground",
                              [helper.make_tensor_value_info("input", elem, ["batch", net.n_inputs])],
                              [helper.make_tensor_value_info("output", elem, ["batch", net.n_outputs])],
                              initializer=initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", ONNX_OPSET)],
                              producer_name="backprop-playground", ir_version=ONNX_IR_VERSION)
    helper.set_model_props(model, {"config": json.dumps(_config(net))})
    onnx.checker.check_model(model, full_check=True)
    return model.SerializeToString()


_WRITERS = {".npz": _npz_bytes, ".json": _json_bytes, ".safetensors": _safetensors_bytes, ".onnx": _onnx_bytes}
_READERS = {".npz": _npz_network, ".json": _json_network, ".safetensors": _safetensors_network}
# what NumPy and zipfile raise for malformed bytes: ValueError covers np.load's refusals (object arrays),
# RuntimeError an encrypted zip member, NotImplementedError an unknown compression method
_PARSE_ERRORS = (ValueError, KeyError, IndexError, EOFError, OSError, OverflowError, NotImplementedError,
                 RuntimeError, struct.error, zipfile.BadZipFile, zlib.error)
