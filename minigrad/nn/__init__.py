"""``minigrad.nn``: modules, layers, losses, initialisation — PyTorch's names, shapes and defaults."""

from minigrad.nn import functional, init, parallel, utils  # noqa: F401
from minigrad.nn.modules import *  # noqa: F401,F403
from minigrad.nn.modules import Module  # noqa: F401
from minigrad.nn.parameter import Parameter  # noqa: F401
