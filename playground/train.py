"""``playground train``: train without the window, print the result, export the weights.

This path imports core and tqdm only, never Qt, so it runs on machines without a display.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import replace

from core import DivergenceError, datasets, io, limits, losses, tables
from core.io import FormatError
from core.metrics import regression_scores
from core.project import Project, check_weights, load_project, prepare_project, save_project
from core.spec import DataSpec, NetworkSpec
from core.trainer import FULL_BATCH, History

DATASETS = [*datasets.PLANE_SETS, *datasets.TABLES]
EXPORT_SUFFIXES = (*io.SAVE_SUFFIXES, io.SCRIPT_SUFFIX)
DELIMITER_NAMES = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|", "space": " "}
CSV_CHOICES = ("target", "features", "task", "missing", "no_header", "delimiter")
REDRAWS_PER_SECOND = 4  # the progress bar's; redrawing at every epoch costs more than fast epochs do

EXAMPLES = f"""\
examples:
  playground train --epochs 200 --export model.onnx
  playground train --dataset iris --optimizer adam --learning-rate 0.01 --export iris.safetensors
  playground train --csv data.csv --target price --epochs 500 --save-project data-project.json
  playground train --csv survey.csv --target rating --task regression --missing median
  playground train --csv export.txt --no-header --delimiter tab --target "column 7" --features "column 2,column 3"
  playground train "resources/presets/Lesson - house prices, one neuron on 12 raw features.json" --epochs 200
  playground train my-project.json --epochs 50 --save-project my-project.json
  playground train --dataset house_prices --export model.py    # a PyTorch script

Without a project file the app's default is trained: the {DataSpec().source} dataset,
hidden layers {", ".join(f"{units} {act}" for units, act in NetworkSpec().hidden)}. A project's saved weights are the starting
point unless --fresh is given. An export is the whole model: it takes raw rows
(the CSV's columns, or the 2-D sets' x1 and x2) and answers in the target's
units or with class probabilities; its preprocessing (missing-cell fill,
feature map or one-hot columns, standardisation unless --no-standardize) and
training settings travel with it. A .py export is a PyTorch script that
predicts and goes on training, with its weights beside it in a .safetensors file.

Before training, one line says what was read from a table: rows and columns,
whether a header was found, the target and the task (with the classes), the
features, and the rows dropped or cells filled. For regression the cost is the
mean squared error of the standardised target; RMSE and R² are printed beside
it in the target's own units (RMSE = √cost × the target's standard deviation).

Settings and files are checked, and the export and project paths found
writable, before training starts. The exit status is 0 on success, 1 when
training or a file fails, 2 for a bad command line; the reason is printed on
one short line."""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one short line, however long the bad argument."""

    def error(self, message):
        self.exit(2, limits.one_line(f"{self.prog}: error: {message} (see --help)") + "\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="playground train", formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EXAMPLES,
        description="Train a network with backpropagation without opening the window, print the final\n"
                    "loss and accuracy, and optionally export the weights or save a project.")
    parser.add_argument("project", nargs="?", metavar="PROJECT.json",
                        help="a project file saved by the app (default: the app's built-in default)")
    data = parser.add_mutually_exclusive_group()
    data.add_argument("--dataset", choices=DATASETS, metavar="NAME",
                      help=f"train on a bundled dataset instead: {', '.join(DATASETS)}")
    data.add_argument("--csv", metavar="FILE", help="train on your own CSV file")
    table = parser.add_argument_group("CSV choices (also for a project's CSV file)")
    table.add_argument("--target", metavar="COL",
                       help="the column to predict (default: the last that is not a row index or constant)")
    table.add_argument("--features", metavar="COL,...", type=_columns,
                       help="the columns to learn from (default: all but the target, row indices, constant "
                            f"columns and text of more than {tables.MAX_CATEGORIES} values)")
    table.add_argument("--task", choices=["regression", "classification"],
                       help="predict a number or a class (default: classes for text and for whole numbers "
                            f"with at most {tables.MAX_CLASSES_INFERRED} values)")
    table.add_argument("--missing", choices=tables.MISSING_POLICIES,
                       help="rows with missing cells: refuse the file (default), drop them, or fill each "
                            "cell with its column's mean, median or most frequent (mode) value")
    table.add_argument("--no-header", action="store_true",
                       help="the first row is data (default: detected); columns are named 'column 1' …")
    table.add_argument("--delimiter", metavar="D", type=_delimiter,
                       help="the character between values: one character, or tab (default: detected)")
    parser.add_argument("--standardize", action=argparse.BooleanOptionalAction,
                        help="tables: scale inputs and numeric targets to mean 0, std 1 (default: the project's, "
                             "or on); --no-standardize trains on the raw values, as the lessons do")
    parser.add_argument("--epochs", type=_integer(1, limits.MAX_EPOCHS), default=100, metavar="N",
                        help="epochs to train (default 100)")
    parser.add_argument("--learning-rate", type=float, metavar="X", help="step size (default: the project's, or 0.03)")
    parser.add_argument("--optimizer", choices=["sgd", "momentum", "adam"], help="default: the project's, or sgd")
    parser.add_argument("--batch-size", type=_batch_size, metavar="N",
                        help=f"samples per step, or '{FULL_BATCH}' for full-batch gradient descent "
                             "(default: the project's, or 10)")
    parser.add_argument("--loss", type=_loss, metavar="NAME",
                        help=f"the cost: {', '.join(losses.LOSSES)} (default: the project's, or the data's "
                             "natural one: mse, bce or cross_entropy)")
    parser.add_argument("--seed", type=_integer(*limits.SEED), metavar="N",
                        help="one seed for the data split, the initial weights and the shuffling")
    parser.add_argument("--fresh", action="store_true", help="ignore a project's saved weights; start from seeded ones")
    parser.add_argument("--export", metavar="FILE",
                        help=f"write the trained model; the suffix picks the format: {', '.join(EXPORT_SUFFIXES)} "
                             "(a PyTorch script)")
    parser.add_argument("--save-project", metavar="FILE", help="save settings, weights and loss history to a .json project")
    parser.add_argument("--quiet", action="store_true", help="no progress bar (it is off anyway when output is not a terminal)")
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.export and not args.export.lower().endswith(EXPORT_SUFFIXES):
        parser.error(f"--export {args.export!r}: the suffix must be one of {', '.join(EXPORT_SUFFIXES)}")
    if args.save_project and not args.save_project.lower().endswith(".json"):
        parser.error(f"--save-project {args.save_project!r}: project files end in .json")
    try:
        return _train(args)
    except KeyboardInterrupt:
        print("playground train: interrupted", file=sys.stderr)
        return 130
    # DivergenceError, and ValueError with its FormatError and DatasetError: the message says it all
    except (DivergenceError, ValueError, OSError, ImportError, MemoryError) as error:
        reason = "out of memory" if isinstance(error, MemoryError) else str(error)
        print(limits.one_line(f"playground train: {reason}"), file=sys.stderr)
        return 1


def _train(args) -> int:
    project = load_project(args.project) if args.project else Project()
    data, network, training = _settings(project, args)
    chosen = [f"--{name.replace('_', '-')}" for name in CSV_CHOICES if getattr(args, name) not in (None, False)]
    if chosen and data.source != "csv":
        raise ValueError(f"{', '.join(chosen)} need{'s' if len(chosen) == 1 else ''} a CSV dataset (--csv FILE)")
    if args.standardize is not None and data.is_plane:
        raise ValueError("--standardize and --no-standardize are for tables; the 2-D sets are used as drawn")
    _check_outputs(args)  # before any data is read, so that no run is lost for want of a folder
    weights = None if args.fresh else project.weights
    history = (project.history if weights is not None else None) or History()
    if args.save_project and len(history.train_loss) + args.epochs > limits.MAX_EPOCHS:
        raise ValueError(f"{len(history.train_loss):,} epochs saved and {args.epochs:,} more exceed the "
                         f"{limits.MAX_EPOCHS:,} a project keeps; add --fresh or train fewer epochs")
    changed = tables.csv_changed(data.csv_path, data.csv_fingerprint) if data.source == "csv" else None
    if changed:
        print(limits.one_line(f"playground train: warning: {changed}"), file=sys.stderr)
    problem = prepare_project(Project(data, network, training))  # every setting checked before anything is built
    if data.source == "csv" and args.save_project:  # the file as read, for the project to tell a change later
        data = replace(data, csv_fingerprint=tables.fingerprint(data.csv_path))
    if problem.summary:
        print(problem.summary)
    if weights is not None:
        try:
            check_weights(weights, network, problem)
        except FormatError as error:
            raise FormatError(f"{error}; add --fresh to start anew") from None
    net = weights if weights is not None else network.build(problem)
    trainer = training.build(net, problem)
    _check_outputs(args, net)

    from tqdm import tqdm

    interactive = sys.stdout.isatty() and not args.quiet
    with tqdm(total=args.epochs, unit="epoch", file=sys.stdout, disable=not interactive, dynamic_ncols=True,
              mininterval=1 / REDRAWS_PER_SECOND) as bar:
        def progress(stats) -> None:
            bar.set_postfix_str(f"cost {stats.train_loss:.4g}" +
                                (f", test {stats.test_loss:.4g}" if stats.test_loss is not None else ""), refresh=False)
            bar.update()

        run = trainer.fit(problem.X_train, problem.Y_train, args.epochs, problem.X_test, problem.Y_test, progress)
    history.extend(run)

    splits = [("train", problem.X_train, problem.Y_train), ("test", problem.X_test, problem.Y_test)]
    for name, X, Y in splits:
        if len(X):
            loss, accuracy = trainer.evaluate(net.check_inputs(X), trainer.targets(Y))
            if accuracy is not None:
                shown = f"  accuracy {accuracy:.1%}"
            elif problem.is_plane:
                shown = ""
            else:  # the cost is in standardised units; these are in the target's
                rmse, r2 = regression_scores(problem.to_target_units(net.predict(X)), problem.to_target_units(Y))
                shown = f"  RMSE {rmse:.4g} ({problem.target_name})  R² {r2:.3f}"
            print(f"{name:5} loss {loss:.4f}{shown}")
    model = io.as_model(net, problem.preprocessing, training)  # the network with what it needs to answer raw rows
    if args.export:
        io.save(model, args.export)
        print(f"exported {args.export}")
    if args.save_project:
        save_project(args.save_project, data, network, training, model, history)
        print(f"saved {args.save_project}")
    return 0


def _settings(project: Project, args):
    """The project's data, network and training settings with the command line's overrides."""
    data, network, training = project.data, project.network, project.training
    if args.dataset:
        data = replace(data, source=args.dataset, csv_path=None, target=None, task=None)
    if args.csv:  # a new file: none of the project's choices for another one
        data = replace(data, source="csv", csv_path=args.csv, target=None, task=None, header=None, delimiter=None,
                       feature_columns=None, missing="refuse", csv_fingerprint=None)
    choices = {"target": args.target, "feature_columns": args.features, "task": args.task, "missing": args.missing,
               "header": False if args.no_header else None, "delimiter": args.delimiter}
    data = replace(data, **{k: v for k, v in choices.items() if v is not None})
    if args.standardize is not None:
        data = replace(data, standardize=args.standardize)
    overrides = {"learning_rate": args.learning_rate, "optimizer": args.optimizer, "batch_size": args.batch_size,
                 "loss": args.loss}
    training = replace(training, **{k: v for k, v in overrides.items() if v is not None})
    if args.seed is not None:
        data, network, training = (replace(s, seed=args.seed) for s in (data, network, training))
    return data, network, training


def _check_outputs(args, net=None) -> None:
    """ValueError, naming the option, unless the export and project files can be written (as files of
    ``net``'s size, once it is known)."""
    for option, path in (("--export", args.export), ("--save-project", args.save_project)):
        try:
            if path:
                io.check_savable(path, net)
        except ValueError as error:
            raise ValueError(f"{option}: {error}") from None


def _columns(text: str) -> tuple:
    columns = tuple(c.strip() for c in text.split(","))
    if not all(columns):
        raise argparse.ArgumentTypeError(f"expected column names separated by commas, got {limits.excerpt(text)}")
    return columns


def _delimiter(text: str) -> str:
    delimiter = DELIMITER_NAMES.get(text.lower(), text)
    if len(delimiter) != 1 or delimiter in "\"\r\n":
        raise argparse.ArgumentTypeError(f"expected one character (or tab), got {limits.excerpt(text)}")
    return delimiter


def _batch_size(text: str) -> int | str:
    if text.strip().lower() == FULL_BATCH:
        return FULL_BATCH
    try:
        return _integer(*limits.BATCH_SIZE)(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"must be a positive integer or '{FULL_BATCH}' (at most "
                                         f"{limits.BATCH_SIZE[1]:,}), got {limits.excerpt(text)}") from None


def _loss(text: str) -> str:
    try:
        return losses.canonical_name(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _integer(low: int, high: int):
    """An argparse type: an integer from ``low`` to ``high``."""
    def integer(text: str) -> int:
        try:
            value = int(text)
        except ValueError:  # not an integer, or one too long to read
            value = None
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be an integer from {low:,} to {high:,}, got {limits.excerpt(text)}")
        return value
    return integer


if __name__ == "__main__":
    sys.exit(main())
