"""What a step touches, and the conditions under which its recording still holds.

``discover(fn)`` finds the objects a step works on — the modules, optimizers,
schedulers and tensors reachable from its closure, the globals it names, a bound
method's object and the objects those hold one level down — the way a reader of
``fn`` would. ``compiled_check(args, kwargs, reach)`` writes down everything a
recording depends on as one generated expression: the arguments' types, shapes,
dtypes and devices, the Python numbers passed, grad mode, anomaly mode, every
module's ``training`` flag and hooks, the parameters' arrays (a ``.to()`` or a new
optimizer storage makes new ones), ``requires_grad``, which have a gradient, their
hooks, the optimizers' storage. A call for which a recording's check holds
replays it; any other records again.
"""

import types
import weakref

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


def compiled_check(args, kwargs, reach):
    """A function ``check(args, kwargs)``: True while everything the module docstring lists is as it is now.

    One generated expression over the objects themselves (``T0._array is K3() and M1['training'] is True and …``),
    so a call asks it in a few microseconds. A parameter's array is held by a weak reference: a reference of the
    check's own would tell the optimizer that something else uses the parameter's memory.
    """
    names, terms = {"state": grad_mode.state}, []

    def name(prefix, value):
        key = f"{prefix}{len(names)}"
        names[key] = value
        return key

    terms.append(f"len(args) == {len(args)} and not kwargs" if not kwargs else "False")
    for i, value in enumerate(args):
        terms.extend(_argument_terms(f"args[{i}]", value, name))
    state = grad_mode.state
    terms.append(f"state.grad_enabled is {state.grad_enabled} and state.anomaly is {state.anomaly}")
    for module in reach.submodules:
        m = name("M", vars(module))
        terms.append(f"{m}['training'] is {module.training}")
        terms.extend(f"not {m}[{table!r}]" if not vars(module)[table] else f"{m}[{table!r}]" for table in HOOK_TABLES)
    for t in reach.tensors:
        n = name("T", t)
        terms.append(f"{n}._array is {name('K', weakref.ref(t._array))}() and {n}._requires_grad is {t._requires_grad} and "
                     f"({n}._grad is None) is {t._grad is None} and "
                     f"bool({n}._hooks) is {bool(t._hooks)} and bool({n}._post_accumulate_hooks) is "
                     f"{bool(t._post_accumulate_hooks)}")
    for o in reach.optimizers:
        n = name("O", o)
        terms.append(f"{n}._storage is {name('K', o._storage)} and len({n}.param_groups) == {len(o.param_groups)}")
        for index, flats in o._storage._flats.items():
            terms.append(f"{n}._storage._flats.get({index}) is {name('K', flats)}")
        terms.append(f"len({n}._storage._flats) == {len(o._storage._flats)}")
    source = "def check(args, kwargs):\n    return (" + "\n            and ".join(terms) + ")\n"
    exec(compile(source, "<minigrad.jit guard>", "exec"), names)       # noqa: S102 - our own generated code
    return names["check"]


def _argument_terms(where, value, name):
    if isinstance(value, Tensor):
        return [f"{where}.__class__ is {name('C', type(value))} and {where}._array.shape == {value.shape!r} and "
                f"{where}._array.dtype == {name('D', value._array.dtype)} and {where}.device == "
                f"{name('V', value.device)} and {where}._requires_grad is {value._requires_grad}"]
    if isinstance(value, (bool, int, float, str, type(None))):
        return [f"{where}.__class__ is {type(value).__name__ if value is not None else 'type(None)'} and "
                f"{where} == {name('N', value)}"]
    if isinstance(value, (list, tuple)):
        terms = [f"{where}.__class__ is {type(value).__name__} and len({where}) == {len(value)}"]
        for i, v in enumerate(value):
            terms.extend(_argument_terms(f"{where}[{i}]", v, name))
        return terms
    return [f"{where} is {name('X', value)}"]
