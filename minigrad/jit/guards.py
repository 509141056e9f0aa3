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
    """The modules, optimizers, schedulers and loose tensors a step works on, every tensor among them, and the
    places they were found (``roots``: a closure cell, a global, an attribute — read again by the check)."""

    def __init__(self):
        self.modules, self.optimizers, self.schedulers, self.loose = [], [], [], []
        self.tensors = []
        self.roots = []            # (container, key, value): container[key] held value when the step was seen

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
    """The objects ``fn`` reaches: through its closure, the globals its code names, ``self``, the functions it
    calls (theirs too), and what those hold one level down."""
    reach, seen = Reach(), set()
    if isinstance(fn, types.MethodType):
        _take(fn.__self__, reach, seen, depth=2)
        fn = fn.__func__
    if getattr(fn, "__code__", None) is None:
        _take(fn, reach, seen, depth=2)                  # a callable object: its attributes
    else:
        _function(fn, reach, seen, depth=2)
    return reach.finish()


def _function(fn, reach, seen, depth):
    """What a Python function reads from outside: its closure cells and the globals its code names."""
    if id(fn) in seen or fn.__module__ and fn.__module__.split(".")[0] == "minigrad":
        return                                            # minigrad's own functions read no user state
    seen.add(id(fn))
    for cell in fn.__closure__ or ():
        if _filled(cell):
            reach.roots.append((cell, "cell_contents", cell.cell_contents))
            _take(cell.cell_contents, reach, seen, depth)
    names = set(_names(fn.__code__))
    for key, value in fn.__globals__.items():
        if key in names:
            reach.roots.append((fn.__globals__, key, value))
            _take(value, reach, seen, depth)


def _holds_state(value):
    """Whether an attribute leads to what the recording depends on (an object's counters and the like do not:
    guarding them would make every call a new signature)."""
    if isinstance(value, (Module, Optimizer, LRScheduler, ReduceLROnPlateau, Tensor, types.FunctionType)):
        return True
    if type(value) in (list, tuple):
        return any(_holds_state(v) for v in value)
    if type(value) is dict:
        return any(_holds_state(v) for v in value.values())
    return False


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
    if isinstance(value, types.FunctionType):
        if depth > 0:
            _function(value, reach, seen, depth - 1)
        return
    if id(value) in seen or isinstance(value, (type, types.ModuleType, str, bytes, int, float, bool)) or value is None:
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
            if type(value) is list:
                reach.roots.extend((value, i, child) for i, child in enumerate(value) if _holds_state(child))
        elif isinstance(value, dict):
            children = list(value.values())
            reach.roots.extend((value, key, child) for key, child in value.items() if _holds_state(child))
        else:
            attributes = getattr(value, "__dict__", {})
            children = list(attributes.values())
            reach.roots.extend((attributes, key, child) for key, child in attributes.items() if _holds_state(child))
        for child in children:
            _take(child, reach, seen, depth - 1)


def compiled_check(args, kwargs, reach):
    """A function ``check(args, kwargs)``: True while everything the module docstring lists is as it is now.

    One generated expression over the objects themselves (``T0._array is K3() and M1['training'] is True and …``),
    so a call asks it in a few microseconds; it may raise (a parameter deleted), which means False. A parameter's
    array is held by a weak reference: a reference of the check's own would tell the optimizer that something else
    uses the parameter's memory.
    """
    names, terms = {"state": grad_mode.state}, []

    def name(prefix, value):
        key = f"{prefix}{len(names)}"
        names[key] = value
        return key

    terms.append(f"len(args) == {len(args)} and {'not kwargs' if not kwargs else f'len(kwargs) == {len(kwargs)}'}")
    arguments = []                                       # (expression, tensor) in _tensor_arguments' order
    for i, value in enumerate(args):
        terms.extend(_argument_terms(f"args[{i}]", value, name, arguments))
    for key, value in kwargs.items():
        terms.extend(_argument_terms(f"kwargs[{key!r}]", value, name, arguments))
    places = [(expression, t) for expression, t in arguments] + [(name("T", t), t) for t in reach.tensors]
    for i, (first, a) in enumerate(arguments):           # which arguments are one tensor, or a parameter
        for second, b in places[i + 1:]:
            terms.append(f"({first} is {second}) is {a is b}")
    state = grad_mode.state
    terms.append(f"state.grad_enabled is {state.grad_enabled} and state.anomaly is {state.anomaly}")
    for container, key, value in reach.roots:            # the closure, globals and attributes it was found through
        terms.append(f"{name('R', container)}[{key!r}] is {name('K', value)}" if key != "cell_contents"
                     else f"{name('R', container)}.cell_contents is {name('K', value)}")
        if _plain_values(value):
            terms.append(f"{name('R', container)}{'.cell_contents' if key == 'cell_contents' else f'[{key!r}]'} == "
                         f"{name('K', _copy(value))}")
    for module in reach.submodules:
        m, attributes = name("M", vars(module)), vars(module)
        for key in ("_parameters", "_buffers", "_modules"):      # the same parameters, buffers, children
            entries = attributes[key]
            terms.append(f"len({m}[{key!r}]) == {len(entries)}")
            terms.extend(f"{m}[{key!r}][{k!r}] is {name('K', v)}" for k, v in entries.items())
        for key, value in attributes.items():            # training, p of Dropout, momentum of BatchNorm, …
            if type(value) is bool:
                terms.append(f"{m}[{key!r}] is {value}")
            elif type(value) in (int, float, str):
                terms.append(f"{m}[{key!r}] == {name('K', value)}")
        for table in HOOK_TABLES:
            hooks = attributes[table]
            terms.append(f"{m}[{table!r}] == {name('K', dict(hooks))}" if hooks else f"not {m}[{table!r}]")
    for t in reach.tensors:
        n = name("T", t)
        terms.append(f"{n}._array is {name('K', weakref.ref(t._array))}() and {n}._requires_grad is {t._requires_grad} "
                     f"and ({n}._grad is None) is {t._grad is None} and {_hooks(n, '_hooks', t._hooks, name)} and "
                     f"{_hooks(n, '_post_accumulate_hooks', t._post_accumulate_hooks, name)}")
    for o in reach.optimizers:
        n = name("O", o)
        terms.append(f"{n}._storage is {name('K', o._storage)} and len({n}.param_groups) == {len(o.param_groups)} "
                     f"and {n}.track_updates is {o.track_updates}")
        for index, group in enumerate(o.param_groups):   # the same parameters, keeping the same state
            g = name("P", group)
            terms.append(f"{n}.param_groups[{index}] is {g} and len({g}['params']) == {len(group['params'])}")
            terms.extend(f"{g}['params'][{i}] is {name('K', p)}" for i, p in enumerate(group["params"]))
            terms.append(f"{n}.state_names({g}) == {name('K', o.state_names(group))}")
        terms.append(f"len({n}._storage._flats) == {len(o._storage._flats)}")
        for index, flats in o._storage._flats.items():
            terms.append(f"{n}._storage._flats.get({index}) is {name('K', flats)}")
            for flat in flats:                           # the runs a recording made: equal step counts, no new state
                f = name("F", flat)
                terms.append(f"not {f}._new")
                if flat.steps.count(flat.steps[0]) == len(flat.steps):        # the usual: one count for all
                    terms.append(f"{f}.steps.count({f}.steps[0]) == {len(flat.steps)}")
                else:
                    terms.extend(f"({f}.steps[{i}] == {f}.steps[{i - 1}]) is {flat.steps[i] == flat.steps[i - 1]}"
                                 for i in range(1, len(flat.steps)))
    source = "def check(args, kwargs):\n    return (" + "\n            and ".join(terms) + ")\n"
    exec(compile(source, "<minigrad.jit guard>", "exec"), names)       # noqa: S102 - our own generated code
    return names["check"]


ACCEPTED = (bool, int, float, str, type(None))


def acceptable(value):
    """Whether a jitted step can take ``value``: tensors, numbers, strings, None, and lists, tuples and dicts of
    them (anything else could hold what the check cannot see)."""
    if isinstance(value, Tensor) or type(value) in ACCEPTED:
        return True
    if type(value) in (list, tuple):
        return all(acceptable(v) for v in value)
    if type(value) is dict:
        return all(type(k) is str for k in value) and all(acceptable(v) for v in value.values())
    return False


def _argument_terms(where, value, name, arguments):
    if isinstance(value, Tensor):
        arguments.append((where, value))
        return [f"{where}.__class__ is {name('C', type(value))} and {where}._array.shape == {value.shape!r} and "
                f"{where}._array.dtype == {name('D', value._array.dtype)} and {where}.device == "
                f"{name('V', value.device)} and {where}._requires_grad is {value._requires_grad}"]
    if type(value) in ACCEPTED:
        return [f"{where}.__class__ is {name('C', type(value))} and {where} == {name('N', value)}"]
    if type(value) in (list, tuple):
        terms = [f"{where}.__class__ is {type(value).__name__} and len({where}) == {len(value)}"]
        for i, v in enumerate(value):
            terms.extend(_argument_terms(f"{where}[{i}]", v, name, arguments))
        return terms
    terms = [f"{where}.__class__ is dict and list({where}) == {name('N', list(value))}"]
    for key, v in value.items():
        terms.extend(_argument_terms(f"{where}[{key!r}]", v, name, arguments))
    return terms


def _plain_values(value):
    """A dict or list of numbers and strings only (compared by value: a config read by the step)."""
    if type(value) is dict:
        return all(type(v) in ACCEPTED for v in value.values())
    if type(value) is list:
        return all(type(v) in ACCEPTED for v in value)
    return False


def _hooks(tensor, attribute, hooks, name):
    """A tensor's hook table as it is: None, empty, or these very hooks."""
    if hooks is None:
        return f"{tensor}.{attribute} is None"
    return f"{tensor}.{attribute} == {name('K', dict(hooks))}" if hooks else f"not {tensor}.{attribute}"


def _copy(value):
    return None if value is None else type(value)(value)
