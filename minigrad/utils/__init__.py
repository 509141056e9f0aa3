"""Utilities: ``minigrad.utils.data`` (datasets and loaders)."""

from minigrad.utils import data  # noqa: F401
