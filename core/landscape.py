"""The loss landscape: the data loss over a plane of weight space through the current weights.

A ``Plane`` is a centre θ (the current weights) and two directions d₁, d₂ in weight space; the point
(x, y) of the plane is the network with weights θ + x·d₁ + y·d₂. Weights are handled as flat vectors
``(n_parameters,)``: kernel_0, bias_0, kernel_1, ... in turn, each in C order (``flatten``).

Two planes, after Li et al., "Visualizing the Loss Landscape of Neural Nets" (NeurIPS 2018):

- ``pca_plane``: the top two principal directions of the checkpoint trajectory, from the SVD of the
  differences θᵢ − θ (their section 7); unit and orthogonal, so the path shows as it went.
- ``random_plane``: two seeded Gaussian directions, filter-normalised (their section 4): each neuron's
  incoming weights in a direction (a column of a kernel) are scaled to the norm of the same column of
  the weights, and biases are not moved, as in their code; meant for x and y from −1 to 1.

``landscape`` evaluates the grid a row at a time, as a generator the app runs on a thread and stops
between rows; ``Plane.project`` places the checkpoints' path on the plane.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .network import Network

MAX_SAMPLES = 2_000  # the cost is computed on at most this many training rows, a seeded sample


def flatten(weights) -> np.ndarray:
    """``[(kernel, bias), ...]`` → one vector (n_parameters,)."""
    return np.concatenate([np.ravel(a) for pair in weights for a in pair])


def unflatten(vector, shapes) -> list[tuple[np.ndarray, np.ndarray]]:
    """A vector (n_parameters,) → ``[(kernel, bias), ...]`` of ``shapes`` ``[(kernel shape, bias shape), ...]``,
    as views of the vector."""
    arrays, start = [], 0
    for shape in (s for pair in shapes for s in pair):
        size = int(np.prod(shape))
        arrays.append(vector[start:start + size].reshape(shape))
        start += size
    if start != len(vector):
        raise ValueError(f"a vector of {len(vector)} parameters does not fit shapes holding {start}")
    return list(zip(arrays[::2], arrays[1::2]))


def shapes_of(weights) -> list[tuple[tuple, tuple]]:
    return [(np.shape(kernel), np.shape(bias)) for kernel, bias in weights]


@dataclass(frozen=True, eq=False)
class Plane:
    """A plane in weight space: the point (x, y) is ``center + x·directions[0] + y·directions[1]``.

    ``center`` (n_parameters,) and ``directions`` (2, n_parameters) are float64; ``shapes`` are the
    network's ``[(kernel shape, bias shape), ...]``; ``explained`` is the share of the trajectory's
    variance along each direction (principal directions only)."""

    center: np.ndarray
    directions: np.ndarray
    shapes: tuple
    explained: tuple | None = None

    def project(self, trajectory) -> np.ndarray:
        """The coordinates (n_points, 2) on the plane of each weights in ``trajectory`` (e.g. the
        checkpoints' weights, oldest first): the least-squares fit of ``weights − center`` by the two
        directions, exact for points of the plane. The centre is (0, 0)."""
        offsets = np.array([flatten(weights) for weights in trajectory], dtype=np.float64) - self.center
        gram = self.directions @ self.directions.T  # (2, 2); the identity for principal directions
        return np.linalg.solve(gram, self.directions @ offsets.T).T

    def weights_at(self, x: float, y: float) -> list[tuple[np.ndarray, np.ndarray]]:
        """The weights ``[(kernel, bias), ...]`` (float64) at the point (x, y) of the plane."""
        return unflatten(self.center + x * self.directions[0] + y * self.directions[1], self.shapes)


def pca_plane(trajectory, center) -> Plane:
    """The plane through ``center`` (weights ``[(kernel, bias), ...]``) along the top two principal
    directions of ``trajectory`` (weights, oldest first, usually the checkpoints'), i.e. the first two
    right singular vectors of the matrix of differences (n_points, n_parameters) from ``center``.
    Each direction's sign makes the first point of the path fall at negative coordinates.

    ValueError if the differences span fewer than two directions (fewer than three distinct points):
    use ``random_plane`` then."""
    theta = flatten(center).astype(np.float64)
    offsets = np.array([flatten(weights) for weights in trajectory], dtype=np.float64) - theta
    if offsets.ndim != 2 or offsets.shape[1] != len(theta):
        raise ValueError(f"the trajectory's weights do not match the centre's {len(theta)} parameters")
    _, singular, vt = np.linalg.svd(offsets, full_matrices=False)
    if len(singular) < 2 or singular[1] <= 1e-12 * singular[0]:
        raise ValueError(f"the {len(offsets)} points of the path span fewer than two directions; "
                         "train longer or use random directions")
    directions = vt[:2].copy()
    signs = np.where(directions @ offsets[0] > 0, -1.0, 1.0)
    directions *= signs[:, None]
    explained = tuple(float(v) for v in singular[:2] ** 2 / np.sum(singular ** 2))
    return Plane(theta, directions, tuple(shapes_of(center)), explained)


def random_plane(center, seed=0) -> Plane:
    """The plane through ``center`` along two seeded, filter-normalised random directions."""
    rng = np.random.default_rng(seed)
    shapes = tuple(shapes_of(center))
    directions = []
    for _ in range(2):
        parts = []
        for kernel, bias in center:
            kernel = np.asarray(kernel, dtype=np.float64)
            d = rng.standard_normal(kernel.shape)
            # each column is one neuron's incoming weights (a "filter"): scale it to their norm
            d *= np.linalg.norm(kernel, axis=0) / (np.linalg.norm(d, axis=0) + 1e-10)
            parts.append((d, np.zeros(np.shape(bias))))  # biases stay put
        directions.append(flatten(parts))
    return Plane(flatten(center).astype(np.float64), np.array(directions), shapes)


def axis(extent: float, n: int = 41) -> np.ndarray:
    """``n`` (odd) coordinates evenly from −extent to extent, the middle one exactly 0."""
    if n < 3 or n % 2 == 0:
        raise ValueError(f"a grid axis needs an odd number of points, at least 3, got {n}")
    if not extent > 0:
        raise ValueError(f"the extent must be positive, got {extent}")
    half = n // 2
    return extent * np.arange(-half, half + 1) / half


def extents(path, margin: float = 0.25) -> tuple[float, float]:
    """How far the grid should reach along each direction to show ``path`` (n_points, 2) with a margin
    around it: its largest |x| and |y| times (1 + margin), 1 where the path does not move."""
    reach = np.abs(np.asarray(path, dtype=np.float64)).max(axis=0) * (1 + margin) if len(path) else np.zeros(2)
    return tuple(float(r) if r > 0 else 1.0 for r in reach)


@dataclass(frozen=True)
class Landscape:
    """The cost at every point of a grid: ``costs`` (len(ys), len(xs)), row i at ``ys[i]``, column j at
    ``xs[j]``; rows from ``rows_done`` on are not computed yet (NaN). inf or NaN where the cost
    overflows, far from the centre."""

    xs: np.ndarray
    ys: np.ndarray
    costs: np.ndarray
    rows_done: int

    @property
    def progress(self) -> float:
        """The share of rows computed, from 0 to 1."""
        return self.rows_done / len(self.ys)


def landscape(net: Network, loss, X, Y, plane: Plane, xs, ys, max_samples: int = MAX_SAMPLES, seed=0):
    """Evaluate the data loss over the grid ``xs`` × ``ys`` of ``plane``, a row (one y) at a time.

    A generator: yields a ``Landscape`` after each row (its arrays are copies); stop by no longer
    iterating. ``net`` gives the architecture only (its weights are never read, so a network being
    trained may be passed); ``loss`` is the trainer's. X (n_samples, n_inputs) and Y are the training
    set; beyond ``max_samples`` rows, a sample of that many drawn with ``seed``. The cost at (0, 0) is
    exactly ``Trainer.evaluate`` of the centre's weights on the same rows.
    """
    evaluator = Network(net.n_inputs, net.spec, dtype=net.dtype, weights=unflatten(plane.center, plane.shapes))
    # the evaluator's weights become views of one vector, so that moving to a point is one vector operation
    weights = plane.center.astype(net.dtype)
    for layer, (kernel, bias) in zip(evaluator.layers, unflatten(weights, plane.shapes)):
        layer.kernel, layer.bias = kernel, bias
    loss_fn = evaluator.check_loss(loss)
    X = evaluator.check_inputs(X)
    Y = loss_fn.targets(Y, evaluator.n_outputs).astype(evaluator.dtype, copy=False)
    if len(X) > max_samples:
        rows = np.sort(np.random.default_rng(seed).choice(len(X), max_samples, replace=False))
        X, Y = X[rows], Y[rows]
    xs, ys = np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)
    costs = np.full((len(ys), len(xs)), np.nan)
    first, second = plane.directions
    point = np.empty_like(plane.center)
    for i, y in enumerate(ys):
        with np.errstate(all="ignore"):  # far from the centre the cost may overflow: it is drawn as such
            row_origin = plane.center + y * second
            for j, x in enumerate(xs):
                np.multiply(first, x, out=point)
                point += row_origin  # at (0, 0): exact zeros added to the centre, which stays exact
                weights[...] = point
                costs[i, j] = evaluator.forward_loss(X, Y, loss_fn)
        yield Landscape(xs.copy(), ys.copy(), costs.copy(), i + 1)  # outside errstate, which would reach the caller
