"""Utilities: ``minigrad.utils.data`` (datasets and loaders), ``minigrad.utils.hooks``, ``minigrad.utils.tensorboard``."""
