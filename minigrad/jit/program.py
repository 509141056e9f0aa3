"""A recording turned into a Python function that repeats it: one line per recorded step.

``compile_program(steps, outputs)`` writes the recording out as source code —

    v0 = A[0]._array                       # the batch
    v1 = T0._array                         # a parameter
    v2 = F0(v0, v1)                        # np.matmul
    if R0(v2) != K0: raise GuardFailed(0, False)
    C0()                                   # optimizer.step()
    return [v7]

— and compiles it with ``exec``. Replaying is then a straight run of NumPy calls:
no graph, no tensor, no dispatch, no check already made once. Functions, constants
and tensors are names in the function's globals (``F*``, ``K*``, ``T*``); ``A`` is the
list of the call's tensor arguments. ``source`` keeps the text, which ``explain()``
shows.
"""

import operator

import numpy as np

from minigrad.jit.record import Call, Guard, Live, Load, Op, OuterSlot, Slot, Store
from minigrad.optim.optimizer import Optimizer


class GuardFailed(Exception):
    """A value read during the recording reads differently now; ``changed`` says whether state was already written."""

    def __init__(self, index, changed):
        super().__init__(index)
        self.index, self.changed = index, changed


class Program:
    """The compiled replay: ``run(arguments)`` returns the output arrays (a list)."""

    def __init__(self, run, source, guards, constants):
        self.run, self.source, self.guards, self.constants = run, source, guards, constants

    def nbytes(self):
        """Memory the recording keeps alive: its constant arrays, the buffers its results are written into, and
        the work arrays of the functions it calls (an optimizer rule's NumPy kernel: ``held``)."""
        held = [a for f in self.run.__globals__.values() for a in getattr(f, "held", ())]
        return sum(c.nbytes for c in [*self.constants, *held] if isinstance(c, np.ndarray))


# the CPU namespace's reductions and makers (backend/numpy_namespace.py) and the NumPy call each makes
_REDUCTIONS = {"sum": np.add.reduce, "prod": np.multiply.reduce, "max": np.maximum.reduce, "min": np.minimum.reduce}
_MADE = {"zeros": np.zeros, "ones": np.ones, "full": np.full}      # (shape[, value], dtype=)
_MATRIX_TRANSPOSE = operator.attrgetter("mT")


def lowered(steps, namespace):
    """The CPU namespace's wrappers (``namespace``, the backend's ``xp``) replaced by the NumPy calls they make:
    the same arrays, one Python frame less per call (a replay of a small model is made of such calls).
    ``matrix_transpose(x)`` becomes ``x.mT``, ``reshape`` and ``astype`` the array's own methods,
    ``zeros(shape, dtype=, device=)`` NumPy's without the device (the CPU's is the only one)."""
    def of(table):
        return {id(getattr(namespace, name)): function for name, function in table.items()}

    reductions, made = of(_REDUCTIONS), of(_MADE)
    kept = []
    for step in steps:
        if isinstance(step, Op) and not step.writes:
            function, kwargs = reductions.get(id(step.function)), step.kwargs
            if function is not None:                     # the standard's default: every axis (a ufunc's: axis 0)
                kwargs = {"axis": None, **kwargs}
            elif step.function is namespace.permute_dims and not kwargs:
                function = np.ndarray.transpose
            elif step.function is namespace.matrix_transpose and not kwargs:
                function = _MATRIX_TRANSPOSE
            elif step.function is namespace.reshape and len(step.args) == 2 and not kwargs:
                function = np.ndarray.reshape
            elif step.function is namespace.astype and len(step.args) == 2 and set(kwargs) <= {"copy"}:
                function = np.ndarray.astype
            elif id(step.function) in made and set(kwargs) <= {"dtype", "device"}:
                function, kwargs = made[id(step.function)], {k: v for k, v in kwargs.items() if k == "dtype"}
            if function is not None:
                step = Op(function, step.args, kwargs, step.outputs, step.scalar, step.writes)
        kept.append(step)
    return kept


def _fresh(function):
    """Whether ``function`` always returns a new array, never a view of an argument, and takes ``out=``: a ufunc
    (``np.add``, ``np.matmul``, ``np.tanh``…) or a ufunc's reduction (``np.add.reduce``)."""
    return isinstance(function, np.ufunc) or \
        isinstance(getattr(function, "__self__", None), np.ufunc) and function.__name__ == "reduce"


def without_overwritten_clears(steps):
    """``steps`` without the ``optimizer.zero_grad()`` calls whose every parameter gets a new gradient stored
    later, with no Python call and no read of that gradient in between: the stores replace the None it sets."""
    kept = []
    for n, step in enumerate(steps):
        if not (isinstance(step, Call) and step.idempotent
                and getattr(step.function, "__func__", None) is Optimizer.zero_grad):
            kept.append(step)
            continue
        waiting = {id(p) for group in step.function.__self__.param_groups for p in group["params"]}
        for later in steps[n + 1:]:
            if not waiting or isinstance(later, Call):
                break
            if isinstance(later, (Load, Store)) and later.source[0] == "tensor" and id(later.source[1]) in waiting:
                if isinstance(later, Load) and later.grad or isinstance(later, Store) and later.kind == "grad_array":
                    break                                # the gradient is read (or written into) first
                if isinstance(later, Store) and later.kind in ("grad", "no_grad"):
                    waiting.discard(id(later.source[1]))
        if waiting:
            kept.append(step)
    return kept


def pruned(steps, outputs):
    """``steps`` without the loads and pure operations whose results nothing uses (walked from the end).

    Kept always: calls, stores, guards, operations that write into an array, and draws from a random stream
    (a replay must move the stream on as eager does).
    """
    used, kept = set(outputs), []
    for step in reversed(steps):
        if isinstance(step, (Op, Load)):
            produced = _produced(step)
            effect = isinstance(step, Op) and (step.writes or step.outputs is None or _draws(step.function))
            if not effect and not (produced & used):
                continue
            if isinstance(step, Op):
                used |= _slots_in(step.args) | _slots_in(step.kwargs)
        elif isinstance(step, Guard):
            used.add(step.slot)
        elif isinstance(step, Store) and step.slot is not None:
            used.add(step.slot)
        kept.append(step)
    return kept[::-1]


def _produced(step):
    if isinstance(step, Load):
        return {step.slot}
    if step.outputs is None:
        return set()
    return set(step.outputs) if isinstance(step.outputs, list) else {step.outputs}


def _draws(function):
    return type(getattr(function, "__self__", None)).__name__ == "Generator"


def _slots_in(spec):
    if isinstance(spec, Slot):
        return {spec.index}
    if isinstance(spec, (list, tuple)):
        return set().union(*map(_slots_in, spec)) if spec else set()
    if isinstance(spec, dict):
        return _slots_in(list(spec.values()))
    return set()


def hoisted(steps):
    """The guards that depend only on what the step starts from, with the operations they need, moved to the front.

    Such a guard (a loss checking its targets) is then checked before the replay changes anything, so when it
    fails the call can run eagerly — and raise exactly as eager does. A guard qualifies when its value is computed
    by pure operations from arrays that hold at the start what they hold at the guard: loaded before the step's
    first Python call or store, or never changed by such a call (not a parameter), and written by no step before.
    """
    made, initial, written = {}, set(), set()
    front, rest, moved = [], [], set()
    started = False
    for step in steps:
        if isinstance(step, Load):
            made[step.slot] = step
            if not started or step.fixed:
                initial.add(step.slot)
        elif isinstance(step, Op):
            if step.outputs is not None:
                for slot in step.outputs if isinstance(step.outputs, list) else [step.outputs]:
                    made[slot] = step
            written.update(step.writes)
        elif isinstance(step, (Call, Store)):
            started = True
        if isinstance(step, Guard):
            cone = _cone(step.slot, made, initial)
            if cone is not None and not any(_produced(s) & written for s in cone if isinstance(s, Load)):
                for needed in cone:
                    if id(needed) not in moved:
                        moved.add(id(needed))
                        front.append(needed)
                front.append(step)
                continue
        rest.append(step)
    order = {id(s): n for n, s in enumerate(steps)}
    front.sort(key=lambda s: order[id(s)])
    return front + [s for s in rest if id(s) not in moved]


def _cone(slot, made, initial, seen=None):
    """The steps that compute ``slot`` from the initial loads alone (None when it needs more: a draw, a write)."""
    seen = [] if seen is None else seen
    step = made.get(slot)
    if step is None:
        return None
    if isinstance(step, Load):
        if step.slot not in initial:
            return None
    elif step.writes or step.outputs is None or _draws(step.function):
        return None
    else:
        for needed in _slots_in(step.args) | _slots_in(step.kwargs):
            if _cone(needed, made, initial, seen) is None:
                return None
    if step not in seen:
        seen.append(step)
    return seen


def shared(steps, outputs):
    """Common subexpressions computed once: a pure operation repeated on the same inputs reuses the first result.

    Pure: it writes nothing, draws nothing, and gives one array. Any write, Python call or store in between ends
    the reuse (the inputs may have changed, directly or through a view). Two results the step keeps or writes
    (``_kept_or_written``: two gradients, two arrays of zeros one of which is filled) stay two arrays, as in eager.
    """
    alias, seen, kept = {}, {}, []
    own = _kept_or_written(steps, outputs)

    def renamed(spec):
        if isinstance(spec, Slot):
            index = alias.get(spec.index, spec.index)
            return spec if index == spec.index else type(spec)(index)
        if isinstance(spec, list):
            return [renamed(s) for s in spec]
        if isinstance(spec, tuple):
            return tuple(renamed(s) for s in spec)
        if isinstance(spec, dict):
            return {k: renamed(v) for k, v in spec.items()}
        return spec

    for step in steps:
        if isinstance(step, Op):
            step = Op(step.function, renamed(step.args), renamed(step.kwargs), step.outputs, step.scalar,
                      tuple(alias.get(s, s) for s in step.writes))
            key = None if isinstance(step.outputs, int) and step.outputs in own else _key(step)
            if key is not None and key in seen:
                alias[step.outputs] = seen[key]
                continue
            if step.writes or step.outputs is None:
                seen = {}                            # a write may reach an input through a view: start afresh
            elif key is not None:
                seen[key] = step.outputs
        elif isinstance(step, (Call, Store)):
            seen = {}
            if isinstance(step, Store) and step.slot is not None:
                step = Store(step.source, step.kind, alias.get(step.slot, step.slot))
        elif isinstance(step, Guard):
            step = Guard(step.read, alias.get(step.slot, step.slot), step.value, step.where)
        kept.append(step)
    return kept, [alias.get(s, s) for s in outputs]


def _key(op):
    """A hashable description of a pure operation (None when it is not one)."""
    if op.writes or op.outputs is None or isinstance(op.outputs, list) or _draws(op.function):
        return None
    try:
        key = (op.function, _frozen(op.args), _frozen(op.kwargs), op.scalar)
        hash(key)
    except TypeError:
        return None
    return key


def _frozen(spec):
    if isinstance(spec, Slot):
        return Slot, type(spec).__name__, spec.index
    if isinstance(spec, (list, tuple)):
        return type(spec).__name__, tuple(_frozen(s) for s in spec)
    if isinstance(spec, dict):
        return "dict", tuple(sorted((k, _frozen(v)) for k, v in spec.items()))
    if isinstance(spec, np.ndarray):
        return "array", id(spec)
    if spec is None or isinstance(spec, (bool, int, float, str, slice, type(Ellipsis))):
        return type(spec).__name__, spec if not isinstance(spec, slice) else (spec.start, spec.stop, spec.step)
    return "object", id(spec)


def _kept_or_written(steps, outputs, written=True):
    """The slots whose array must be each replay's own and nobody else's: returned, stored into a tensor, handed to
    a Python call, or (``written``) written — directly or through a view another operation made of it."""
    escaping = set(outputs)
    for step in steps:
        if isinstance(step, Op) and written:
            escaping.update(step.writes)
            if step.writes:                              # it may write what it is given
                escaping |= _slots_in(step.args) | _slots_in(step.kwargs)
        elif isinstance(step, Store) and step.slot is not None:
            escaping.add(step.slot)
        elif isinstance(step, Call):
            escaping |= _slots_in(list(step.args)) | _slots_in(step.kwargs)
    for step in reversed(steps):                         # an array escapes with a view made of it
        if isinstance(step, Op) and not _fresh(step.function) and _produced(step) & escaping:
            escaping |= _slots_in(step.args) | _slots_in(step.kwargs)
    return escaping


def folded(steps, outputs, origin):
    """Operations on constants alone replaced by their recorded results (the seed of a backward, a constant's
    conversion, the class indices a one-hot compares with): a replay would compute the same array every time.
    Only for a result that is only read: one the step writes into, keeps (a store, a Python call's argument) or
    returns — directly or through a view an operation makes of it — must be an array of each replay's own."""
    escaping = _kept_or_written(steps, outputs)
    values, kept = {}, []
    for step in steps:
        if isinstance(step, Op) and _key(step) is not None and isinstance(step.outputs, int) \
                and step.outputs not in escaping and step.outputs in origin \
                and not (_slots_in(list(step.args)) | _slots_in(step.kwargs)) - set(values):
            values[step.outputs] = origin[step.outputs]
            continue
        kept.append(step)
    return kept, values


def scalars_kept(steps, outputs):
    """The results a NumPy function gave as a scalar that may stay one on replay (the recording made each a 0-d
    array, as a tensor needs): those only ufuncs and guards read, which treat a scalar and a 0-d array alike."""
    scalar = {s.outputs for s in steps if isinstance(s, Op) and s.scalar and isinstance(s.outputs, int)}
    for step in steps:
        if isinstance(step, Op):
            if not isinstance(step.function, np.ufunc) or step.writes:
                scalar -= _slots_in(step.args) | _slots_in(step.kwargs)
        elif isinstance(step, Call):
            scalar -= _slots_in(list(step.args)) | _slots_in(step.kwargs)
        elif isinstance(step, Store) and step.slot is not None:
            scalar.discard(step.slot)
    return scalar - set(outputs)


def buffered(steps, outputs, origin):
    """The results that can be written into a buffer allocated once: {slot: buffer}.

    The result of a ufunc or a reduction (``_fresh``: always a new array, never a view) qualifies when nothing
    outlives the replay through it — it is not returned, stored into a tensor, handed to a Python call, nor
    reachable through a view another operation made of it. Its buffer then holds a dead value when the next
    replay writes into it.
    """
    escaping = _kept_or_written(steps, outputs, written=False)     # a write inside one replay is its own
    buffers = {}
    for step in steps:
        if isinstance(step, Op) and _fresh(step.function) \
                and not step.scalar and not step.writes \
                and "out" not in step.kwargs and isinstance(step.outputs, int) and step.outputs not in escaping \
                and isinstance(origin.get(step.outputs), np.ndarray):
            buffers[step.outputs] = np.empty_like(origin[step.outputs])
    return buffers


def gathered(steps, outputs, origin):
    """The joins ``concatenate(parts, axis=None)`` whose parts can be computed straight into the joined array.

    The optimizer joins the gradients end to end each step (a copy of all of them); when each part is a fresh
    ufunc result of the join's dtype, made for nothing else, the replay instead allocates the joined array
    first and each part is computed into its slice (``out=``), a view the gradient tensor then holds. A new
    joined array each replay, so a gradient kept from an earlier step keeps its values. Nothing may write into
    the join or a view made of it (a part may be written: the join sees it, as eager's copy would).

    Returns ``{part slot: (join slot, start, stop, shape)}`` and ``{join slot: (first part's slot, size, dtype)}``.
    """
    made = {}
    for step in steps:
        if isinstance(step, Op) and isinstance(step.outputs, int):
            made[step.outputs] = step
    parts, joins, taken = {}, {}, set()
    for n, step in enumerate(steps):
        if not (isinstance(step, Op) and step.function is np.concatenate and step.kwargs == {"axis": None}
                and len(step.args) == 1 and isinstance(step.args[0], list) and not step.writes
                and isinstance(step.outputs, int) and isinstance(origin.get(step.outputs), np.ndarray)):
            continue
        join, dtype = step.outputs, origin[step.outputs].dtype
        slots = [a.index for a in step.args[0] if type(a) is Slot]
        if len(slots) != len(step.args[0]) or len(set(slots)) != len(slots) or set(slots) & taken \
                or not all(_computable_into(made.get(s), origin.get(s), dtype) for s in slots) \
                or set(slots) & set(outputs) or _written_through(join, steps[n + 1:]):
            continue
        start = 0
        for s in slots:
            size = origin[s].size
            parts[s] = (join, start, start + size, origin[s].shape)
            start += size
        joins[join] = (min(slots, key=lambda s: steps.index(made[s])), start, dtype)
        taken.update(slots)
    return parts, joins


def _computable_into(step, value, dtype):
    """Whether ``step`` makes ``value`` fresh and can be told where to write it (a ufunc or a reduction)."""
    return step is not None and _fresh(step.function) \
        and not step.scalar and not step.writes and "out" not in step.kwargs \
        and isinstance(value, np.ndarray) and value.dtype == dtype


def _written_through(slot, steps):
    """Whether a step writes into ``slot`` or into a view an operation makes of it (or hands one to a call)."""
    reached = {slot}
    for step in steps:
        if isinstance(step, Op):
            used = _slots_in(step.args) | _slots_in(step.kwargs)
            if set(step.writes) & reached:
                return True
            if used & reached and not _fresh(step.function):
                reached |= _produced(step)
        elif isinstance(step, Call) and (_slots_in(list(step.args)) | _slots_in(step.kwargs)) & reached:
            return True
        elif isinstance(step, Store) and step.slot in reached:
            return True
    return False


def compile_program(steps, outputs, wrap, arrays, origin=None):
    """The replay function of ``steps``; ``outputs`` are the slots the step returned; ``wrap(array, device)``
    makes a gradient tensor (``Tensor._wrap``); ``arrays`` (``arrays.NumpyArrays`` or ``StrictArrays``) says
    whether a tensor's array is the NumPy array or wraps it (then ``outer`` wraps a result as the device does)."""
    names = {"GuardFailed": GuardFailed, "asarray": np.asarray, "wrap": wrap, "outer": arrays.outer}
    inner = "._array" if arrays.wraps else ""

    def outer(value):
        return f"outer({value})" if arrays.wraps else value

    counters = {}
    by_id = {}

    def name(prefix, value):
        key = (prefix, id(value))
        found = by_id.get(key)
        if found is None:
            counters[prefix] = counters.get(prefix, -1) + 1
            found = by_id[key] = f"{prefix}{counters[prefix]}"
            names[found] = value
        return found

    constants = []

    def source_of(spec):
        if isinstance(spec, Live):
            return name("K", spec.array)
        if isinstance(spec, OuterSlot):
            return f"outer(v{spec.index})"
        if isinstance(spec, Slot):
            return repr(spec)
        if isinstance(spec, list):
            return "[" + ", ".join(source_of(s) for s in spec) + "]"
        if isinstance(spec, tuple):
            return "(" + "".join(source_of(s) + ", " for s in spec) + ")"
        if isinstance(spec, dict):
            return "{" + ", ".join(f"{k!r}: {source_of(v)}" for k, v in spec.items()) + "}"
        if spec is None or isinstance(spec, (bool, int, str)) and not isinstance(spec, np.generic):
            return repr(spec)
        constants.append(spec)
        return name("K", spec)

    def by_reference(value):
        """A Python call's argument: the very object (a group dict a scheduler changes stays that dict)."""
        if value is None or isinstance(value, (bool, int, str)):
            return repr(value)
        return name("K", value)

    def place(source):
        kind, where = source
        return f"A[{where}]" if kind == "arg" else name("T", where)

    steps = without_overwritten_clears(steps)
    if not arrays.wraps:                                 # the CPU's namespace (a strict device's calls are NumPy's)
        steps = lowered(steps, arrays.backend.xp)
    steps, outputs = shared(hoisted(steps), outputs)
    steps, values = folded(steps, outputs, origin or {})
    steps = pruned(steps, outputs)
    buffers = buffered(steps, outputs, origin or {})
    parts, joins = gathered(steps, outputs, origin or {}) if not arrays.wraps else ({}, {})
    first_parts = {first: (join, size, dtype) for join, (first, size, dtype) in joins.items()}
    names["empty"] = np.empty
    loose = scalars_kept(steps, outputs)
    lines, changed, guards = [], False, []
    for slot, value in values.items():                 # the folded results: constants, bound once
        names[f"v{slot}"] = value
    live = set()
    for step in steps:
        if isinstance(step, Load):
            live.add(step.slot)
            lines.append(f"v{step.slot} = {place(step.source)}{'._grad' if step.grad else ''}._array{inner}")
        elif isinstance(step, Op):
            single = isinstance(step.outputs, int)
            if single and step.outputs in joins:           # its parts were computed into it
                lines.append(f"v{step.outputs} = j{step.outputs}")
                continue
            if single and step.outputs in first_parts:     # the joined array, before its first part
                join, size, dtype = first_parts[step.outputs]
                lines.append(f"j{join} = empty({size}, {name('D', dtype)})")
            args = [source_of(a) for a in step.args]
            if single and step.outputs in buffers and not step.writes:                # into its buffer
                args.append(f"out={name('B', buffers[step.outputs])}")
            elif single and step.outputs in parts:                    # into its slice of a joined array
                join, start, stop, shape = parts[step.outputs]
                args.append(f"out=j{join}[{start}:{stop}].reshape({shape!r})")
            call = name("F", step.function) + "(" + ", ".join(
                args + [f"{k}={source_of(v)}" for k, v in step.kwargs.items()]) + ")"
            if step.scalar and not (isinstance(step.outputs, int) and step.outputs in loose):
                call = f"asarray({call})"
            if step.outputs is None:
                lines.append(call)
                changed = True                      # a call made for its effect (an optimizer's rule) writes state
            elif isinstance(step.outputs, list):
                lines.append(", ".join(f"v{s}" for s in step.outputs) + ("," if len(step.outputs) == 1 else "")
                             + f" = {call}")
            else:
                lines.append(f"v{step.outputs} = {call}")
            changed = changed or any(s in live for s in step.writes)
        elif isinstance(step, Guard):
            guards.append(step)
            lines.append(f"if {name('R', step.read)}(v{step.slot}) != {source_of(step.value)}: "
                         f"raise GuardFailed({len(guards) - 1}, {changed})")
        elif isinstance(step, Call):
            args = [by_reference(a) for a in step.args] + [f"{k}={by_reference(v)}" for k, v in step.kwargs.items()]
            target = "" if step.output is None else f"v{step.output} = "
            lines.append(f"{target}{name('C', step.function)}({', '.join(args)})  # {step.name}")
            changed = changed or not step.idempotent
        elif isinstance(step, Store):
            target = place(step.source)
            value = outer(f"v{step.slot}")
            if step.kind == "array":
                lines.append(f"{target}._array = {value}")
            elif step.kind == "grad":
                lines.append(f"{target}._grad = wrap({value}, {target}.device)")
            elif step.kind == "grad_array":
                lines.append(f"{target}._grad._array = {value}")
            else:
                lines.append(f"{target}._grad = None")
            changed = True
    lines.append("return [" + ", ".join(outer(f"v{s}") for s in outputs) + "]")
    source = "def replay(A):\n" + "".join(f"    {line}\n" for line in lines)
    exec(compile(source, "<minigrad.jit replay>", "exec"), names)          # noqa: S102 - our own generated code
    return Program(names["replay"], source, guards, constants + list(buffers.values()) + list(values.values()))
