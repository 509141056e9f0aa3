"""Reverse-mode automatic differentiation: ``Function``, ``backward``, ``grad``, grad modes, gradcheck."""

from minigrad.autograd.engine import backward, grad  # noqa: F401
from minigrad.autograd.function import Function  # noqa: F401
from minigrad.autograd.grad_mode import (  # noqa: F401
    detect_anomaly,
    enable_grad,
    inference_mode,
    is_anomaly_enabled,
    is_grad_enabled,
    no_grad,
    set_detect_anomaly,
    set_grad_enabled,
)
from minigrad.autograd.gradcheck import gradcheck, gradgradcheck  # noqa: F401
