"""Weights files: round trips and hostile files that must raise FormatError only (the README's snippets
run in test_export.py)."""
import json
import pickle
import os
import zipfile
from io import BytesIO
from pathlib import Path

import numpy as np
from blocked_imports import run_without
import pytest
from hypothesis import given, settings, strategies as st

from core import Network, io, limits
from core.io import FormatError

ROOT = Path(__file__).resolve().parents[2]
ARCHITECTURES = [  # (n_inputs, layers)
    (2, [(8, "tanh"), (1, "sigmoid")]),
    (3, [(5, "relu"), (4, "linear"), (3, "softmax")]),
    (4, [(6, "leaky_relu"), (6, "elu"), (2, "linear")]),
    (1, [(7, "softplus"), (5, "swish"), (1, "tanh")]),
    (5, [(1, "linear")]),
]
LOADABLE = [".npz", ".json", ".safetensors"]


def _net(n_inputs=2, layers=((8, "tanh"), (1, "sigmoid")), dtype=np.float64, seed=0):
    """A network with random, non-zero biases, so a kernel/bias or transpose mix-up shows."""
    net = Network(n_inputs, list(layers), seed=seed, dtype=dtype)
    rng = np.random.default_rng(seed + 100)
    net.set_weights([(k, rng.normal(size=b.shape)) for k, b in net.get_weights()])
    return net


def _needs(suffix):
    """Skip when the library a format needs is not installed."""
    pytest.importorskip({".safetensors": "safetensors", ".onnx": "onnx"}.get(suffix, "numpy"))


def _inputs(net, n=16):
    return np.random.default_rng(7).normal(scale=3.0, size=(n, net.n_inputs)).astype(net.dtype)


# --- round trips ------------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", LOADABLE)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_inputs, layers", ARCHITECTURES)
def test_round_trip_predicts_identically(tmp_path, suffix, dtype, n_inputs, layers):
    _needs(suffix)
    net = _net(n_inputs, layers, dtype)
    path = tmp_path / f"model{suffix}"
    io.save(net, path)
    twin = io.load(path)
    assert (twin.n_inputs, twin.spec, twin.dtype) == (net.n_inputs, net.spec, net.dtype)
    X = _inputs(net)
    np.testing.assert_array_equal(twin.predict(X), net.predict(X))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_inputs, layers", ARCHITECTURES)
def test_onnx_runtime_matches_predict(tmp_path, dtype, n_inputs, layers):
    ort = pytest.importorskip("onnxruntime")
    onnx = pytest.importorskip("onnx")
    net = _net(n_inputs, layers, dtype)
    io.save(net, tmp_path / "model.onnx")
    model = onnx.load(tmp_path / "model.onnx")
    assert [(o.domain, o.version) for o in model.opset_import] == [("", io.ONNX_OPSET)]
    assert model.graph.input[0].type.tensor_type.shape.dim[0].dim_param  # a named, dynamic batch size
    assert not {"HardSwish", "HardSigmoid"} & {node.op_type for node in model.graph.node}
    session = ort.InferenceSession(str(tmp_path / "model.onnx"))
    assert [i.name for i in session.get_inputs()] == ["input"] and [o.name for o in session.get_outputs()] == ["output"]
    for n in (1, 33):
        X = _inputs(net, n)
        np.testing.assert_allclose(session.run(None, {"input": X})[0], net.predict(X), rtol=1e-6, atol=1e-6)


def test_onnx_float32_export_of_a_float64_network(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    net = _net(4, [(6, "elu"), (6, "softplus"), (3, "softmax")])
    io.save(net, tmp_path / "model.onnx", onnx_dtype="float32")
    X = _inputs(net)
    y = ort.InferenceSession(str(tmp_path / "model.onnx")).run(None, {"input": X.astype(np.float32)})[0]
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, net.predict(X), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("n_inputs, layers", ARCHITECTURES)
def test_safetensors_is_the_state_dict_of_the_torch_recipe(tmp_path, n_inputs, layers):
    torch = pytest.importorskip("torch")
    from safetensors.torch import load_file
    net = _net(n_inputs, layers)
    io.save(net, tmp_path / "model.safetensors")
    model = eval(io.torch_recipe(net), {"torch": torch})
    model.load_state_dict(load_file(tmp_path / "model.safetensors"))  # strict: same keys and shapes
    X = _inputs(net)
    np.testing.assert_allclose(model(torch.from_numpy(X)).detach().numpy(), net.predict(X), rtol=1e-12, atol=1e-12)


def test_safetensors_keys_count_activation_modules():
    net = _net(3, [(4, "tanh"), (5, "linear"), (2, "sigmoid")], dtype=np.float32)
    assert io.torch_recipe(net) == ("torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), "
                                    "torch.nn.Linear(4, 5), torch.nn.Linear(5, 2), torch.nn.Sigmoid())")
    load = pytest.importorskip("safetensors.numpy").load
    tensors = load(io._safetensors_bytes(io.as_model(net)))
    assert {k: v.shape for k, v in tensors.items()} == {"0.weight": (4, 3), "0.bias": (4,), "2.weight": (5, 4),
                                                        "2.bias": (5,), "3.weight": (2, 5), "3.bias": (2,)}
    np.testing.assert_array_equal(tensors["2.weight"], net.layers[1].kernel.T)


def test_json_file_is_readable_and_documented(tmp_path):
    net = _net(2, [(3, "tanh"), (1, "sigmoid")])
    io.save(net, tmp_path / "model.json")
    doc = json.loads((tmp_path / "model.json").read_text())
    assert (doc["format"], doc["version"], doc["n_inputs"], doc["dtype"]) == (io.FORMAT, 2, 2, "float64")
    assert [(e["units"], e["activation"]) for e in doc["layers"]] == [(3, "tanh"), (1, "sigmoid")]
    assert doc["layers"][0]["kernel"] == net.layers[0].kernel.tolist()
    npz = np.load(_saved(net, ".npz", tmp_path), allow_pickle=False)
    assert sorted(npz.files) == ["bias_0", "bias_1", "config", "kernel_0", "kernel_1"]
    assert json.loads(str(npz["config"]))["layers"] == [{"units": 3, "activation": "tanh"},
                                                       {"units": 1, "activation": "sigmoid"}]


# --- hostile files ----------------------------------------------------------------------------
def _saved(net, suffix, folder) -> Path:
    path = folder / f"saved{suffix}"
    io.save(net, path)
    return path


def _npz(**arrays) -> bytes:
    buffer = BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _config(n_inputs=2, layers=((3, "tanh"), (1, "sigmoid")), **changes):
    config = {"format": io.FORMAT, "version": 1, "n_inputs": n_inputs, "dtype": "float64",
              "layers": [{"units": u, "activation": a} for u, a in layers]}
    return {**config, **changes}


def _json_doc(**changes):
    doc = io.network_to_dict(_net(2, [(3, "tanh"), (1, "sigmoid")]))
    doc.update(changes)
    return json.dumps(doc).encode()


def _valid_npz_arrays():
    return dict(config=np.array(json.dumps(_config())), kernel_0=np.ones((2, 3)), bias_0=np.ones(3),
                kernel_1=np.ones((3, 1)), bias_1=np.ones(1))


def _safetensors(tensors, metadata):
    from safetensors.numpy import save
    return save(tensors, metadata=metadata)


def _zip(members) -> bytes:
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _npy(array) -> bytes:
    buffer = BytesIO()
    np.save(buffer, array, allow_pickle=True)
    return buffer.getvalue()


def _layer_json(**layer_changes):
    doc = io.network_to_dict(_net(2, [(3, "tanh"), (1, "sigmoid")]))
    doc["layers"][0].update(layer_changes)
    return json.dumps(doc).encode()


HOSTILE = {  # name: (suffix, bytes, what the message must say)
    "empty npz": (".npz", lambda: b"", "not a valid .npz"),
    "empty json": (".json", lambda: b"", "not valid JSON"),
    "empty safetensors": (".safetensors", lambda: b"", "too short"),
    "json truncated": (".json", lambda: _json_doc()[:-40], "not valid JSON"),
    "json not an object": (".json", lambda: b"[1, 2]", "must be a JSON object"),
    "json wrong format": (".json", lambda: _json_doc(format="keras"), "format is 'keras'"),
    "json newer version": (".json", lambda: _json_doc(version=3), "newer"),
    "json unknown activation": (".json", lambda: _layer_json(activation="gelu"), "unknown activation 'gelu'"),
    "json absurd input count": (".json", lambda: _json_doc(n_inputs=10**12), "n_inputs must be from 1 to 10,000, got 1000000000000"),
    "json absurd layer size": (".json", lambda: _layer_json(units=10**9), "layer 0 units must be from 1 to 100,000, got 1000000000"),
    "json too many parameters": (".json", lambda: json.dumps(_config(layers=[(4096, "tanh"), (4096, "tanh")])).encode(),
                                 "parameters; the limit"),
    "json wrong kernel length": (".json", lambda: _layer_json(kernel=[[1.0, 2.0, 3.0]]),
                                 r"kernel_0 has length 1; the config says shape \(2, 3\)"),
    "json wrong kernel shape": (".json", lambda: _layer_json(kernel=[[1.0, 2.0], [3.0, 4.0]]),
                                r"kernel_0 has shape \(2, 2\); the config says \(2, 3\)"),
    "json ragged kernel": (".json", lambda: _layer_json(kernel=[[1.0, 2.0, 3.0], [1.0]]), "not a rectangular"),
    "json string weights": (".json", lambda: _layer_json(bias=["1", "2", "3"]), "numbers only"),
    "json NaN": (".json", lambda: _layer_json(bias=[float("nan"), 0.0, 0.0]), "NaN or infinite"),
    "json huge number": (".json", lambda: _layer_json(bias=[10**400, 0, 0]), "numbers only"),
    "json deeply nested": (".json", lambda: b"[" * 200_000 + b"]" * 200_000, "nested too deeply"),
    "json deeply nested kernel": (".json", lambda: _layer_json(kernel=json.loads("[" * 500 + "]" * 500)), "kernel_0"),
    "json softmax hidden": (".json", lambda: json.dumps(_config(layers=[(3, "softmax"), (1, "linear")])).encode(),
                            "softmax is for the output layer only"),
    "npz truncated": (".npz", lambda: _npz(**_valid_npz_arrays())[:-100], "not a valid .npz"),
    "npz no config": (".npz", lambda: _npz(kernel_0=np.ones((2, 1)), bias_0=np.ones(1)), "no config"),
    "npz wrong shape": (".npz", lambda: _npz(**{**_valid_npz_arrays(), "kernel_0": np.ones((3, 2))}),
                        r"kernel_0 has shape \(3, 2\); the config says \(2, 3\)"),
    "npz integer weights": (".npz", lambda: _npz(**{**_valid_npz_arrays(), "bias_0": np.ones(3, dtype=int)}),
                            "float32 or float64 array, got int64"),
    "npz extra array": (".npz", lambda: _npz(**_valid_npz_arrays(), extra=np.ones(1)), "expected arrays"),
    "npz object array": (".npz", lambda: _zip(_npy_members(kernel_0=_npy(np.array([[1, 2, 3]] * 2, dtype=object)))),
                         "kernel_0 must be a float32 or float64 array, got object"),
    "npz config not a string": (".npz", lambda: _npz(**{**_valid_npz_arrays(), "config": np.ones(2)}), "JSON string"),
    "npz too many members": (".npz", lambda: _zip({f"a{i}.npy": b"" for i in range(3000)}), "at most"),
    "npz zip bomb": (".npz", lambda: _zip(_npy_members(kernel_0=b"\0" * (64 * 2**20))), "unpacks to 67,108,864 bytes"),
    "npz config bomb": (".npz", lambda: _zip({"config.npy": b" " * (limits.MAX_HEADER_BYTES + 1)}), "config unpacks"),
    "safetensors huge header length": (".safetensors", lambda: (2**63).to_bytes(8, "little") + b"{}", "header length"),
    "safetensors header past the end": (".safetensors", lambda: (100).to_bytes(8, "little") + b"{}", "header length"),
    "safetensors without metadata": (".safetensors", lambda: _safetensors({"0.weight": np.ones((1, 2))}, None),
                                     "written by PyTorch without the network's activations"),
    "safetensors wrong shape": (".safetensors", lambda: _safetensors(
        {"0.weight": np.ones((2, 3)), "0.bias": np.ones(3), "2.weight": np.ones((1, 3)), "2.bias": np.ones(1)},
        {"config": json.dumps(_config())}), r"0.weight has shape \[2, 3\]; the config says \[3, 2\]"),
    "safetensors float16": (".safetensors", lambda: _safetensors(
        {"0.weight": np.ones((3, 2), np.float16), "0.bias": np.ones(3), "2.weight": np.ones((1, 3)), "2.bias": np.ones(1)},
        {"config": json.dumps(_config())}), "0.weight must be F32 or F64"),
    "safetensors wrong names": (".safetensors", lambda: _safetensors(
        {"0.weight": np.ones((3, 2)), "0.bias": np.ones(3), "1.weight": np.ones((1, 3)), "1.bias": np.ones(1)},
        {"config": json.dumps(_config())}), "expected tensors"),
    "safetensors infinite": (".safetensors", lambda: _safetensors(
        {"0.weight": np.full((3, 2), np.inf), "0.bias": np.ones(3), "2.weight": np.ones((1, 3)), "2.bias": np.ones(1)},
        {"config": json.dumps(_config())}), "kernel_0 has NaN or infinite"),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_file_raises_format_error_saying_what_is_wrong(tmp_path, name):
    suffix, make, message = HOSTILE[name]
    _needs(suffix)
    path = tmp_path / f"bad{suffix}"
    path.write_bytes(make())
    with pytest.raises(FormatError, match=message):
        io.load(path)


class _TouchOnUnpickle:
    """A pickle payload: unpickling it creates ``marker``."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return Path.touch, (Path(self.marker),)


def _npy_members(**replaced) -> dict:
    """The .npy members of a valid .npz, some replaced by raw bytes."""
    return {f"{name}.npy": replaced.get(name) or _npy(array) for name, array in _valid_npz_arrays().items()}


def _pickle_npz(marker) -> bytes:
    return _zip(_npy_members(kernel_0=_npy(np.array([_TouchOnUnpickle(marker)], dtype=object)),
                             bias_0=pickle.dumps(_TouchOnUnpickle(marker))))  # a bare pickle, no .npy header


def test_pickled_payload_in_npz_is_refused_and_never_run(tmp_path):
    live = tmp_path / "live-marker"
    with np.load(BytesIO(_pickle_npz(live)), allow_pickle=True) as npz:
        npz["kernel_0"]  # the payload works when unpickled
    assert live.exists()
    marker = tmp_path / "marker"
    path = tmp_path / "evil.npz"
    path.write_bytes(_pickle_npz(marker))
    with pytest.raises(FormatError, match="float32 or float64 array, got object|not a valid .npz"):
        io.load(path)
    for member in ("kernel_0", "bias_0"):  # each payload alone, the other slot valid
        payload = zipfile.ZipFile(BytesIO(_pickle_npz(marker))).read(f"{member}.npy")
        path.write_bytes(_zip(_npy_members(**{member: payload})))
        with pytest.raises(FormatError):
            io.load(path)
    assert not marker.exists()


def test_unknown_suffixes_and_onnx_loading_are_refused(tmp_path):
    with pytest.raises(FormatError, match="unknown suffix '.h5'"):
        io.save(_net(), tmp_path / "model.h5")
    with pytest.raises(FormatError, match="export only"):
        io.load(tmp_path / "model.onnx")
    assert list(tmp_path.iterdir()) == []


def test_oversized_file_is_refused_before_reading(tmp_path, monkeypatch):
    monkeypatch.setitem(limits.MAX_FILE_BYTES, ".json", 100)
    path = tmp_path / "big.json"
    path.write_bytes(b" " * 101)
    with pytest.raises(FormatError, match="big.json has 101 bytes; the limit for this file is 100 bytes"):
        io.load(path)


# --- property tests: mutated and random bytes -------------------------------------------------
VALID = {suffix: None for suffix in LOADABLE}


def _valid_bytes(suffix, folder) -> bytes:
    if VALID[suffix] is None:
        VALID[suffix] = _saved(_net(2, [(3, "swish"), (2, "softmax")]), suffix, folder).read_bytes()
    return VALID[suffix]


mutations = st.one_of(
    st.tuples(st.just("flip"), st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 7)), min_size=1, max_size=8)),
    st.tuples(st.just("truncate"), st.integers(0, 10**6)),
    st.tuples(st.just("overwrite"), st.tuples(st.integers(0, 10**6), st.binary(min_size=1, max_size=64))),
    st.tuples(st.just("random"), st.binary(max_size=2048)),
)


def _mutate(data: bytes, mutation) -> bytes:
    kind, arg = mutation
    data = bytearray(data)
    if kind == "flip":
        for position, bit in arg:
            data[position % len(data)] ^= 1 << bit
    elif kind == "truncate":
        del data[arg % len(data):]
    elif kind == "overwrite":
        start = arg[0] % len(data)
        data[start:start + len(arg[1])] = arg[1]
    else:
        data = bytearray(arg)
    return bytes(data)


@pytest.mark.parametrize("suffix", LOADABLE)
@settings(max_examples=120, deadline=None)
@given(mutation=mutations)
def test_mutated_files_load_or_raise_format_error_only(tmp_path_factory, suffix, mutation):
    _needs(suffix)
    folder = tmp_path_factory.getbasetemp()
    path = folder / f"mutated{suffix}"
    path.write_bytes(_mutate(_valid_bytes(suffix, folder), mutation))
    try:
        net = io.load(path)
    except FormatError:
        return
    assert net.n_inputs == 2 and all(np.isfinite(p).all() for p in net.parameters)


# --- writers ----------------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", io.SAVE_SUFFIXES)
@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch, suffix, failing):
    _needs(suffix)
    path = _saved(_net(seed=1), suffix, tmp_path)
    before = path.read_bytes()

    def fail(*args):
        raise OSError("disk full")

    monkeypatch.setattr(io.os, failing, fail)
    with pytest.raises(OSError, match="disk full"):
        io.save(_net(seed=2), path)
    assert path.read_bytes() == before
    assert list(tmp_path.iterdir()) == [path]


def test_non_finite_weights_are_not_saved(tmp_path):
    net = _net()
    net.layers[0].bias[0] = np.nan
    with pytest.raises(ValueError, match="bias_0 has NaN"):
        io.save(net, tmp_path / "model.npz")
    assert list(tmp_path.iterdir()) == []


def test_core_io_needs_only_numpy_and_names_the_missing_package(tmp_path):
    body = ("from core import Network, io\n"
            "net = Network(2, [(1, 'sigmoid')], seed=0)\n"
            "io.save(net, 'model.npz'); io.save(net, 'model.json')\n"
            "for name in ('model.safetensors', 'model.onnx'):\n"
            "    try:\n"
            "        io.save(net, name)\n"
            "    except ImportError as error:\n"
            "        print(error)\n")
    result = run_without(("safetensors", "onnx", "onnxruntime", "torch", "tqdm"), body, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines == [f"this file format needs the {name!r} package, which Backprop Playground installs with it "
                     f"(pip install -e .); install it with: pip install {name}" for name in ("safetensors", "onnx")]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.json", "model.npz"]


def test_written_files_get_ordinary_permissions(tmp_path):
    net = Network(2, [(1, "sigmoid")], seed=0)
    io.save(net, tmp_path / "new.npz")
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "new.npz").stat().st_mode & 0o777 == 0o666 & ~umask
    existing = tmp_path / "shared.json"
    existing.write_text("{}")
    existing.chmod(0o644)
    io.save(net, existing)
    assert existing.stat().st_mode & 0o777 == 0o644


def test_writing_through_a_link_replaces_its_target_and_keeps_the_link(tmp_path):
    (tmp_path / "models").mkdir()
    target = tmp_path / "models" / "model.npz"
    io.save(_net(seed=1), target)
    link = tmp_path / "latest.npz"
    link.symlink_to(target)
    io.save(_net(seed=2), link)
    assert link.is_symlink() and link.resolve() == target
    assert io.load(target).layers[0].kernel.tolist() == _net(seed=2).layers[0].kernel.tolist()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest.npz", "models"]
    assert [p.name for p in (tmp_path / "models").iterdir()] == ["model.npz"]


def test_a_file_that_loading_would_refuse_is_not_written(tmp_path, monkeypatch):
    monkeypatch.setitem(limits.MAX_FILE_BYTES, ".json", 1000)
    with pytest.raises(ValueError, match=r"the .json file of this network would take 1,\d{3} bytes, more than the "
                                         r"1,000 bytes a .json file may hold: use .npz or .safetensors"):
        io.save(_net(), tmp_path / "model.json")
    assert list(tmp_path.iterdir()) == []


def test_a_path_is_checked_for_saving_before_any_work(tmp_path):
    net = _net()
    io.check_savable(tmp_path / "model.onnx", net)
    with pytest.raises(ValueError, match="cannot write model.npz: the folder .*missing does not exist"):
        io.check_savable(tmp_path / "missing" / "model.npz", net)
    with pytest.raises(ValueError, match="cannot write folder.npz: it is a folder"):
        (tmp_path / "folder.npz").mkdir()
        io.check_savable(tmp_path / "folder.npz", net)
    with pytest.raises(FormatError, match="unknown suffix '.h5'"):
        io.check_savable(tmp_path / "model.h5", net)
    big = Network(2400, [(4096, "tanh"), (1, "linear")], seed=0)  # 9.8 M parameters: up to 256 MB of text
    io.check_savable(tmp_path / "big.npz", big)
    with pytest.raises(ValueError, match="a .json file of 9,838,593 parameters could be too large to load again"):
        io.check_savable(tmp_path / "big.json", big)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_a_read_only_folder_is_refused_for_saving(tmp_path):
    (tmp_path / "locked").mkdir(mode=0o555)
    with pytest.raises(ValueError, match="the folder .*locked is not writable"):
        io.check_savable(tmp_path / "locked" / "model.npz", _net())


def test_a_large_json_writes_and_reads_within_its_limits(tmp_path):
    net = Network(500, [(1000, "tanh"), (1, "linear")], seed=0)  # 500 k parameters, about 11 MB as text
    io.save(net, tmp_path / "model.json")
    assert io.json_memory((tmp_path / "model.json").read_bytes()) < limits.MAX_JSON_MEMORY / 20
    np.testing.assert_array_equal(io.load(tmp_path / "model.json").layers[0].kernel, net.layers[0].kernel)
