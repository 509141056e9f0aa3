"""Learning-rate schedulers: PyTorch's set, each a pure function of the step underneath.

Every scheduler has ``step()``, ``get_last_lr()``, ``state_dict()`` and
``load_state_dict()``; all but ReduceLROnPlateau also ``preview(n)``.
Beyond PyTorch: ``InverseTimeLR`` (η₀/(1 + k·t)) and ``WarmupLR`` (linear warm-up, then any scheduler).
"""

from minigrad.optim.lr_scheduler.base import LRScheduler  # noqa: F401
from minigrad.optim.lr_scheduler.composite import ChainedScheduler, SequentialLR, WarmupLR  # noqa: F401
from minigrad.optim.lr_scheduler.cyclic import CyclicLR, OneCycleLR  # noqa: F401
from minigrad.optim.lr_scheduler.decay import (  # noqa: F401
    ConstantLR, CosineAnnealingLR, CosineAnnealingWarmRestarts, ExponentialLR, InverseTimeLR, LambdaLR, LinearLR,
    MultiplicativeLR, MultiStepLR, PolynomialLR, StepLR,
)
from minigrad.optim.lr_scheduler.plateau import ReduceLROnPlateau  # noqa: F401
