#!/usr/bin/env python
"""Rewinding and comparing runs: what checkpoints cost training, and how long a loss landscape takes.

    python tests/benchmarks/bench_history.py [--quick] [--json out.json]

As in bench_training.py, figures are ratios of two things run side by side in alternating rounds
(A B, B A, ...), the median over rounds reported, and a section during which other processes used
more than 0.2 CPU cores is flagged as noisy. Nothing here is a test.

Sections
  1. Training through ``Trainer.run`` with a checkpoint added at every epoch (weights alone, and
     with the trainer's state), against the same training without: epochs per second.
  2. A 41 × 41 loss landscape of the app's default problem and of larger networks: the time of
     ``core.landscape.landscape`` against the bare arithmetic (the same number of ``forward_loss``
     calls on fixed weights), and the time itself, which decides whether the view feels interactive.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path


ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]

from bench_training import OtherLoad, fmt, interleave, machine_info, note_load, table, timed  # noqa: E402
from core.checkpoints import CheckpointStore  # noqa: E402
from core.landscape import axis, landscape, random_plane  # noqa: E402
from core.spec import DataSpec, NetworkSpec, TrainingConfig, prepare  # noqa: E402

DEFAULT_JSON = "bench-history.json"
NETWORKS = {  # label: hidden layers, on the app's default problem (circle, 250 training points)
    "2-4-2-1 tanh (the app's default)": ((4, "tanh"), (2, "tanh")),
    "2-8-8-1 tanh": ((8, "tanh"), (8, "tanh")),
    "2-(8x6)-1 tanh": ((8, "tanh"),) * 6,
    "2-64-64-64-1 tanh": ((64, "tanh"),) * 3,
}


def _setup(hidden, optimizer="adam"):
    problem = prepare(DataSpec())
    net = NetworkSpec(hidden=hidden).build(problem)
    trainer = TrainingConfig(optimizer=optimizer, learning_rate=0.01).build(net, problem)
    return problem, net, trainer


def bench_checkpoints(hidden, rounds: int, round_seconds: float) -> dict:
    """Epochs/s of Trainer.run with a checkpoint every epoch vs without, in alternating rounds."""
    problem, net, trainer = _setup(hidden)
    runner = trainer.run(problem.X_train, problem.Y_train)
    store = CheckpointStore()

    def epochs(n, keep=None):
        done = 0
        for event in runner:
            if event is not None:
                done += 1
                if keep is not None:
                    keep(event.epoch)
                if done == n:
                    return

    weights_only = lambda epoch: store.add(epoch, net.get_weights())
    with_state = lambda epoch: store.add(epoch, net.get_weights(), trainer.state_dict())
    epochs(200, with_state)  # warm up, and fill the store past its first thinning for small networks
    n = max(1, int(round_seconds / (timed(lambda: epochs(20)) / 20)))
    rate = lambda keep: n / timed(lambda: epochs(n, keep))
    weights_rates, plain_rates, ratios = interleave(lambda: rate(weights_only), lambda: rate(None), rounds)
    state_rates, _, state_ratios = interleave(lambda: rate(with_state), lambda: rate(None), rounds)
    return {"epochs_per_round": n, "plain_epochs_per_s": statistics.median(plain_rates),
            "weights_epochs_per_s": statistics.median(weights_rates), "ratio_weights": statistics.median(ratios),
            "state_epochs_per_s": statistics.median(state_rates), "ratio_state": statistics.median(state_ratios),
            "checkpoints": len(store)}


def bench_landscape(hidden, rounds: int, size: int = 41) -> dict:
    """Seconds for a size × size landscape vs the same number of bare forward_loss calls."""
    problem, net, trainer = _setup(hidden)
    trainer.fit(problem.X_train, problem.Y_train, 20)
    plane = random_plane(net.get_weights(), seed=0)
    xs = ys = axis(1.0, size)
    X, Y = net.check_inputs(problem.X_train), trainer.targets(problem.Y_train)

    def grid():
        for _ in landscape(net, trainer.loss.name, problem.X_train, problem.Y_train, plane, xs, ys):
            pass

    def floor():
        for _ in range(size * size):
            net.forward_loss(X, Y, trainer.loss)

    grid()  # warm up
    grid_rates, floor_rates, ratios = interleave(lambda: 1 / timed(grid), lambda: 1 / timed(floor), rounds)
    return {"size": size, "samples": len(X), "grid_seconds": 1 / statistics.median(grid_rates),
            "floor_seconds": 1 / statistics.median(floor_rates), "ratio": statistics.median(ratios),
            "worst_grid_seconds": 1 / min(grid_rates)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run of well under a minute")
    parser.add_argument("--json", default=DEFAULT_JSON, metavar="FILE", help=f"results file (default {DEFAULT_JSON})")
    args = parser.parse_args(argv)
    rounds = 3 if args.quick else 7
    info = machine_info()
    results = {"machine": info, "quick": args.quick, "sections": {}}
    print(f"Backprop Playground: checkpoints and landscapes{' (quick)' if args.quick else ''}")
    print(f"  {info['cpus']} CPUs, {info['cpu_model']}; Python {info['python']}, NumPy {info['numpy']}, "
          f"BLAS {info['blas']['name']} ({info['blas']['threads'] or '?'} threads)\n")

    load = OtherLoad()
    rows, out = [], {}
    for label, hidden in NETWORKS.items():
        r = out[label] = bench_checkpoints(hidden, rounds, 0.15 if args.quick else 0.5)
        rows.append([label, fmt(r["plain_epochs_per_s"]), fmt(r["weights_epochs_per_s"]), f"{r['ratio_weights']:.2f}x",
                     fmt(r["state_epochs_per_s"]), f"{r['ratio_state']:.2f}x", str(r["checkpoints"])])
    results["sections"]["checkpoints"] = out
    print("1. Training (Adam, batch 10, 250 points) with a checkpoint every epoch vs without, epochs/s")
    print(table(rows, ["network", "no checkpoints", "weights", "ratio", "weights + trainer state", "ratio",
                       "checkpoints kept"]) + "\n")
    note_load(results, "checkpoints", load)

    load = OtherLoad()
    rows, out = [], {}
    for label, hidden in NETWORKS.items():
        r = out[label] = bench_landscape(hidden, rounds)
        ms = lambda seconds: f"{seconds * 1e3:,.0f} ms"
        rows.append([label, str(r["samples"]), ms(r["grid_seconds"]), ms(r["worst_grid_seconds"]),
                     ms(r["floor_seconds"]), f"{r['ratio']:.2f}x"])
    results["sections"]["landscape"] = out
    print("2. A 41 x 41 loss landscape (1,681 points) vs the bare forward passes it needs")
    print(table(rows, ["network", "points", "landscape (median)", "slowest round", "bare forward_loss",
                       "speed ratio"]) + "\n")
    note_load(results, "landscape", load)

    Path(args.json).write_text(json.dumps(results, indent=1))
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
