"""Model files: ``save(model, path)`` writes .npz, .json, .safetensors, .onnx or a PyTorch script (.py);
``load(path)`` reads .npz, .json and .safetensors back into a ``core.model.Model`` that predicts
identically, from network inputs (``predict``) and from raw rows (``predict_rows``, ``answers``).

A file holds the whole model: the network, and when it was saved with them, the preprocessing that
turns raw rows into its inputs and its outputs into answers (``core.preprocessing.Preprocessing``:
fill values, the 2-D feature map or the one-hot categories, the standardisation of inputs and
targets, column and class names) and the training settings (``core.spec.TrainingConfig``, with the
loss named). Every file carries the same config, version 2::

    {"format": "backprop-playground-weights", "version": 2, "n_inputs": 4, "dtype": "float64",
     "layers": [{"units": 8, "activation": "tanh"}, {"units": 3, "activation": "softmax"}],
     "preprocessing": {Preprocessing.to_dict()},           (optional)
     "training": {TrainingConfig fields, "loss" named}}    (optional)

Version 1 (a bare network, without the last two keys) still loads.

- ``.npz``: ``kernel_0`` (n_in, n_out), ``bias_0`` (n_out,), ``kernel_1``, … and ``config``, the config
  as a JSON string in a 0-d unicode array.
- ``.json``: the config, each layer also holding ``"kernel"`` and ``"bias"`` as nested lists.
- ``.safetensors``: the ``state_dict`` of ``torch_recipe(net)``, a ``torch.nn.Sequential`` of ``Linear``
  modules each followed by its activation module (``linear`` has none): ``"{i}.weight"`` (n_out, n_in)
  = kernelᵀ and ``"{i}.bias"``, ``i`` counting every module, so tanh→sigmoid gives ``0.*, 2.*`` and
  linear→sigmoid gives ``0.*, 1.*``. The tensors are the layers alone, on standardised inputs (so
  ``load_state_dict`` takes the file as it is); the preprocessing stays beside them in
  ``__metadata__``, which holds ``"config"`` (the network's part), ``"preprocessing"`` and
  ``"training"`` (JSON), ``"pytorch"`` (the recipe) and, for people reading it, ``"task"``,
  ``"target_name"``, ``"feature_names"`` and ``"class_names"`` (JSON lists).
  A file written by PyTorch itself (a ``Sequential`` of ``Linear`` layers and activations, none of
  this metadata) loads given its activations, see ``load``.
- ``.onnx`` (export only): see ``core.onnx_export``; the whole model, raw columns in, answers out.
- ``.py``: see ``core.torch_script``; a PyTorch script, with its weights in a .safetensors beside it.

Loaders read only regular files, at most ``limits.MAX_FILE_BYTES`` of them, check names, shapes,
dtypes, sizes and values against ``core.limits`` before anything large is allocated, and only then
build the model. Any bad or unreadable file raises ``FormatError`` with a one-line message; nothing
is unpickled or executed. Writers refuse what the loaders would refuse, and write a temporary file in
the same folder and rename it, so a crash never leaves a half-written file.
"""
from __future__ import annotations

import gc
import importlib
import json
import math
import os
import re
import tempfile
import zipfile
from contextlib import contextmanager
from dataclasses import replace
from io import BytesIO
from pathlib import Path

import numpy as np

from . import activations, limits, spec
from .files import file_name, read_file
from .model import Model
from .network import Network
from .preprocessing import Preprocessing

FORMAT = "backprop-playground-weights"
VERSION = 2
SAVE_SUFFIXES = (".npz", ".json", ".safetensors", ".onnx")  # weights formats; ``save`` also writes .py scripts
SCRIPT_SUFFIX = ".py"
LOAD_SUFFIXES = (".npz", ".json", ".safetensors")
ONNX_OPSET = 17
ONNX_IR_VERSION = 8  # the IR version that goes with opset 17, so older runtimes read the file too

# torch.nn module for each activation; 'linear' has none
TORCH_MODULES = {"sigmoid": "Sigmoid()", "tanh": "Tanh()", "relu": "ReLU()", "leaky_relu": "LeakyReLU(0.01)",
                 "elu": "ELU()", "softplus": "Softplus()", "swish": "SiLU()", "softmax": "Softmax(dim=-1)"}
# activation for each torch.nn module name a user may write, lower-cased, beyond our own names and aliases
TORCH_NAMES = {"leakyrelu": "leaky_relu", "none": "linear"}


class FormatError(ValueError):
    """A weights or project file that cannot be read, with a one-line message that says what is wrong."""

    def __init__(self, message=""):
        super().__init__(limits.one_line(message))


class ActivationsNeeded(FormatError):
    """A .safetensors written by PyTorch: its Linear layers are known, their activations are not.

    ``layers`` lists ``(n_in, n_out, module_after)`` per Linear layer; ``module_after`` says whether
    a weightless module (an activation) follows it in the Sequential (None for the last layer,
    whose following modules leave no trace in the file)."""

    def __init__(self, message: str, layers: list):
        super().__init__(message)
        self.layers = layers


# --- public API -------------------------------------------------------------------------------
def save(net: Network, path, *, preprocessing: Preprocessing | None = None,
         training: spec.TrainingConfig | None = None, onnx_dtype=None) -> None:
    """Write ``net`` with its ``preprocessing`` and ``training`` settings (by default those of a
    ``Model``) in the format named by ``path``'s suffix: .npz, .json, .safetensors, .onnx, or .py for
    a PyTorch script (which writes its weights beside it, as ``path`` with the suffix .safetensors).

    ONNX graphs compute in ``onnx_dtype``, by default the network's own dtype, so ONNX Runtime
    returns what ``predict`` returns; pass "float32" for runtimes without float64 kernels.

    ValueError (FormatError for an unknown suffix) for non-finite weights, a preprocessing that does
    not fit the network, or a file that ``load`` would refuse as too large; OSError when the file
    cannot be written.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    _check_suffix(path)
    for name, array in _named_arrays(net):
        if not np.isfinite(array).all():
            raise ValueError(f"cannot save: {name} has NaN or infinite values")
    model = as_model(net, preprocessing, training)
    if suffix == ".onnx":
        from . import onnx_export
        atomic_write(path, onnx_export.model_bytes(model, metadata(model), onnx_dtype))
    elif suffix == SCRIPT_SUFFIX:
        from . import torch_script
        weights = path.with_suffix(".safetensors")
        text = torch_script.script_text(model, weights.name)  # checks the model before anything is written
        data = _safetensors_bytes(model)
        check_loadable(data, ".safetensors", f"the weights of {file_name(path)}", "the network is too large")
        atomic_write(weights, data)
        atomic_write(path, text.encode("utf-8"))
    else:
        data = _WRITERS[suffix](model)
        check_loadable(data, suffix, f"the {suffix} file of this network",
                       "use .npz or .safetensors" if suffix == ".json" else "the network is too large")
        atomic_write(path, data)


def _check_suffix(path: Path) -> None:
    if path.suffix.lower() not in (*SAVE_SUFFIXES, SCRIPT_SUFFIX):
        raise FormatError(f"cannot save {file_name(path)}: unknown suffix {limits.excerpt(path.suffix)}; "
                          f"expected one of {', '.join(SAVE_SUFFIXES)} or {SCRIPT_SUFFIX}")


def load(path, *, activations=None, should_stop=None) -> Model:
    """Read a .npz, .json or .safetensors file written by ``save``, or a .safetensors written by
    PyTorch: the state_dict of a ``torch.nn.Sequential`` of ``Linear`` layers and activation modules.
    Such a file says nothing of its activations: give one name per Linear layer in ``activations``
    (ours, such as "relu", or torch's module names, such as "LeakyReLU"; "linear" where none), or
    write them beside the file in ``PATH.json`` (``model.safetensors.json``)::

        {"activations": ["relu", "relu", "linear"]}

    FormatError for a bad, unsupported or unreadable file (missing, not a regular file, too large;
    ActivationsNeeded when only the activations are missing); ``limits.Cancelled`` if
    ``should_stop()`` turns true while the file is read.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    reader = _READERS.get(suffix)
    if reader is None:
        hint = "; .onnx files are for other tools (export only)" if suffix == ".onnx" else ""
        raise FormatError(f"cannot load {file_name(path)}: expected one of {', '.join(LOAD_SUFFIXES)}{hint}")
    if activations is not None and suffix != ".safetensors":
        raise ValueError("activations are for .safetensors files written by PyTorch")
    data = read_file(path, limits.MAX_FILE_BYTES[suffix], FormatError, should_stop)
    try:
        with reading(path, suffix):
            if suffix != ".safetensors":
                return reader(data)
            try:
                return reader(data, activations)
            except ActivationsNeeded:
                sidecar = path.with_name(path.name + ".json")
                if activations is not None or not sidecar.is_file():
                    raise
                return reader(data, _sidecar_activations(sidecar))
    except ActivationsNeeded as error:
        raise ActivationsNeeded(f"{file_name(path)}: {error}", error.layers) from None


@contextmanager
def reading(path, suffix: str):
    """``with reading(path, ".json"):`` turns every failure to make sense of a file's bytes into a
    FormatError that starts with the file's name; a missing library, a stop on request and
    ActivationsNeeded (which the caller names) pass."""
    try:
        yield
    except (limits.Cancelled, ImportError, ActivationsNeeded):
        raise
    except FormatError as error:
        raise FormatError(f"{file_name(path)}: {error}") from None
    except RecursionError:
        raise FormatError(f"{file_name(path)}: nested too deeply") from None
    except MemoryError:
        raise FormatError(f"{file_name(path)}: too large to load into memory") from None
    except Exception as error:  # the libraries' own complaints about malformed bytes
        raise FormatError(f"{file_name(path)}: not a valid {suffix} file "
                          f"({type(error).__name__}: {limits.one_line(error, 120)})") from None


def as_model(net: Network, preprocessing: Preprocessing | None = None,
             training: spec.TrainingConfig | None = None) -> Model:
    """``net`` as a ``Model`` (a copy) with the given preprocessing and training settings, by default
    its own; the training settings name their loss. ValueError if the preprocessing does not fit."""
    preprocessing = preprocessing if preprocessing is not None else getattr(net, "preprocessing", None)
    training = training if training is not None else getattr(net, "training", None)
    if training is not None and training.loss is None:
        task = preprocessing.task if preprocessing is not None else _task_of(net)
        training = replace(training, loss=spec.OUTPUT_FOR_TASK[task][1])
    return Model.of(net, preprocessing, training)


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


def network_to_dict(net: Network, preprocessing: Preprocessing | None = None,
                    training: spec.TrainingConfig | None = None) -> dict:
    """The .json document: the config with each layer's kernel and bias as nested lists."""
    doc = config(as_model(net, preprocessing, training))
    for entry, layer in zip(doc["layers"], net.layers):
        entry["kernel"] = layer.kernel.tolist()
        entry["bias"] = layer.bias.tolist()
    return doc


def network_from_dict(doc) -> Model:
    """The inverse of ``network_to_dict``; FormatError for anything else."""
    n_inputs, layers, dtype = _read_config(doc)
    sizes = [n_inputs] + [units for units, _ in layers]
    weights = [(_json_array(entry.get("kernel"), f"kernel_{i}", (n_in, n_out)),
                _json_array(entry.get("bias"), f"bias_{i}", (n_out,)))
               for i, (entry, n_in, n_out) in enumerate(zip(doc["layers"], sizes, sizes[1:]))]
    return _build(n_inputs, layers, dtype, weights, doc)


def metadata(model: Model) -> dict:
    """The model as the text-to-text metadata of .safetensors and .onnx files (see the module doc)."""
    doc = config(model)
    meta = {key: json.dumps(doc.pop(key)) for key in ("preprocessing", "training") if key in doc}
    meta["config"] = json.dumps(doc)
    pre = model.preprocessing
    if pre is not None:
        meta.update(task=pre.task, target_name=pre.target_name,
                    feature_names=json.dumps([column.name for column in pre.columns]))
        if pre.class_names is not None:
            meta["class_names"] = json.dumps(list(pre.class_names))
    return meta


# --- files ------------------------------------------------------------------------------------
def atomic_write(path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename it over ``path``. Through a
    symbolic link, the file the link points to is replaced and the link stays."""
    with atomic_file(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)


@contextmanager
def atomic_file(path):
    """A temporary path beside ``path`` (with its suffix) for a writer that needs a file name; when
    the block ends without error, the file is flushed to disk and renamed over ``path``, otherwise
    deleted. Through a symbolic link, the file the link points to is replaced and the link stays."""
    path = Path(os.path.realpath(path))
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


def check_writable(path, error=ValueError) -> None:
    """Refuse (``error``) a path that ``atomic_write`` could not write: a folder, or a file whose
    folder is missing or not writable (links followed, as ``atomic_write`` follows them)."""
    target = Path(os.path.realpath(path))
    folder = limits.one_line(target.parent, limits.EXCERPT_CHARS)
    if target.is_dir():
        raise error(f"cannot write {file_name(path)}: it is a folder")
    if not target.parent.is_dir():
        raise error(f"cannot write {file_name(path)}: the folder {folder} does not exist")
    if not os.access(target.parent, os.W_OK | os.X_OK):
        raise error(f"cannot write {file_name(path)}: the folder {folder} is not writable")


def check_savable(path, net: Network | None = None) -> None:
    """Refuse (ValueError) a path that ``save`` could not write a network to, before it is trained: an
    unknown suffix, a folder missing or not writable, or, given ``net``, a .json file that loading
    could refuse once trained: as large as its weights can make it (26 characters a float, with its
    separator; a list per kernel row), or as costly to parse."""
    path = Path(path)
    _check_suffix(path)
    check_writable(path)
    if net is None or path.suffix.lower() != ".json":
        return
    n_parameters = sum(p.size for p in net.parameters)
    text = 26 * n_parameters + limits.MiB
    memory = 3 * text + 40 * n_parameters + 96 * sum(layer.n_in + 1 for layer in net.layers)
    if text > limits.MAX_FILE_BYTES[".json"] or memory > limits.MAX_JSON_MEMORY:
        raise ValueError(f"cannot save {file_name(path)}: a .json file of {n_parameters:,} parameters could be too "
                         "large to load again; use .npz or .safetensors")


def _mode_for(path: Path) -> int:
    """The mode of the file being replaced, or what a plain ``open`` would give a new one."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def check_loadable(data: bytes, suffix: str, what: str, advice: str) -> None:
    """Refuse (ValueError, ending with ``advice``) writing ``data`` as a ``suffix`` file that loading
    would refuse as too large."""
    limit = limits.MAX_FILE_BYTES[suffix]
    if len(data) > limit:
        raise ValueError(f"{what} would take {limits.size_text(len(data))}, more than the {limits.size_text(limit)} "
                         f"a {suffix} file may hold: {advice}")
    if suffix == ".json":
        try:
            check_json_memory(data, what, ValueError)
        except ValueError as error:
            raise ValueError(f"{error}: {advice}") from None


def json_memory(data: bytes) -> int:
    """An upper bound of the bytes that parsing ``data`` as JSON takes, from counts of its characters.

    A list costs at most 96 bytes (one item with its spare slots), an object 160, a value after a comma
    40 (a float and its slot), a string 80 beyond its characters; the text itself is held twice (the
    bytes and the decoded str, up to 4 bytes a character). Measured: ``[[[[1]]]],…`` takes 40 bytes a
    byte of text and this says 45; ``{"a":{"b":{"c":1}}},…`` 30 for 41; ``[],[],…`` 26 for 48.
    """
    text = len(data) if data.isascii() else 4 * len(data)
    return (len(data) + 2 * text + 96 * data.count(b"[") + 160 * data.count(b"{") + 40 * data.count(b",")
            + 40 * data.count(b'"'))


def check_json_memory(data: bytes, what: str, error=FormatError) -> None:
    """Refuse JSON text whose parsed form could take more than ``limits.MAX_JSON_MEMORY``."""
    need = json_memory(data)
    if need > limits.MAX_JSON_MEMORY:
        raise error(f"{what} has too many values for its size to be read: parsing it could take "
                    f"{limits.size_text(need)} of memory; the limit is {limits.size_text(limits.MAX_JSON_MEMORY)}")


def parse_json(data: bytes, what: str = "file"):
    """JSON from bytes (a UTF-8 byte order mark is allowed); FormatError for invalid, too deeply
    nested or, for its size, too many values (checked before parsing)."""
    check_json_memory(data, f"the {what}")
    collecting = gc.isenabled()
    gc.disable()  # millions of new lists would set off collections that find nothing, for seconds
    try:
        return json.loads(data.decode("utf-8-sig"))
    except RecursionError:
        raise FormatError(f"the {what} is nested too deeply") from None
    except ValueError as error:  # JSONDecodeError, UnicodeDecodeError, an over-long integer
        raise FormatError(f"the {what} is not valid JSON ({limits.one_line(error, 120)})") from None
    finally:
        if collecting:
            gc.enable()


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
def config(model: Model) -> dict:
    """The config of the module doc: the network, and the preprocessing and training settings it has."""
    doc = {"format": FORMAT, "version": VERSION, "n_inputs": model.n_inputs, "dtype": model.dtype.name,
           "layers": [{"units": units, "activation": act} for units, act in model.spec]}
    if model.preprocessing is not None:
        doc["preprocessing"] = model.preprocessing.to_dict()
    if model.training is not None:
        doc["training"] = spec.to_dict(model.training)
    return doc


def check_version(doc: dict, format_name: str, newest: int) -> int:
    """The document's version after checking its format name; FormatError for a newer or odd one."""
    if doc.get("format") != format_name:
        raise FormatError(f"format is {limits.excerpt(doc.get('format'))}, expected {format_name!r}")
    version = doc.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise FormatError(f"version must be a non-negative integer, got {limits.excerpt(version)}")
    if version > newest:
        raise FormatError(f"version {limits.excerpt(version)} was written by a newer Backprop Playground; "
                          f"this one reads up to version {newest}")
    return version


def _read_config(config) -> tuple[int, list, np.dtype]:
    """(n_inputs, [(units, activation)], dtype) from a config, checked before anything is built."""
    if not isinstance(config, dict):
        raise FormatError(f"the config must be a JSON object, got {type(config).__name__}")
    version = check_version(config, FORMAT, VERSION)
    if version < 1:
        raise FormatError(f"unsupported version {version!r}")
    if version == 1 and {"preprocessing", "training"} & set(config):
        raise FormatError("a version 1 file has no preprocessing or training settings")
    if config.get("dtype") not in ("float32", "float64"):
        raise FormatError(f"dtype must be 'float32' or 'float64', got {_short(config.get('dtype'))}")
    entries = config.get("layers")
    if not isinstance(entries, list) or not 1 <= len(entries) <= limits.MAX_HIDDEN_LAYERS + 1:
        raise FormatError(f"layers must be a list of 1 to {limits.MAX_HIDDEN_LAYERS + 1} layers, "
                          f"got {_short(entries)}")
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
        layers.append((entry.get("units"), act))
    limits.check_network([config.get("n_inputs")] + [units for units, _ in layers], FormatError)
    return config["n_inputs"], layers, np.dtype(config["dtype"])


def _build(n_inputs: int, layers: list, dtype: np.dtype, weights: list, config=None) -> Model:
    """A Model from a checked config and ``[(kernel (n_in, n_out), bias (n_out,)), ...]`` as read,
    with the preprocessing and training settings the config holds, checked first."""
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
    preprocessing, training = _read_parts(config or {}, n_inputs, layers)
    return Model(n_inputs, layers, seed=0, dtype=dtype, weights=weights, preprocessing=preprocessing,
                 training=training)


def _read_parts(config: dict, n_inputs: int, layers: list):
    """(Preprocessing or None, TrainingConfig or None) from a checked config."""
    preprocessing = training = None
    if config.get("preprocessing") is not None:
        try:
            preprocessing = Preprocessing.from_dict(config["preprocessing"])
        except ValueError as error:
            raise FormatError(str(error)) from None
        n_outputs = layers[-1][0]
        if (preprocessing.n_inputs, preprocessing.n_outputs) != (n_inputs, n_outputs):
            raise FormatError(f"the preprocessing gives {preprocessing.n_inputs} inputs and reads "
                              f"{preprocessing.n_outputs} outputs; the network has {n_inputs} and {n_outputs}")
    if config.get("training") is not None:
        training = _read_training(config["training"])
    return preprocessing, training


def _read_training(values) -> spec.TrainingConfig:
    """The training settings, checked as a project's are, against ``core.limits``."""
    try:
        training = spec.from_dict(spec.TrainingConfig, values)
        training.check()
    except (ValueError, TypeError) as error:  # TypeError: a list where a name should be, and the like
        raise FormatError(f"training: {error}") from None
    return training


def _task_of(net: Network) -> str:
    """The task a network without preprocessing was most likely trained for, from its output layer."""
    return {"sigmoid": "binary", "softmax": "multiclass"}.get(net.spec[-1][1], "regression")


def _json_array(value, name: str, shape: tuple) -> np.ndarray:
    """Nested lists of numbers → float64 array; FormatError for strings, booleans, ragged lists,
    and (before converting anything) a list whose length is not the first of ``shape``."""
    if not isinstance(value, list):
        raise FormatError(f"{name} must be a list of numbers, got {_short(value)}")
    if len(value) != shape[0]:
        raise FormatError(f"{name} has length {len(value):,}; the config says shape {shape}")
    try:
        array = np.array(value)
    except (ValueError, OverflowError):  # ragged, or too deep for an ndarray
        raise FormatError(f"{name} is not a rectangular list of numbers") from None
    if array.dtype.kind not in "iuf":  # strings, booleans, objects (huge integers) are not weights
        raise FormatError(f"{name} must hold numbers only, got {array.dtype}")
    return array.astype(np.float64, copy=False)


def _short(value) -> str:
    """A repr for messages, bounded however large the value is."""
    return limits.excerpt(value)


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


def optional_library(name: str):
    """Import a library a format needs (a dependency of the app, optional for ``core`` alone); a clear
    ImportError naming it if it is missing."""
    try:
        return importlib.import_module(name)
    except ImportError:
        package = name.split(".")[0]
        raise ImportError(f"this file format needs the {package!r} package, which Backprop Playground "
                          f"installs with it (pip install -e .); install it with: pip install {package}") from None


# --- .npz -------------------------------------------------------------------------------------
def _npz_bytes(model: Model) -> bytes:
    buffer = BytesIO()
    np.savez(buffer, config=np.array(json.dumps(config(model))), **dict(_named_arrays(model)))
    return buffer.getvalue()


def _npz_network(data: bytes) -> Model:
    # zipfile reads the whole central directory first: bound its records (each starts so) beforehand
    if data.count(b"PK\x01\x02") > limits.MAX_ZIP_ENTRIES:
        raise FormatError(f"more than {limits.MAX_ZIP_ENTRIES:,} zip entries; a network has at most "
                          f"{2 * limits.MAX_HIDDEN_LAYERS + 3} arrays")
    with zipfile.ZipFile(BytesIO(data)) as archive:
        members = {info.filename: info for info in archive.infolist()}
        if "config.npy" not in members:
            raise FormatError(f"no config array; found {limits.excerpt(sorted(members))}")
        config = _npy(archive, members["config.npy"], "config", ())
        doc = parse_json(str(config).encode("utf-8"), "config")
        n_inputs, layers, dtype = _read_config(doc)
        sizes = [n_inputs] + [units for units, _ in layers]
        shapes = {}
        for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
            shapes[f"kernel_{i}"], shapes[f"bias_{i}"] = (n_in, n_out), (n_out,)
        if set(members) != {"config.npy", *(f"{name}.npy" for name in shapes)}:
            expected = sorted(["config.npy", *(f"{name}.npy" for name in shapes)])
            raise FormatError(f"expected arrays {limits.excerpt(expected)}, found {limits.excerpt(sorted(members))}")
        arrays = {name: _npy(archive, members[f"{name}.npy"], name, shape) for name, shape in shapes.items()}
    weights = [(arrays[f"kernel_{i}"], arrays[f"bias_{i}"]) for i in range(len(layers))]
    return _build(n_inputs, layers, dtype, weights, doc)


def _npy(archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, shape: tuple) -> np.ndarray:
    """The array of one .npy member, its header checked against ``shape`` (and a float or unicode
    dtype) before its data is read, so a header declaring a huge array allocates nothing."""
    most = limits.MAX_HEADER_BYTES if name == "config" else math.prod(shape) * 8 + 4096  # float64 and a header
    if info.file_size > most:  # the unpacked size, checked before unpacking anything (zip bombs)
        raise FormatError(f"{name} unpacks to {info.file_size:,} bytes, more than its shape needs")
    header_readers = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
    with archive.open(info) as f:
        version = np.lib.format.read_magic(f)
        if version not in header_readers:
            raise FormatError(f"{name}: unsupported .npy format version {version}")
        declared, fortran_order, dtype = header_readers[version](f)
        if name == "config" and dtype.kind != "U":
            raise FormatError(f"config must be a JSON string (a 0-d unicode array), got {dtype}")
        if name != "config" and (dtype.kind != "f" or dtype.itemsize not in (4, 8)):
            raise FormatError(f"{name} must be a float32 or float64 array, got {dtype}")
        if declared != shape:
            raise FormatError(f"{name} has shape {limits.excerpt(declared)}; the config says {shape}")
        size = math.prod(shape) * dtype.itemsize
        if size > info.file_size:  # the member is smaller than the array it declares
            raise FormatError(f"{name} declares {size:,} bytes of data, more than the member holds")
        buffer = f.read(size)
    if len(buffer) != size:
        raise FormatError(f"{name} is truncated")
    return np.frombuffer(buffer, dtype).reshape(shape, order="F" if fortran_order else "C")


# --- .json ------------------------------------------------------------------------------------
def _json_bytes(model: Model) -> bytes:
    return (dump_json(network_to_dict(model)) + "\n").encode("utf-8")


def _json_network(data: bytes) -> Model:
    return network_from_dict(parse_json(data))


# --- .safetensors -----------------------------------------------------------------------------
SAFETENSORS_DTYPES = {"F32": 4, "F64": 8}  # the weights' dtypes we read
ITEM_SIZES = {"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
              "I32": 4, "U32": 4, "I64": 8, "U64": 8, **SAFETENSORS_DTYPES}  # every dtype a safetensors file may hold


def _safetensors_bytes(model: Model) -> bytes:
    numpy_io = optional_library("safetensors.numpy")
    indices = _torch_indices(act for _, act in model.spec)
    tensors = {}
    for i, layer in zip(indices, model.layers):
        tensors[f"{i}.weight"] = np.ascontiguousarray(layer.kernel.T)  # torch's Linear keeps (out, in)
        tensors[f"{i}.bias"] = layer.bias
    return numpy_io.save(tensors, metadata={**metadata(model), "pytorch": torch_recipe(model)})


def _safetensors_network(data: bytes, activations=None) -> Model:
    meta, infos = _safetensors_header(data)
    if meta is None or "config" not in meta:
        return _torch_network(data, infos, activations)
    if activations is not None:
        raise FormatError("the file names its own activations; activations are for files written by PyTorch")
    doc = parse_json(_text(meta["config"], "config").encode("utf-8"), "config")
    if isinstance(doc, dict):
        for key in ("preprocessing", "training"):
            if key in meta:
                doc[key] = parse_json(_text(meta[key], key).encode("utf-8"), key)
    n_inputs, layers, dtype = _read_config(doc)
    sizes = [n_inputs] + [units for units, _ in layers]
    indices = _torch_indices(act for _, act in layers)
    expected = {}
    for i, n_in, n_out in zip(indices, sizes, sizes[1:]):
        expected[f"{i}.weight"], expected[f"{i}.bias"] = [n_out, n_in], [n_out]
    if set(infos) != set(expected):
        raise FormatError(f"expected tensors {_short(sorted(expected))}, found {_short(sorted(infos))}")
    for name, shape in expected.items():
        _check_float(name, infos[name])
        if infos[name]["shape"] != shape:
            raise FormatError(f"{name} has shape {_short(infos[name]['shape'])}; the config says {shape}")
    tensors = _safetensors_tensors(data)
    weights = [(tensors[f"{i}.weight"].T, tensors[f"{i}.bias"]) for i in indices]
    return _build(n_inputs, layers, dtype, weights, doc)


def _safetensors_header(data: bytes):
    """(__metadata__ or None, {name: info}) of a safetensors file, every tensor's dtype, shape and
    data offsets checked against each other and the file's length before anything is read."""
    if len(data) < 8:
        raise FormatError(f"{len(data)} bytes is too short for a safetensors file")
    header_size = int.from_bytes(data[:8], "little")
    if header_size > min(len(data) - 8, limits.MAX_HEADER_BYTES):  # checked before the header is trusted
        raise FormatError(f"header length {header_size:,} bytes exceeds the file or the "
                          f"{limits.size_text(limits.MAX_HEADER_BYTES)} limit")
    header = parse_json(data[8:8 + header_size], "safetensors header")
    if not isinstance(header, dict):
        raise FormatError(f"the header must be a JSON object, got {type(header).__name__}")
    meta = header.pop("__metadata__", None)
    if meta is not None and not (isinstance(meta, dict) and all(isinstance(v, str) for v in meta.values())):
        raise FormatError("__metadata__ must map names to text")
    if len(header) > 2 * (limits.MAX_HIDDEN_LAYERS + 1):
        raise FormatError(f"{len(header):,} tensors; at most {2 * (limits.MAX_HIDDEN_LAYERS + 1)} are expected")
    spans = []
    for name, info in header.items():
        if not isinstance(info, dict) or info.get("dtype") not in ITEM_SIZES:
            raise FormatError(f"{name} has no known dtype: {_short(info)}")
        shape, span = info.get("shape"), info.get("data_offsets")
        if not (isinstance(shape, list) and len(shape) <= 8 and all(type(n) is int and n >= 0 for n in shape)):
            raise FormatError(f"{name} has shape {_short(shape)}; expected a list of sizes")
        size = math.prod(shape) * ITEM_SIZES[info["dtype"]]
        if not (isinstance(span, list) and len(span) == 2 and all(type(x) is int for x in span)
                and 0 <= span[0] and span[1] - span[0] == size):
            raise FormatError(f"{name} has data offsets {_short(span)}; its shape needs {size} bytes")
        spans.append(span)
    spans.sort()
    if spans and ([s[0] for s in spans] != [0] + [s[1] for s in spans[:-1]]
                  or spans[-1][1] != len(data) - 8 - header_size):
        raise FormatError("the tensors' data offsets do not tile the data section")
    return meta, header


def _check_float(name: str, info: dict) -> None:
    if info["dtype"] not in SAFETENSORS_DTYPES:
        raise FormatError(f"{name} must be F32 or F64, got {info['dtype']}")


def _safetensors_tensors(data: bytes) -> dict:
    """The tensors as NumPy arrays, after ``_safetensors_header`` has checked them."""
    try:
        return optional_library("safetensors.numpy").load(data)
    except optional_library("safetensors").SafetensorError as error:  # the library's own checks, after ours
        raise FormatError(str(error)) from None


def _torch_network(data: bytes, infos: dict, activations) -> Model:
    """A network from the state_dict of a ``torch.nn.Sequential`` of ``Linear`` layers with activation
    modules between them, given one activation per Linear layer; FormatError for what cannot be mapped."""
    expected = "the state_dict of a torch.nn.Sequential of Linear layers ('0.weight', '0.bias', '2.weight', …)"
    modules = {}
    for name in infos:
        match = re.fullmatch(r"(\d{1,6})\.(weight|bias)", name)
        if match is None:
            raise FormatError(f"cannot map tensor {_short(name)}: the file must hold {expected}")
        modules.setdefault(int(match[1]), {})[match[2]] = infos[name]["shape"]
    if not modules:
        raise FormatError(f"no tensors; the file must hold {expected}")
    for name, info in infos.items():
        _check_float(name, info)
    indices = sorted(modules)
    layers = []  # (n_in, n_out) per Linear module
    for i in indices:
        weight, bias = modules[i].get("weight"), modules[i].get("bias")
        if weight is None or len(weight) != 2:
            raise FormatError(f"module {i} has {'no weight' if weight is None else f'a weight of shape {weight}'}: "
                              "only Linear layers (2-D weights) can be mapped")
        if bias is not None and bias != weight[:1]:
            raise FormatError(f"module {i}: bias of shape {bias} for a weight of shape {weight}")
        n_out, n_in = weight
        if layers and n_in != layers[-1][1]:
            raise FormatError(f"module {i} takes {n_in} inputs, but the Linear layer before it gives {layers[-1][1]}")
        layers.append((n_in, n_out))
    if indices[0] != 0:
        raise FormatError(f"the first Linear layer is module {indices[0]}; modules before it cannot be mapped")
    gaps = [b - a for a, b in zip(indices, indices[1:])]
    if any(gap > 2 for gap in gaps):
        i = indices[[gap > 2 for gap in gaps].index(True)]
        raise FormatError(f"several modules follow Linear module {i}; only one activation can sit between "
                          "two Linear layers")
    limits.check_network([layers[0][0]] + [n_out for _, n_out in layers], FormatError)
    module_after = [gap == 2 for gap in gaps] + [None]
    if activations is None:
        shapes = ", ".join(f"{n_in}→{n_out}" for n_in, n_out in layers)
        example = json.dumps({"activations": ["relu" if after else "linear" for after in module_after]})
        raise ActivationsNeeded(
            f"written by PyTorch without the network's activations: name one for each of its {len(layers)} "
            f"Linear layers ({shapes}), e.g. in a file beside it, PATH.json: {example}",
            [(n_in, n_out, after) for (n_in, n_out), after in zip(layers, module_after)])
    names = _activation_names(activations, len(layers))
    for k, (after, act) in enumerate(zip(module_after, names)):
        if after is False and act != "linear":
            raise FormatError(f"Linear module {indices[k]} is followed directly by another Linear layer, "
                              f"so its activation is linear, not {act!r}")
        if after is True and act == "linear":
            raise FormatError(f"a module sits after Linear module {indices[k]}: name its activation "
                              "(linear is for none)")
    tensors = _safetensors_tensors(data)
    dtype = np.float64 if any(tensors[f"{i}.weight"].dtype == np.float64 for i in indices) else np.float32
    weights = [(tensors[f"{i}.weight"].T, tensors.get(f"{i}.bias", np.zeros(n_out, dtype)))  # bias=False: zeros
               for i, (_, n_out) in zip(indices, layers)]
    return _build(layers[0][0], [(n_out, act) for (_, n_out), act in zip(layers, names)], np.dtype(dtype),
                  [(kernel.astype(dtype), bias.astype(dtype)) for kernel, bias in weights])


def _activation_names(values, n_layers: int) -> list:
    """Canonical activation names, one per layer, from ours or torch's module names."""
    if not (isinstance(values, (list, tuple)) and all(isinstance(v, str) for v in values)):
        raise FormatError(f"activations must be a list of names, got {_short(values)}")
    if len(values) != n_layers:
        raise FormatError(f"{len(values)} activations for {n_layers} Linear layers")
    names = []
    for value in values:
        key = value.strip().lower().removeprefix("torch.nn.").removeprefix("nn.").removesuffix("()")
        try:
            names.append(activations.canonical_name(TORCH_NAMES.get(key, key)))
        except ValueError as error:
            raise FormatError(str(error)) from None
    if "softmax" in names[:-1]:
        raise FormatError("softmax is for the output layer only")
    return names


def _sidecar_activations(path: Path) -> list:
    """The activations a user wrote beside a PyTorch file: ``{"activations": ["relu", "linear"]}``."""
    data = read_file(path, limits.MAX_SIDECAR_BYTES, FormatError)
    doc = parse_json(data, path.name)
    if not isinstance(doc, dict) or set(doc) != {"activations"}:
        raise FormatError(f'{path.name} must be {{"activations": [one name per Linear layer]}}, got {_short(doc)}')
    return doc["activations"]


def _text(value, what: str) -> str:
    if not isinstance(value, str):
        raise FormatError(f"__metadata__ has no {what!r} text")
    return value


_WRITERS = {".npz": _npz_bytes, ".json": _json_bytes, ".safetensors": _safetensors_bytes}
_READERS = {".npz": _npz_network, ".json": _json_network, ".safetensors": _safetensors_network}
