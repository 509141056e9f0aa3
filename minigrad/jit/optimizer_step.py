"""``optimizer.step()`` in a recording: the update rule as one call, with its step's numbers read afresh.

Replaying ``optimizer.step()`` as a Python call runs the optimizer's whole loop
again — groups, storage checks, run planning — about as long, on a small model,
as the arithmetic of the step. The recording instead keeps what must happen and
nothing else (the optimizer's code is not changed; its own methods are recorded):

* ``flat.take_grads`` and ``flat.finish_step``: replayed as what is left of them once
  the recording has fixed which parameters get a gradient (``StepsAdvance``,
  ``StepFinished``), so step counts, the ``state["step"]`` values and the parameters'
  versions advance as in eager;
* ``optimizer.rule_arguments(group, t, …)``: called afresh on every replay with the
  run's step count t as it is then — η from the group (a scheduler may have moved
  it), the bias corrections of step t;
* the gradients gathered into one flat array: recorded array operations;
* ``_Block.update``: the rule over the block's parameter values, gradient and state,
  one call with those numbers (``BlockRule``: the rule's NumPy kernel, or the rule
  itself) — the arithmetic on numbers inside the rule runs again, so nothing computed
  from η or t is frozen.

A step this cannot record (``track_updates``, a closure, parameters kept outside the
flat array) is replayed as one ``optimizer.step()`` call instead.
"""

import numpy as np

from minigrad.accel.kernel_source import numpy_kernel
from minigrad.accel.trace import TraceError, options_of, trace
from minigrad.jit.record import Call, Live, Op, Slot, current
from minigrad.optim import flat as flat_storage
from minigrad.optim.optimizer import Optimizer


class FreshNumbers:
    """``optimizer.rule_arguments(group, t, new_state)`` with t the run's step count at the time of the call."""

    __slots__ = ("optimizer", "group", "flat", "start", "new_state")

    def __init__(self, optimizer, group, flat, start, new_state):
        self.optimizer, self.group, self.flat, self.start, self.new_state = optimizer, group, flat, start, new_state

    def __call__(self):
        return self.optimizer.rule_arguments(self.group, self.flat.steps[self.start], self.new_state)

    def __eq__(self, other):
        return type(other) is FreshNumbers and (other.optimizer, other.flat, other.start, other.new_state) == (
            self.optimizer, self.flat, self.start, self.new_state) and other.group is self.group

    __hash__ = None


class BlockRule:
    """The update of one block: ``_Block(flat, a, b, θ, g).update(rule, numbers, kernel, state_names)``.

    On NumPy arrays without a compiled kernel, the rule runs as its NumPy kernel (``numpy_kernel``: the rule's
    own ufunc calls written out from its trace, into the state's slices and work arrays this block keeps) while
    the step's options are the recorded ones and the state arrays the same; otherwise as the plain rule.
    """

    __slots__ = ("flat", "a", "b", "rule", "kernel", "state_names", "fast", "states", "work")

    def __init__(self, flat, a, b, rule, kernel, state_names, numbers=None, param=None):
        self.flat, self.a, self.b, self.rule = flat, a, b, rule
        self.kernel, self.state_names = kernel, state_names
        self.fast = self.states = self.work = None
        if kernel is None and numbers is not None and type(param) is np.ndarray:
            present = tuple(name in flat.state for name in state_names)
            self.fast = _numpy_kernel(getattr(rule, "__wrapped__", rule), state_names, present, numbers)
            self.states = [(name, flat.state[name], flat.state[name][a:b])
                           for name, here in zip(state_names, present) if here]

    def __call__(self, param, grad, numbers):
        fast = self.fast
        if fast is not None and self._states_intact():
            if self.work is None:
                self.work = [np.empty_like(param) for _ in range(fast.buffers)]
            if fast.function(numbers, self.work, param, grad, *[view for _, _, view in self.states]):
                return
        flat_storage._Block(self.flat, self.a, self.b, param, grad).update(
            self.rule, numbers, self.kernel, self.state_names)

    def __eq__(self, other):
        return type(other) is BlockRule and (other.flat, other.a, other.b, other.kernel, other.state_names) == (
            self.flat, self.a, self.b, self.kernel, self.state_names) and \
            getattr(other.rule, "__wrapped__", other.rule) is getattr(self.rule, "__wrapped__", self.rule)

    __hash__ = None

    @property
    def held(self):
        """The work arrays this block's kernel keeps between replays."""
        return self.work or ()

    def _states_intact(self):
        state = self.flat.state
        for name, whole, _ in self.states:
            if state.get(name) is not whole:
                return False
        return True


_numpy_kernels = {}       # (rule, state names, which are present, options) -> its NumpyKernel, or None


def _numpy_kernel(rule, state_names, present, numbers):
    """The NumPy kernel of ``rule`` in the configuration ``numbers`` has (None where the rule cannot be traced)."""
    options = options_of(numbers)
    key = (rule, state_names, present, options)
    if key not in _numpy_kernels:
        try:
            _numpy_kernels[key] = numpy_kernel(trace(rule, state_names, present, numbers), options)
        except TraceError:
            _numpy_kernels[key] = None
    return _numpy_kernels[key]


class StepsAdvance:
    """``flat.take_grads`` on replay: the parameters that had a gradient in the recording have one again (the
    replay stored it, of the recorded shape), so what is left is their step counts t ← t + 1."""

    __slots__ = ("flat", "updated")

    def __init__(self, flat, updated):
        self.flat, self.updated = flat, tuple(updated)

    def __call__(self):
        steps = self.flat.steps
        for i in self.updated:
            steps[i] += 1

    def __eq__(self, other):
        return type(other) is StepsAdvance and other.flat is self.flat and other.updated == self.updated

    __hash__ = None


class StepFinished:
    """``flat.finish_step(updated, names)`` on replay: each updated parameter's version and ``state["step"]``
    advance; its state is known to exist."""

    __slots__ = ("flat", "updated", "names")

    def __init__(self, flat, updated, names):
        self.flat, self.updated, self.names = flat, tuple(updated), names

    def __call__(self):
        flat = self.flat
        params, steps, step_array = flat.params, flat.steps, flat._step_array
        for i in self.updated:
            params[i]._version_counter().value += 1
            step_array[i] = steps[i]
        if flat._new:
            flat._new.clear()
        flat.state_complete(self.updated, self.names)

    def __eq__(self, other):
        return type(other) is StepFinished and other.flat is self.flat and (other.updated, other.names) == (
            self.updated, self.names)

    __hash__ = None


class _Numbers(dict):
    """``rule_arguments``' dict in a recording, knowing the Call that makes it on replay."""

    call = None
    slot = None


def recordable(optimizer):
    """Whether ``optimizer.step()`` can be recorded as its rule calls (else it is replayed as one call)."""
    if optimizer.track_updates or type(optimizer).step is not Optimizer.step:
        return False
    flats = [flat for flats in optimizer._storage._flats.values() for flat in flats]
    return bool(flats) and len(optimizer._storage._flats) == len(optimizer.param_groups) and \
        all(all(flat.moved) for flat in flats)


def record_step(optimizer, real_step, recording):
    """Run ``optimizer.step()`` once, recording its bookkeeping calls, its numbers and its rule calls."""
    flats = [flat for flats in optimizer._storage._flats.values() for flat in flats]
    patched = []

    def as_call(owner, name, replayed=None):
        """``owner.name`` recorded as a call of itself, or of ``replayed(owner, *args, result)`` (its lean form)."""
        real = getattr(owner, name)

        def call(*args):
            recording.depth += 1
            try:
                result = real(*args)
            finally:
                recording.depth -= 1
            if replayed is None:
                recording.steps.append(Call(real, args, {}, f"{type(owner).__name__}.{name}"))
            else:
                recording.steps.append(Call(replayed(owner, args, result), (), {}, f"{type(owner).__name__}.{name}"))
            return result

        setattr(owner, name, call)
        patched.append((owner, name))

    for flat in flats:
        as_call(flat, "take_grads", lambda flat, args, updated: StepsAdvance(flat, updated))
        as_call(flat, "finish_step", lambda flat, args, result: StepFinished(flat, *args))
    as_call(optimizer, "_check_lr")
    real_arguments = optimizer.rule_arguments

    def rule_arguments(group, step, new_state):
        numbers = _Numbers(real_arguments(group, step, new_state))
        numbers.call = Call(None, (), {}, f"{type(optimizer).__name__}.rule_arguments")
        numbers.call.output = numbers.slot = recording.new_slot()
        numbers.group = group
        recording.steps.append(numbers.call)
        return numbers

    optimizer.rule_arguments = rule_arguments
    patched.append((optimizer, "rule_arguments"))
    run_update, block_update = flat_storage._Run.update, flat_storage._Block.update

    def recorded_run_update(run, rule, arguments, kernel, state_names):
        if current() is recording and isinstance(arguments, _Numbers) and not recording.depth:
            arguments.call.function = FreshNumbers(optimizer, arguments.group, run.flat, run.start, run.new_state)
        return run_update(run, rule, arguments, kernel, state_names)

    def recorded_block_update(block, rule, arguments, kernel, state_names):
        if current() is not recording or recording.depth or not isinstance(arguments, _Numbers):
            return block_update(block, rule, arguments, kernel, state_names)
        grad = recording.describe(block.grad)
        recording.steps.append(Op(BlockRule(block.flat, block.a, block.b, rule, kernel, state_names, arguments,
                                            block.param),
                                  (Live(block.param), grad, Slot(arguments.slot)), {}, None))
        recording.depth += 1
        try:
            return block_update(block, rule, dict(arguments), kernel, state_names)
        finally:
            recording.depth -= 1

    flat_storage._Run.update, flat_storage._Block.update = recorded_run_update, recorded_block_update
    try:
        return real_step()
    finally:
        flat_storage._Run.update, flat_storage._Block.update = run_update, block_update
        for owner, name in patched:
            vars(owner).pop(name, None)
        for flat in flats:                               # the recorded run's gradients: not held past the step
            flat._grads = [None] * len(flat.params)
