"""minigrad: a small, readable reverse-mode autograd library with PyTorch's names.

Tensors hold NumPy (CPU) or CuPy (GPU) arrays and record the operations applied
to them; ``backward()`` computes ∇J for every tensor that asked for it. On top,
``minigrad.nn`` builds networks and ``minigrad.optim`` trains them.
"""

from minigrad._dtype import (  # noqa: F401
    bool_ as bool,  # noqa: A004
    double,
    dtype,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    int32,
    int64,
    long,
    set_default_dtype,
)
from minigrad._dtype import float as float  # noqa: F401,A004,PLC0414
from minigrad._dtype import int as int  # noqa: F401,A004,PLC0414
from minigrad.autograd.grad_mode import (  # noqa: F401
    enable_grad,
    inference_mode,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from minigrad.backend import device, get_default_device, is_cuda_available, set_default_device  # noqa: F401
from minigrad.tensor import Tensor  # noqa: F401
from minigrad.functional import *  # noqa: F401,F403,E402
from minigrad.ops.validate import DTypeError, ShapeError  # noqa: F401
from minigrad.random import Generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state  # noqa: F401
from minigrad import autograd, cuda  # noqa: F401,E402
from minigrad.autograd import set_detect_anomaly  # noqa: F401
from minigrad import datasets, nn, optim  # noqa: F401,E402
from minigrad.utils import data as _data  # noqa: F401,E402  (makes minigrad.utils.data importable as an attribute)
from minigrad import utils  # noqa: F401,E402
from minigrad.serialization import load, save  # noqa: F401,E402

__version__ = "0.2.0"
