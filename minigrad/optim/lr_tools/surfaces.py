"""Classic 2-D test surfaces, and the path an optimizer takes over them.

Each surface is a function f(x, y) written in minigrad ops (so autograd gives
∇f) and in NumPy (for contour plots), with a start point, its minimum, and
plotting bounds.
"""

from dataclasses import dataclass

import numpy as np

from minigrad.autograd.grad_mode import no_grad
from minigrad.creation import tensor


@dataclass(frozen=True)
class Surface:
    name: str
    title: str
    start: tuple
    minimum: tuple
    bounds: tuple

    def __call__(self, x, y):
        return _FORMULAS[self.name](x, y)

    def numpy(self, x, y):
        return _FORMULAS[self.name](x, y)


def _quadratic(x, y):
    # f = ½(x² + 25y²): curvature 25 times steeper along y than along x (condition number 25)
    return 0.5 * (x * x + 25 * y * y)


def _rosenbrock(x, y):
    # f = (1 − x)² + 100(y − x²)²: a curved, narrow valley, minimum at (1, 1)
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


def _beale(x, y):
    # f = (1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)², minimum at (3, 0.5)
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y * y) ** 2 + (2.625 - x + x * y * y * y) ** 2


_FORMULAS = {"quadratic": _quadratic, "rosenbrock": _rosenbrock, "beale": _beale}

SURFACES = {
    "quadratic": Surface("quadratic", "ill-conditioned quadratic ½(x² + 25y²)", (-4.0, 1.5), (0.0, 0.0),
                         ((-5.0, 5.0), (-2.0, 2.0))),
    "rosenbrock": Surface("rosenbrock", "Rosenbrock (1 − x)² + 100(y − x²)²", (-1.5, 2.0), (1.0, 1.0),
                          ((-2.0, 2.0), (-1.0, 3.0))),
    "beale": Surface("beale", "Beale", (1.0, 1.6), (3.0, 0.5), ((-1.0, 4.0), (-1.5, 2.0))),
}

# Learning rates that let each optimizer make visible progress on each surface.
TRAJECTORY_LR = {
    "quadratic": {"sgd": 0.07, "momentum": 0.01, "nesterov": 0.01, "adagrad": 0.8, "rmsprop": 0.05, "adam": 0.2,
                  "adamw": 0.2},
    "rosenbrock": {"sgd": 1e-3, "momentum": 5e-4, "nesterov": 5e-4, "adagrad": 0.5, "rmsprop": 0.01, "adam": 0.1,
                   "adamw": 0.1},
    "beale": {"sgd": 0.01, "momentum": 0.002, "nesterov": 0.002, "adagrad": 0.5, "rmsprop": 0.01, "adam": 0.05,
              "adamw": 0.05},
}


def trajectory(surface, make_optimizer, steps=300):
    """The points (steps + 1, 2) visited by ``make_optimizer([θ])`` minimising ``surface`` from its start."""
    theta = tensor(list(surface.start), requires_grad=True, dtype="float64")
    optimizer = make_optimizer([theta])
    points = [theta.tolist()]
    for _ in range(steps):
        optimizer.zero_grad()
        surface(theta[0], theta[1]).backward()
        optimizer.step()
        with no_grad():
            points.append(theta.tolist())
        if not np.all(np.isfinite(points[-1])):
            break
    return np.array(points)
