"""A corpus of hostile files, made here: weights, projects, CSVs, devices, FIFOs, and JSON and zip
structures that expand many times in memory. Each is refused with its documented error and a short
one-line message, within bounds of time and memory measured outside the test process.

Every file is opened in a forked child of one helper process (tests/measured_calls.py), which reports
the exception, the seconds and the child's peak resident memory. The bounds are generous (20 s, and
per case a memory bound well above what the loaders need): they catch a loader that blocks on a FIFO,
reads a device without end or lets a small file swell into gigabytes, never a slow machine.
"""
import json
import os
import shutil
import struct
import subprocess
import sys
import zipfile
from io import BytesIO
from pathlib import Path

import numpy as np
import pytest

from core import io, limits
from core.network import Network
from core.spec import DataSpec, NetworkSpec, TrainingConfig, to_dict

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="measured with fork and /proc")

ROOT = Path(__file__).resolve().parents[2]
MiB = 2**20
SECONDS = 20  # the budget to accept or refuse any file
NOT_READ = 60  # MiB: a file refused before it is read costs next to nothing


# --- makers: each writes one file into ``folder`` and returns its path ---------------------------
def _write(folder: Path, name: str, data: bytes) -> str:
    (folder / name).write_bytes(data)
    return str(folder / name)


def _sparse(folder: Path, name: str, size: int) -> str:
    with open(folder / name, "wb") as f:  # a hole: as large as wanted, nothing written to disk
        f.truncate(size)
    return str(folder / name)


def _fifo(folder: Path, name: str) -> str:
    os.mkfifo(folder / name)
    return str(folder / name)


def _link(folder: Path, name: str, target: str) -> str:
    os.symlink(target, folder / name)
    return str(folder / name)


def _repeated(unit: bytes, size: int) -> bytes:
    """A JSON list of ``unit`` repeated to about ``size`` bytes."""
    return b"[" + unit * ((size - 3) // len(unit)) + b"1]"


def _weights(**layer_0) -> dict:
    doc = io.network_to_dict(Network(2, [(3, "tanh"), (1, "sigmoid")], seed=0))
    doc["layers"][0].update(layer_0)
    return doc


def _with_raw(doc: dict, raw: bytes) -> bytes:
    """``doc`` as JSON with its ``"RAW"`` string replaced by ``raw`` (text json.dumps would not write)."""
    return json.dumps(doc).encode().replace(b'"RAW"', raw, 1)


def _config(n_inputs=2, layers=((3, "tanh"), (1, "sigmoid"))) -> str:
    return json.dumps({"format": io.FORMAT, "version": io.VERSION, "n_inputs": n_inputs, "dtype": "float64",
                       "layers": [{"units": u, "activation": a} for u, a in layers]})


def _npy(array) -> bytes:
    buffer = BytesIO()
    np.save(buffer, array, allow_pickle=True)
    return buffer.getvalue()


def _npy_header(shape) -> bytes:
    """A .npy header declaring a float64 array of ``shape``, and no data."""
    buffer = BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": "<f8", "fortran_order": False, "shape": shape})
    return buffer.getvalue()


def _zip(members: dict, compression=zipfile.ZIP_STORED) -> bytes:
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _npz(config: str, **arrays) -> bytes:
    members = {"config.npy": _npy(np.array(config))}
    members.update({f"{name}.npy": data if isinstance(data, bytes) else _npy(data) for name, data in arrays.items()})
    return _zip(members)


def _directory_flood(n: int) -> bytes:
    """A zip whose central directory lists ``n`` records, all of one empty member."""
    name = b"a.npy"
    local = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 0, 0, 0, 0, 0, 0, len(name), 0) + name
    record = struct.pack("<4s4B4HL2L5H2L", b"PK\x01\x02", 20, 3, 20, 0, 0, 0, 0, 0, 0, 0, 0,
                         len(name), 0, 0, 0, 0, 0, 0) + name
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, len(record) * n, len(local), 0)
    return local + record * n + end


def _zip_bomb(size: int) -> bytes:
    """An .npz whose kernel_0 member unpacks to ``size`` zero bytes (a thousandth of that packed)."""
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("config.npy", _npy(np.array(_config())))
        with archive.open("kernel_0.npy", "w", force_zip64=True) as member:
            for _ in range(size // MiB):
                member.write(bytes(MiB))
        for name, array in (("bias_0", np.ones(3)), ("kernel_1", np.ones((3, 1))), ("bias_1", np.ones(1))):
            archive.writestr(f"{name}.npy", _npy(array))
    return buffer.getvalue()


def _project(**sections) -> dict:
    doc = {"format": "backprop-playground-project", "version": 1, "data": to_dict(DataSpec(n_samples=60)),
           "network": to_dict(NetworkSpec()), "training": to_dict(TrainingConfig())}
    for section, values in sections.items():
        doc[section].update(values)
    return doc


def _json(doc) -> bytes:
    return json.dumps(doc).encode()


def _csv_project(folder: Path, name: str, csv_path: str) -> str:
    return _write(folder, name, _json(_project(data={"source": "csv", "csv_path": csv_path})))


def _big_project(folder: Path, name: str) -> str:
    """A valid project whose weights (1 M parameters) make a JSON file of about 20 MiB."""
    doc = _project(data={"source": "house_prices"}, network={"hidden": [[1000, "relu"], [1000, "relu"]]})
    doc["weights"] = io.network_to_dict(Network(12, [(1000, "relu"), (1000, "relu"), (1, "linear")], seed=0))
    return _write(folder, name, _json(doc))


def _big_npz(folder: Path, name: str) -> str:
    """A valid .npz of 4 M parameters (32 MiB)."""
    io.save(Network(2000, [(2000, "tanh"), (1, "linear")], seed=0), folder / name)
    return str(folder / name)


PARSER_LIMIT = int(limits.MAX_JSON_MEMORY * 0.99 / io.json_memory(b"1e1,"))  # floats that just pass the estimate

# name: (maker(folder) → path, call, error, what the message says, memory bound in MiB, memory limit in MiB)
CASES = {
    # weights files
    "weights: 64 MiB of empty lists": (
        lambda d: _write(d, "lists.json", _repeated(b"[],", 64 * MiB)), "load", "FormatError", "too many values",
        300, None),
    "weights: 32 MiB of empty objects": (
        lambda d: _write(d, "objects.json", _repeated(b"{},", 32 * MiB)), "load", "FormatError", "too many values",
        200, None),
    "weights: nested ten million deep": (
        lambda d: _write(d, "deep.json", b"[" * 10_000_000), "load", "FormatError", "nested too deeply", 100, None),
    "weights: an integer of a million digits": (
        lambda d: _write(d, "integer.json", _with_raw(_weights(bias="RAW"), b"[" + b"7" * 10**6 + b"]")),
        "load", "FormatError", "not valid JSON", 100, None),
    "weights: a float of twenty million digits is just a float": (
        lambda d: _write(d, "float.json", _with_raw(_weights(bias="RAW"), b"[0." + b"1" * 20_000_000 + b", 0, 0]")),
        "load", None, "", 150, None),
    "weights: as many floats as the parser allows": (
        lambda d: _write(d, "floats.json", _with_raw(_weights(kernel="RAW"), b"[" + b"1e1," * PARSER_LIMIT + b"1]")),
        "load", "FormatError", f"kernel_0 has length {PARSER_LIMIT + 1:,}", 1400, None),
    "weights: over the size limit": (
        lambda d: _sparse(d, "large.json", limits.MAX_FILE_BYTES[".json"] + 1), "load", "FormatError",
        f"has {limits.MAX_FILE_BYTES['.json'] + 1:,} bytes; the limit for this file is 256 MiB", NOT_READ, None),
    "weights: a 32 MiB activation name": (
        lambda d: _write(d, "name.json", _json(_weights(activation="x" * 32 * MiB))), "load", "FormatError",
        "unknown activation", 200, None),
    "weights: 1,000 layers": (
        lambda d: _write(d, "layers.json", _config(layers=[(1, "tanh")] * 1000).encode()), "load", "FormatError",
        "layers must be a list of 1 to 101", NOT_READ, None),
    "weights: two layers of 4096 units": (
        lambda d: _write(d, "wide.json", _config(layers=[(4096, "tanh"), (4096, "tanh")]).encode()), "load",
        "FormatError", "parameters; the limit", NOT_READ, None),
    "weights: a FIFO": (lambda d: _fifo(d, "fifo.npz"), "load", "FormatError", "FIFO", NOT_READ, None),
    "weights: /dev/zero": (lambda d: _link(d, "zero.safetensors", "/dev/zero"), "load", "FormatError", "device",
                           NOT_READ, None),
    "weights: a folder": (lambda d: (d / "folder.json").mkdir() or str(d / "folder.json"), "load", "FormatError",
                          "folder", NOT_READ, None),
    "weights: valid, but more than the memory allowed": (
        lambda d: _big_npz(d, "big.npz"), "load", "FormatError", "too large for the memory available", NOT_READ, 16),
    "safetensors: a 16 MiB header": (
        lambda d: _write(d, "header.safetensors", (16 * MiB).to_bytes(8, "little") + b" " * 16 * MiB), "load",
        "FormatError", "header length", 100, None),
    "safetensors: a header of empty lists": (
        lambda d: _write(d, "lists.safetensors", _safetensors_raw(_repeated(b"[],", MiB))), "load",
        "FormatError", "the header must be a JSON object, got list", 150, None),
    "safetensors: a tensor of 149 GiB": (
        lambda d: _write(d, "huge.safetensors", _safetensors_header({"__metadata__": {"config": _config()},
            "0.weight": {"dtype": "F64", "shape": [200_000, 100_000], "data_offsets": [0, 160_000_000_000]},
            "0.bias": {"dtype": "F64", "shape": [3], "data_offsets": [160_000_000_000, 160_000_000_024]},
            "2.weight": {"dtype": "F64", "shape": [1, 3], "data_offsets": [160_000_000_024, 160_000_000_048]},
            "2.bias": {"dtype": "F64", "shape": [1], "data_offsets": [160_000_000_048, 160_000_000_056]}})),
        "load", "FormatError", "the tensors' data offsets do not tile the data section", NOT_READ, None),
    "safetensors: written by PyTorch, a FIFO beside it for its activations": (
        lambda d: _fifo(d, "torch.safetensors.json") and _write(d, "torch.safetensors", _torch_safetensors()), "load",
        "ActivationsNeeded", "written by PyTorch without the network's activations", NOT_READ, None),
    "npz: a million directory records": (
        lambda d: _write(d, "records.npz", _directory_flood(1_000_000)), "load", "FormatError", "zip entries", 200, None),
    "npz: a header declaring a 149 GiB array": (
        lambda d: _write(d, "huge.npz", _npz(_config(), kernel_0=_npy_header((200_000, 100_000)),
                                               bias_0=np.ones(3), kernel_1=np.ones((3, 1)), bias_1=np.ones(1))),
        "load", "FormatError", r"kernel_0 has shape (200000, 100000); the config says (2, 3)", NOT_READ, None),
    "npz: the largest network's header without its data": (
        lambda d: _write(d, "empty.npz", _npz(_config(3000, [(3000, "tanh"), (1, "linear")]),
                                                kernel_0=_npy_header((3000, 3000)), bias_0=np.ones(3000),
                                                kernel_1=np.ones((3000, 1)), bias_1=np.ones(1))),
        "load", "FormatError", "declares 72,000,000 bytes of data", NOT_READ, None),
    "npz: a 256 MiB zip bomb": (
        lambda d: _write(d, "bomb.npz", _zip_bomb(256 * MiB)), "load", "FormatError", "kernel_0 unpacks to 268,435,456",
        NOT_READ, None),
    "npz: a pickled object array": (
        lambda d: _write(d, "pickle.npz", _npz(_config(), kernel_0=np.array([[{}, {}, {}]] * 2, dtype=object),
                                                 bias_0=np.ones(3), kernel_1=np.ones((3, 1)), bias_1=np.ones(1))),
        "load", "FormatError", "kernel_0 must be a float32 or float64 array, got object", NOT_READ, None),
    # projects
    "project: 64 MiB of empty lists": (
        lambda d: _write(d, "lists-project.json", _repeated(b"[],", 64 * MiB)), "load_project", "FormatError",
        "too many values", 300, None),
    "project: nested a hundred thousand deep": (
        lambda d: _write(d, "deep-project.json", b'{"a":' * 100_000), "load_project", "FormatError", "nested too deeply",
        NOT_READ, None),
    "project: a data seed of 2**31": (
        lambda d: _write(d, "seed.json", _json(_project(data={"seed": 2**31}))), "load_project", "FormatError",
        "the data seed must be from 0 to 2,147,483,647, got 2147483648", NOT_READ, None),
    "project: a batch of 2**31": (
        lambda d: _write(d, "batch.json", _json(_project(training={"batch_size": 2**31}))), "load_project",
        "FormatError", "batch_size must be a positive integer or 'all' (at most 1,000,000)", NOT_READ, None),
    "project: 2**31 samples": (
        lambda d: _write(d, "samples.json", _json(_project(data={"n_samples": 2**31}))), "load_project",
        "FormatError", "n_samples must be from 2 to 1,000,000", NOT_READ, None),
    "project: noise of 1e300": (
        lambda d: _write(d, "noise.json", _json(_project(data={"noise": 1e300}))), "load_project", "FormatError",
        "noise must be from 0 to 0.5", NOT_READ, None),
    "project: a learning rate of 1e300": (
        lambda d: _write(d, "rate.json", _json(_project(training={"learning_rate": 1e300}))), "load_project",
        "FormatError", "learning_rate must be above 0 and at most 1000", NOT_READ, None),
    "project: a feature repeated 100,000 times": (
        lambda d: _write(d, "features.json", _json(_project(data={"features": ["x1"] * 100_000}))), "load_project",
        "FormatError", "input features must be a list of 1 to 7", NOT_READ, None),
    "project: a million unknown keys": (
        lambda d: _write(d, "keys.json", _json({**_project(), **{f"k{i}": 0 for i in range(10**6)}})),
        "load_project", "FormatError", "unknown keys ['k0', 'k1'", 300, None),
    "project: a 32 MiB dataset name": (
        lambda d: _write(d, "source.json", _json(_project(data={"source": "x" * 32 * MiB}))), "load_project",
        "FormatError", "unknown dataset 'xxx", 200, None),
    "project: two million epochs of history": (
        lambda d: _write(d, "history.json", _json({**_project(), "history": {"train_loss": [0.5] * 2_000_000}})),
        "load_project", "FormatError", "history.train_loss has 2,000,000 epochs", 150, None),
    "project: weights that do not fit its data": (
        lambda d: _write(d, "misfit.json", _json({**_project(), "weights": io.network_to_dict(
            Network(3, [(4, "tanh"), (2, "tanh"), (1, "sigmoid")], seed=0))})),
        "open_project", "FormatError", "the saved weights (3 inputs", NOT_READ, None),
    "project: two hidden layers of 4096 units": (
        lambda d: _write(d, "wide-project.json", _json(_project(network={"hidden": [[4096, "tanh"]] * 2}))),
        "open_project", "FormatError", "parameters; the limit is 10,000,000", NOT_READ, None),
    "project: a million samples through 4096 units": (
        lambda d: _write(d, "work.json", _json(_project(data={"n_samples": 10**6}, network={"hidden": [[4096, "tanh"]]}))),
        "open_project", "FormatError", "too much work", 250, None),
    "project: valid, but more than the memory allowed": (
        lambda d: _big_project(d, "big-project.json"), "load_project", "FormatError", "too large to load into memory",
        100, 64),
    "project: a FIFO": (lambda d: _fifo(d, "fifo.json"), "load_project", "FormatError", "FIFO", NOT_READ, None),
    # CSV files, through a project and directly
    "project: its CSV is a FIFO": (
        lambda d: _csv_project(d, "csv-fifo.json", _fifo(d, "fifo.csv")), "open_project", "DatasetError", "FIFO",
        NOT_READ, None),
    "project: its CSV is /dev/zero": (
        lambda d: _csv_project(d, "csv-zero.json", _link(d, "zero.csv", "/dev/zero")), "open_project",
        "DatasetError", "device", NOT_READ, None),
    "project: its CSV is /dev/urandom": (
        lambda d: _csv_project(d, "csv-random.json", "/dev/urandom"), "open_project", "DatasetError", "device",
        NOT_READ, None),
    "project: its CSV is over the size limit": (
        lambda d: _csv_project(d, "csv-large.json", _sparse(d, "large.csv", limits.MAX_FILE_BYTES[".csv"] + 1)),
        "open_project", "DatasetError",
        f"has {limits.MAX_FILE_BYTES['.csv'] + 1:,} bytes; the limit for this file is 512 MiB", NOT_READ, None),
    "csv: a FIFO": (lambda d: _fifo(d, "data-fifo.csv"), "prepare_csv", "DatasetError", "FIFO", NOT_READ, None),
    "csv: a folder": (lambda d: (d / "folder.csv").mkdir() or str(d / "folder.csv"), "prepare_csv", "DatasetError",
                      "folder", NOT_READ, None),
}


def _torch_safetensors() -> bytes:
    """The state_dict of ``torch.nn.Sequential(torch.nn.Linear(2, 3))``, as PyTorch writes it: no metadata."""
    from safetensors.numpy import save
    return save({"0.weight": np.ones((3, 2)), "0.bias": np.ones(3)})


def _safetensors_header(header: dict) -> bytes:
    return _safetensors_raw(json.dumps(header).encode())


def _safetensors_raw(header: bytes) -> bytes:
    return len(header).to_bytes(8, "little") + header


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    """{case name: (result, baseline bytes)} for every case, measured in one helper process."""
    folder = tmp_path_factory.mktemp("hostile")
    cases = [{"call": call, "path": make(folder), "memory_limit": memory_limit}
             for make, call, _, _, _, memory_limit in CASES.values()]
    (folder / "cases.json").write_text(json.dumps(cases))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1"}
    subprocess.run([sys.executable, str(ROOT / "tests" / "measured_calls.py"), str(folder / "cases.json"),
                    str(folder / "out.json")], env=env, check=True, timeout=20 * 60)
    out = json.loads((folder / "out.json").read_text())
    shutil.rmtree(folder)  # hundreds of MiB; pytest would keep them
    yield {name: (result, out["baseline"]) for name, result in zip(CASES, out["results"])}


@pytest.mark.parametrize("name", CASES)
def test_hostile_file_is_refused_briefly_in_bounded_time_and_memory(measured, name):
    _, _, error, message, memory_mib, _ = CASES[name]
    result, baseline = measured[name]
    assert result["error"] == error, result["message"][:1000]
    assert message in result["message"]
    assert len(result["message"]) < 300 and "\n" not in result["message"]
    assert result["seconds"] < SECONDS
    assert result["max_rss"] - baseline < memory_mib * MiB, f"{(result['max_rss'] - baseline) / MiB:.0f} MiB"
