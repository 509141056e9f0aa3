"""Old import paths of modules that moved, still working: ``import minigrad.trainer`` gives ``minigrad.training.trainer``.

The training loop and sweeps moved into ``minigrad/training/``, the learning-rate
tools into ``minigrad/optim/lr_tools/``, so the package's folders show its layers; a program written against the old paths
keeps running. An old name is the very same module object as the new one (a
``monkeypatch`` of either is seen through both), and the module is imported only
when the old path is asked for.
"""

import importlib
import importlib.abc
import importlib.util
import sys

MOVED = {
    "minigrad.functional": "minigrad",      # the function forms (minigrad.exp, …) now live in the package itself
    "minigrad.trainer": "minigrad.training.trainer",
    "minigrad.sweep": "minigrad.training.sweep",
    "minigrad.summary": "minigrad.training.summary",
    "minigrad.optim.guard": "minigrad.optim.lr_tools.guard",
    "minigrad.optim.insight": "minigrad.optim.lr_tools.insight",
    "minigrad.optim.lr_finder": "minigrad.optim.lr_tools.lr_finder",
    "minigrad.optim.surfaces": "minigrad.optim.lr_tools.surfaces",
}


class _OldPath(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds an old path and hands back the module at its new one."""

    def find_spec(self, name, path=None, target=None):
        return importlib.util.spec_from_loader(name, self) if name in MOVED else None

    def create_module(self, spec):
        return importlib.import_module(MOVED[spec.name])

    def exec_module(self, module):
        """Nothing to run: the new module ran when it was imported."""


def install():
    """Put the finder on ``sys.meta_path`` once."""
    if not any(isinstance(finder, _OldPath) for finder in sys.meta_path):
        sys.meta_path.append(_OldPath())
