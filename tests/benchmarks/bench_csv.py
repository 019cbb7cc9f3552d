#!/usr/bin/env python
"""CSV reading benchmark: core.tables against pandas.read_csv on the same generated file.

    python tests/benchmarks/bench_csv.py [--quick] [--rounds N] [--files numbers,mixed] [--json out.json]

It writes each file into a temporary folder (about 200 MB; 50 MB with --quick) and reads it with
each reader in a fresh Python process, so that every reader's peak memory (ru_maxrss of its process,
interpreter and libraries included) is its own. This process stays small (it neither writes the files
nor imports pandas or pyarrow): Linux carries a parent's peak RSS into the ru_maxrss of the children
it forks. The readers run in alternating rounds (pandas,
tables, tables+dataset, then the next round), and the ratios of time are taken per round; the
medians are reported. Each process imports its libraries before the clock starts.

Files (1,000,000 rows: the most a table may have, core.limits.SAMPLES)
  numbers  1,000,000 rows × 20 columns: nineteen numbers written with six decimals, and an integer
           class (about 200 MB).
  mixed    a file as exported from R or a spreadsheet: a quoted row index, quoted text columns, missing
           cells (NA and empty), twenty numbers, a 1–5 grade and a text class (about 200 MB).

Readers
  pandas           pandas.read_csv(path), default options
  tables           core.tables.read_table(path): every column, with what the import dialog shows
  tables+dataset   read_table(path).dataset(missing="mean"): the arrays training starts from

Targets (DESIGN.md): time at most 1.5× pandas.read_csv, peak memory at most 3× the file's size.
Nothing here is a test: pytest never collects this file. It prints a table and writes JSON.
"""
from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_training import OtherLoad, machine_info  # noqa: E402

READERS = ("pandas", "tables", "tables+dataset")
TIME_TARGET, MEMORY_TARGET = 1.5, 3.0
DEFAULT_JSON = "bench-csv-results.json"


# --- the files ---------------------------------------------------------------------------------------
def write_numbers(path: Path, rows: int) -> None:
    rng = np.random.default_rng(0)
    with open(path, "w") as f:
        f.write(",".join(f"x{i}" for i in range(19)) + ",y\n")
        for start in range(0, rows, 100_000):
            n = min(100_000, rows - start)
            block, labels = rng.normal(size=(n, 19)) * 100, rng.integers(0, 5, n)
            f.write("".join(",".join(f"{v:.6f}" for v in row) + f",{c}\n" for row, c in zip(block, labels)))


def write_mixed(path: Path, rows: int) -> None:
    rng = np.random.default_rng(1)
    regions = np.array(['"north"', '"south"', '"east"', '"west"', '"centre"'])
    kinds = np.array(['"setosa"', '"versicolor"', '"virginica"'])
    numbers = 20
    with open(path, "w") as f:
        f.write('"","region",' + ",".join(f'"x{i}"' for i in range(numbers)) + ',"grade","kind"\n')
        for start in range(0, rows, 100_000):
            n = min(100_000, rows - start)
            block = rng.normal(size=(n, numbers)) * 10
            missing = rng.random((n, numbers)) < 0.02
            region, kind = regions[rng.integers(0, 5, n)], kinds[rng.integers(0, 3, n)]
            grade = rng.integers(1, 6, n)
            lines = []
            for k in range(n):
                cells = ["NA" if missing[k, j] else f"{block[k, j]:.5f}" for j in range(numbers)]
                if k % 97 == 0:
                    cells[2] = ""
                lines.append(f'"{start + k + 1}",{region[k]},{",".join(cells)},{grade[k]},{kind[k]}\n')
            f.write("".join(lines))


FILES = {"numbers": (write_numbers, 1_000_000), "mixed": (write_mixed, 1_000_000)}


# --- one reader in its own process --------------------------------------------------------------------------
def child(reader: str, path: str) -> None:
    """Read ``path`` once and print {seconds, cpu_seconds, peak_mb, base_mb, rows} as JSON (in a fresh process)."""
    import resource

    if reader == "pandas":
        import pandas

        read = lambda: len(pandas.read_csv(path))  # noqa: E731
    else:
        import pyarrow.csv  # noqa: F401  (imported before the clock, as pandas is)

        from core.tables import read_table

        if reader == "tables":
            read = lambda: read_table(path).n_rows  # noqa: E731
        else:
            read = lambda: len(read_table(path).dataset(missing="mean").y)  # noqa: E731
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    cpu = os.times()
    start = time.perf_counter()
    rows = read()
    seconds = time.perf_counter() - start
    cpu = sum(os.times()[:2]) - sum(cpu[:2])
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "peak_mb": peak, "base_mb": base, "rows": rows}))


def run_child(reader: str, path: Path) -> dict:
    result = subprocess.run([sys.executable, __file__, "--child", reader, str(path)], capture_output=True, text=True,
                            cwd=ROOT)
    if result.returncode:
        raise RuntimeError(f"{reader} failed on {path.name}: {result.stderr.strip()[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


# --- the benchmark ------------------------------------------------------------------------------------------
def bench_file(name: str, path: Path, rounds: int) -> dict:
    size_mb = path.stat().st_size / 2**20
    runs = {reader: [] for reader in READERS}
    load = OtherLoad()
    for r in range(rounds):
        order = READERS if r % 2 == 0 else READERS[::-1]  # so a slow spell hits every reader alike
        for reader in order:
            runs[reader].append(run_child(reader, path))
    other = load.cores()
    rows = {reader: runs[reader][0]["rows"] for reader in READERS}
    result = {"file": name, "size_mb": size_mb, "rounds": rounds, "other_cores": other, "rows": rows, "readers": {}}
    for reader in READERS:
        seconds = [run["seconds"] for run in runs[reader]]
        peaks = [run["peak_mb"] for run in runs[reader]]
        ratios = [run["seconds"] / base["seconds"] for run, base in zip(runs[reader], runs["pandas"])]
        result["readers"][reader] = {
            "seconds_median": statistics.median(seconds), "seconds_min": min(seconds),
            "cpu_seconds_median": statistics.median(run["cpu_seconds"] for run in runs[reader]),
            "time_ratio_median": statistics.median(ratios), "time_ratios": ratios,
            "peak_mb": max(peaks), "base_mb": statistics.median(run["base_mb"] for run in runs[reader]),
            "memory_ratio": max(peaks) / size_mb}
    return result


def report(result: dict) -> str:
    lines = [f"{result['file']}: {result['size_mb']:.0f} MB, {result['rows']['pandas']:,} rows, "
             f"{result['rounds']} rounds" + (f", other processes used {result['other_cores']:.2f} cores"
                                              if result['other_cores'] is not None else "")]
    if (result["other_cores"] or 0) > 0.2:
        lines[0] += "  (NOISY)"
    lines.append(f"  {'reader':16} {'median s':>9} {'min s':>7} {'CPU s':>6} {'÷ pandas':>9} {'peak MB':>8} "
                 f"{'after imports':>14} {'÷ file size':>12}")
    for reader, r in result["readers"].items():
        lines.append(f"  {reader:16} {r['seconds_median']:9.2f} {r['seconds_min']:7.2f} "
                     f"{r['cpu_seconds_median']:6.2f} {r['time_ratio_median']:8.2f}× {r['peak_mb']:8.0f} "
                     f"{r['base_mb']:13.0f}  {r['memory_ratio']:11.2f}×")
    for reader in ("tables", "tables+dataset"):
        r = result["readers"][reader]
        time_ok = "✓" if r["time_ratio_median"] <= TIME_TARGET else "✗"
        memory_ok = "✓" if r["memory_ratio"] <= MEMORY_TARGET else "✗"
        lines.append(f"  {reader}: time {r['time_ratio_median']:.2f}× pandas (target ≤ {TIME_TARGET}×) {time_ok}; "
                     f"peak memory {r['memory_ratio']:.2f}× the file (target ≤ {MEMORY_TARGET}×) {memory_ok}")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="files of a quarter the size, 2 rounds")
    parser.add_argument("--rounds", type=int, help="rounds per file (default 5; 2 with --quick)")
    parser.add_argument("--files", default=",".join(FILES), help=f"which files: {', '.join(FILES)}")
    parser.add_argument("--json", default=DEFAULT_JSON, help=f"where to write the results (default {DEFAULT_JSON})")
    parser.add_argument("--child", nargs=2, metavar=("READER", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument("--write", nargs=3, metavar=("NAME", "PATH", "ROWS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(*args.child)
        return 0
    if args.write:
        name, path, rows = args.write
        FILES[name][0](Path(path), int(rows))
        return 0
    rounds = args.rounds or (2 if args.quick else 5)
    results = {"machine": machine_info(), "quick": args.quick, "files": []}
    results["machine"].update({name: importlib.metadata.version(name) for name in ("pandas", "pyarrow")})
    with tempfile.TemporaryDirectory() as folder:
        for name in args.files.split(","):
            rows = FILES[name][1] // 4 if args.quick else FILES[name][1]
            path = Path(folder) / f"{name}.csv"
            start = time.perf_counter()
            subprocess.run([sys.executable, __file__, "--write", name, str(path), str(rows)], check=True)
            print(f"wrote {path.name} ({path.stat().st_size / 2**20:.0f} MB) in {time.perf_counter() - start:.0f} s",
                  flush=True)
            result = bench_file(name, path, rounds)
            results["files"].append(result)
            print(report(result), flush=True)
            path.unlink()
    Path(args.json).write_text(json.dumps(results, indent=1))
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
