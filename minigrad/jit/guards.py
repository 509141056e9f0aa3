"""What a step touches, and the conditions under which its recording still holds.

``discover(fn, args)`` finds the objects a step works on — the modules,
optimizers, schedulers and tensors reachable from its closure, the globals it
names, a bound method's object and the objects those hold one level down — the
way a reader of ``fn`` would. ``signature(...)`` condenses everything a recording
depends on into one hashable key: the arguments' shapes, dtypes and devices, the
Python numbers passed, grad mode, anomaly mode, every module's ``training`` flag
and hooks, the parameters' arrays (a ``.to()`` or a new optimizer storage makes new
ones), ``requires_grad``, which have a gradient and their hooks. A call whose key
was recorded replays; any other records again.
"""

import types

from minigrad.autograd import grad_mode
from minigrad.nn.modules.hooks import HOOK_TABLES
from minigrad.nn.modules.module import Module
from minigrad.optim.lr_scheduler.base import LRScheduler
from minigrad.optim.lr_scheduler.plateau import ReduceLROnPlateau
from minigrad.optim.optimizer import Optimizer
from minigrad.tensor import Tensor


class Reach:
    """The modules, optimizers, schedulers and loose tensors a step works on, and every tensor among them."""

    def __init__(self):
        self.modules, self.optimizers, self.schedulers, self.loose = [], [], [], []
        self.tensors = []

    def finish(self):
        seen = set()
        for t in self._all_tensors():
            if id(t) not in seen:
                seen.add(id(t))
                self.tensors.append(t)
        self.submodules = [m for module in self.modules for m in module.modules()]
        return self

    def _all_tensors(self):
        for module in self.modules:
            yield from module.parameters()
            yield from module.buffers()
        for optimizer in self.optimizers:
            for group in optimizer.param_groups:
                yield from group["params"]
        yield from self.loose


def discover(fn):
    """The objects ``fn`` reaches through its closure, the globals its code names, ``self``, one level down."""
    reach, seen = Reach(), set()
    roots = []
    if isinstance(fn, types.MethodType):
        roots.append(fn.__self__)
        fn = fn.__func__
    code = getattr(fn, "__code__", None)
    if code is not None:
        roots.extend(cell.cell_contents for cell in (fn.__closure__ or ()) if _filled(cell))
        names = set(_names(code))
        roots.extend(value for key, value in fn.__globals__.items() if key in names)
    else:
        roots.append(fn)                                  # a callable object: its attributes
    for root in roots:
        _take(root, reach, seen, depth=2)
    return reach.finish()


def _filled(cell):
    try:
        return cell.cell_contents is not _filled            # reading it raises for an empty cell
    except ValueError:
        return False


def _names(code):
    yield from code.co_names
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _names(const)


def _take(value, reach, seen, depth):
    if id(value) in seen or isinstance(value, (type, types.ModuleType, types.FunctionType, str, bytes, int, float)):
        return
    seen.add(id(value))
    if isinstance(value, Module):
        reach.modules.append(value)
    elif isinstance(value, Optimizer):
        reach.optimizers.append(value)
    elif isinstance(value, (LRScheduler, ReduceLROnPlateau)):
        reach.schedulers.append(value)
        _take(value.optimizer, reach, seen, depth)
    elif isinstance(value, Tensor):
        reach.loose.append(value)
    elif depth > 0:
        if isinstance(value, (list, tuple, set)):
            children = list(value)
        elif isinstance(value, dict):
            children = list(value.values())
        else:
            children = list(getattr(value, "__dict__", {}).values())
        for child in children:
            _take(child, reach, seen, depth - 1)


def argument_key(value):
    """The part of the key one argument contributes."""
    if isinstance(value, Tensor):
        return ("T", value.shape, value.dtype.name, str(value.device), value.requires_grad)
    if isinstance(value, (bool, int, float, str, type(None))):
        return (type(value).__name__, value)
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(argument_key(v) for v in value))
    return ("object", id(value))


def signature(args, kwargs, reach):
    """Everything a recording depends on, as one hashable tuple."""
    state = grad_mode.state
    return (
        tuple(argument_key(a) for a in args),
        tuple((k, argument_key(v)) for k, v in sorted(kwargs.items())),
        state.grad_enabled, state.anomaly,
        tuple((m.training, any(vars(m)[table] for table in HOOK_TABLES)) for m in reach.submodules),
        tuple((id(t._array), t._requires_grad, t._grad is None, bool(t._hooks), bool(t._post_accumulate_hooks))
              for t in reach.tensors),
        tuple((id(o._storage), tuple(id(f) for flats in o._storage._flats.values() for f in flats),
               len(o.param_groups)) for o in reach.optimizers),
    )
