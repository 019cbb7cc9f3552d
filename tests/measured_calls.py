"""Run loaders on files, each call in a forked child, and report what each raised, how long it took
and how much memory it used at most (the child's ``ru_maxrss`` from ``os.wait4``).

    python tests/measured_calls.py CASES.json OUT.json

CASES.json lists ``{"call": NAME, "path": PATH, "memory_limit": MIB or null}``, NAME one of ``CALLS``;
a memory limit caps the child's address space beyond what it has at the fork (so that allocations
fail with MemoryError). OUT.json receives ``{"baseline": bytes, "results": [...]}``, each result
``{"error": exception class name or null, "message", "seconds", "max_rss": bytes}``; ``baseline``
is the resident memory every child starts with. A call still running after ``TIMEOUT`` seconds is
killed and reported as the error "timeout". Linux only (fork, /proc).
"""
import json
import os
import resource
import signal
import sys
import tempfile
import time

from core import io
from core.project import load_project, open_project
from core.spec import DataSpec, prepare

TIMEOUT = 60.0
CALLS = {
    "load": io.load,
    "load_project": load_project,
    "open_project": open_project,
    "prepare_csv": lambda path: prepare(DataSpec(source="csv", csv_path=path)),
}


def _resident_bytes(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def _child(case: dict, out_path: str) -> None:
    if case.get("memory_limit"):
        room = _resident_bytes("VmSize") + case["memory_limit"] * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (room, room))
    try:
        CALLS[case["call"]](case["path"])
        result = {"error": None, "message": ""}
    except BaseException as error:  # noqa: BLE001 - reporting whatever escaped is the point
        result = {"error": type(error).__name__, "message": str(error)}
    with open(out_path, "w") as f:
        json.dump(result, f)


def measure(case: dict, folder: str) -> dict:
    out_path = os.path.join(folder, "result.json")
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            _child(case, out_path)
        finally:
            os._exit(0)
    while True:
        done, _, usage = os.wait4(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() - start > TIMEOUT:
            os.kill(pid, signal.SIGKILL)
            _, _, usage = os.wait4(pid, 0)
            return {"error": "timeout", "message": "", "seconds": TIMEOUT, "max_rss": usage.ru_maxrss * 1024}
        time.sleep(0.005)
    seconds = time.monotonic() - start
    with open(out_path) as f:
        result = json.load(f)
    os.unlink(out_path)
    return {**result, "seconds": seconds, "max_rss": usage.ru_maxrss * 1024}


def main(cases_path: str, out_path: str) -> None:
    with open(cases_path) as f:
        cases = json.load(f)
    baseline = _resident_bytes("VmRSS")
    with tempfile.TemporaryDirectory() as folder:
        results = [measure(case, folder) for case in cases]
    with open(out_path, "w") as f:
        json.dump({"baseline": baseline, "results": results}, f)


if __name__ == "__main__":
    main(*sys.argv[1:])
