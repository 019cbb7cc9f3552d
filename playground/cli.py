"""The ``playground`` command: the window by default, ``playground train`` headless."""
from __future__ import annotations

import sys


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] == "train":
        from playground.train import main as train  # no Qt on this path
        return train(argv[1:])
    import argparse

    parser = argparse.ArgumentParser(
        prog="playground",
        description="Backprop Playground: build a neural network by clicking, train it with "
                    "backpropagation and watch it learn.",
        epilog="Headless training: 'playground train --help'.")
    parser.add_argument("project", nargs="?", help="a project file (.json) to open")
    args = parser.parse_args(argv)
    from playground.app import run
    return run(args.project)


if __name__ == "__main__":
    sys.exit(main())
