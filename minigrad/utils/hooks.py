"""``minigrad.utils.hooks.RemovableHandle``, PyTorch's path to it; the class lives with autograd, which uses it."""

from minigrad.autograd.hooks import RemovableHandle  # noqa: F401
