"""The pieces update rules share, the math they use beyond arithmetic, and how whoever runs a rule binds it.

Every rule starts from the same gradient (``gradient``: ascent or descent, plus
the L2 term) and keeps moving averages (``moving_average``: Adam's moments,
RMSprop's and Adadelta's squares); optax composes its optimizers from such
small transformations, and here the rules call them so each reads like its
docstring's algorithm.

An update rule (``sgd``, ``adam``, …) is arithmetic on its arguments plus three
functions: ``sqrt``, ``maximum`` and ``absolute``. In the rule's module they are
the functions of numbers below, so a rule read on its own is a function of
numbers, as in the paper. To run it over whole arrays, the caller — who knows
the device of the arrays — binds those names to the device's array namespace::

    adam_on_arrays = bound(adam, array_math(device.backend.xp))

``bound`` returns the same code (the rule's own code object) with those
globals rebound, and the helpers it calls from its module rebound alike. No
one asks an array for its namespace: CuPy's arrays have none. The compiled
kernels (``minigrad/accel/``) bind the names to their tracer's functions.
"""

import math

from minigrad._rebind import bound  # noqa: F401  (how a rule is run over arrays; re-exported)

sqrt = math.sqrt            # √x
maximum = max               # the larger of a and b
absolute = abs              # |x|

def gradient(grad, param, weight_decay, maximize, has_weight_decay):
    """g ← ∇J(θ), or −∇J(θ) to maximize; plus λθ (the gradient of ½λ‖θ‖²) when weight decay is on."""
    g = -grad if maximize else grad
    return g + weight_decay * param if has_weight_decay else g


def moving_average(average, value, decay):
    """average ← decay·average + (1 − decay)·value; an array is updated in place (and returned)."""
    average *= decay
    average += (1 - decay) * value
    return average


def array_math(xp):
    """The rule's math functions for arrays of namespace ``xp``."""
    return {"sqrt": xp.sqrt, "maximum": xp.maximum, "absolute": xp.abs}
