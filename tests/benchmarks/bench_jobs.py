#!/usr/bin/env python
"""Background jobs beside training: what a loss landscape computed off the UI thread costs the window.

    python tests/benchmarks/bench_jobs.py [--quick] [--json out.json]

The real window (offscreen) trains the app's default network while a ``JobRunner`` computes 41 × 41
landscapes of a 2-64-64-64-1 network (or ``--job-network 2-4-2-1``) back to back. As in
bench_training.py, variants run in rotating rounds side by side, medians are reported, and a section
during which other processes used more than 0.2 CPU cores is flagged as noisy. Nothing here is a test.

  - training speed of the window with the job running, against the window training alone;
  - the landscape's speed (grid rows a second) while the window trains, against the job alone;
  - the longest lateness of a 5 ms timer on the UI thread (its stall), in separate rounds, with the
    job running and without.
"""
from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]

from bench_training import (LatenessProbe, OtherLoad, machine_info, note_load, open_window, percentile, rotate,  # noqa: E402
                            spin, spin_until, table)
from core.spec import DataSpec, NetworkSpec, TrainingConfig, prepare  # noqa: E402

DEFAULT_JSON = "bench-jobs.json"
JOB_NETWORKS = {"2-64-64-64-1": ((64, "tanh"),) * 3, "2-4-2-1": ((4, "tanh"), (2, "tanh"))}


class Landscapes:
    """Landscapes of a network computed back to back on a JobRunner; counts grid rows."""

    def __init__(self, hidden):
        from playground.training.jobs import JobRunner

        problem = prepare(DataSpec())
        self.net = NetworkSpec(hidden=hidden).build(problem)
        TrainingConfig(optimizer="adam", learning_rate=0.01).build(self.net, problem).fit(
            problem.X_train, problem.Y_train, 5)
        self.problem = problem
        self.rows = 0
        self.running = False
        self.runner = JobRunner("landscape bench", min_interval=0.05)
        self.runner.finished.connect(lambda _: self._next())

    def _job(self):
        from playground.widgets.landscape_view import LandscapeOptions, landscape_job

        job = landscape_job(self.net.copy(), [], self.problem.X_train, self.problem.Y_train, "bce",
                            LandscapeOptions(plane="random", resolution=41))
        for step in job:
            if step[1] is not None:
                self.rows += 1  # on the job's thread; an int read from the UI thread is safe
            yield step

    def _next(self):
        if self.running:
            self.runner.start(self._job())

    def start(self):
        self.running = True
        self._next()

    def stop(self):
        self.running = False
        self.runner.cancel()
        spin_until(lambda: not self.runner.running, 10)
        spin(0.05)


def bench(hidden, rounds: int, round_seconds: float) -> dict:
    window = open_window()
    session = window.session
    landscapes = Landscapes(hidden)
    probe = LatenessProbe()
    training, rows = {}, {}
    late = {"training alone": [], "training + landscape": []}

    def round_(train: bool, job: bool, probe_round: bool = False):
        if train:
            session.play()
            spin_until(lambda: session.running, 5)
        if job:
            landscapes.start()
        spin(0.2)  # let both settle
        steps0, rows0, t0 = session.steps, landscapes.rows, time.perf_counter()
        if probe_round:
            probe.late = []
            probe.start()
        spin(round_seconds)
        if probe_round:
            probe.stop()
            late["training + landscape" if job else "training alone"].extend(probe.late)
        elapsed = time.perf_counter() - t0
        result = ((session.steps - steps0) / elapsed, (landscapes.rows - rows0) / elapsed)
        if job:
            landscapes.stop()
        if train:
            session.pause()
            spin_until(lambda: not session.running, 5)
        spin(0.1)
        return result

    variants = {
        "training alone": lambda: round_(True, False),
        "training + landscape": lambda: round_(True, True),
        "landscape alone": lambda: round_(False, True),
    }
    measured = rotate({name: (lambda f=f: f()) for name, f in variants.items()}, rounds)
    for name, results in measured.items():
        training[name] = [steps for steps, _ in results]
        rows[name] = [r for _, r in results]
    for _ in range(max(2, rounds // 2)):
        round_(True, False, probe_round=True)
        round_(True, True, probe_round=True)
    train_ratio = [a / b for a, b in zip(training["training + landscape"], training["training alone"])]
    rows_ratio = [a / b for a, b in zip(rows["training + landscape"], rows["landscape alone"])]
    result = {
        "rounds": rounds, "round_seconds": round_seconds,
        "steps_per_s": {name: statistics.median(v) for name, v in training.items() if name != "landscape alone"},
        "rows_per_s": {name: statistics.median(v) for name, v in rows.items() if name != "training alone"},
        "training_ratio": statistics.median(train_ratio), "training_ratios": train_ratio,
        "landscape_ratio": statistics.median(rows_ratio), "landscape_ratios": rows_ratio,
        "ui_stall_max_ms": {name: float(np.max(v) * 1000) if v else None for name, v in late.items()},
        "ui_stall_p99_ms": {name: percentile(np.array(v) * 1000, 99) for name, v in late.items()},
    }
    landscapes.runner.close()
    session.mark_saved()
    window.close()
    spin(0.1)
    gc.unfreeze()
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run of under a minute")
    parser.add_argument("--json", default=DEFAULT_JSON, metavar="FILE", help=f"results file (default {DEFAULT_JSON})")
    parser.add_argument("--job-network", choices=list(JOB_NETWORKS), default="2-64-64-64-1",
                        help="the network whose landscapes the job computes")
    parser.add_argument("--switch-interval", type=float, default=None, metavar="SECONDS",
                        help="Python's thread switch interval (sys.setswitchinterval; 0.005 by default)")
    args = parser.parse_args(argv)
    if args.switch_interval is not None:
        sys.setswitchinterval(args.switch_interval)
    info = machine_info()
    print(f"Backprop Playground: a background job beside training{' (quick)' if args.quick else ''}")
    print(f"  {info['cpus']} CPUs, {info['cpu_model']}; Python {info['python']}, NumPy {info['numpy']}, "
          f"BLAS {info['blas']['name']} ({info['blas']['threads'] or '?'} threads)\n")
    load = OtherLoad()
    r = bench(JOB_NETWORKS[args.job_network], 2 if args.quick else 5, 0.8 if args.quick else 2.5)
    results = {"machine": info, "quick": args.quick, "job_network": args.job_network,
               "switch_interval": sys.getswitchinterval(), "sections": {"jobs": r}}
    steps, rows = r["steps_per_s"], r["rows_per_s"]
    print(f"The window training 2-4-2-1 while a JobRunner computes 41 x 41 landscapes of {args.job_network} "
          f"(switch interval {sys.getswitchinterval() * 1000:g} ms)")
    print(table([
        ["window training, steps/s", f"{steps['training alone']:,.0f}", f"{steps['training + landscape']:,.0f}",
         f"{r['training_ratio']:.2f}x"],
        ["landscape, grid rows/s", f"{rows['landscape alone']:,.1f}", f"{rows['training + landscape']:,.1f}",
         f"{r['landscape_ratio']:.2f}x"],
        ["UI stall, longest (p99) ms",
         f"{r['ui_stall_max_ms']['training alone']:.0f} ({r['ui_stall_p99_ms']['training alone']:.0f})", 
         f"{r['ui_stall_max_ms']['training + landscape']:.0f} ({r['ui_stall_p99_ms']['training + landscape']:.0f})",
         ""],
    ], ["", "alone", "both at once", "ratio"]) + "\n")
    note_load(results, "jobs", load)
    Path(args.json).write_text(json.dumps(results, indent=1))
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
