"""``optimizer.step()`` in a recording: the update rule as one call, with its step's numbers read afresh.

Replaying ``optimizer.step()`` as a Python call runs the optimizer's whole loop
again — groups, storage checks, run planning — about as long, on a small model,
as the arithmetic of the step. The recording instead keeps what must happen and
nothing else (the optimizer's code is not changed; its own methods are recorded):

* ``flat.take_grads`` and ``flat.finish_step``: called as they are, so step counts,
  the ``state["step"]`` values and the parameters' versions advance as in eager;
* ``optimizer.rule_arguments(group, t, …)``: called afresh on every replay with the
  run's step count t as it is then — η from the group (a scheduler may have moved
  it), the bias corrections of step t;
* the gradients gathered into one flat array: recorded array operations;
* ``_Block.update``: the rule itself over the block's parameter values, gradient and
  state, one call with those numbers — the Python arithmetic on numbers inside the
  rule runs again, so nothing computed from η or t is frozen.

A step this cannot record (``track_updates``, a closure, parameters kept outside the
flat array) is replayed as one ``optimizer.step()`` call instead.
"""

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
    """The update of one block: ``_Block(flat, a, b, θ, g).update(rule, numbers, kernel, state_names)``."""

    __slots__ = ("flat", "a", "b", "rule", "kernel", "state_names")

    def __init__(self, flat, a, b, rule, kernel, state_names):
        self.flat, self.a, self.b, self.rule = flat, a, b, rule
        self.kernel, self.state_names = kernel, state_names

    def __call__(self, param, grad, numbers):
        flat_storage._Block(self.flat, self.a, self.b, param, grad).update(
            self.rule, numbers, self.kernel, self.state_names)

    def __eq__(self, other):
        return type(other) is BlockRule and (other.flat, other.a, other.b, other.kernel, other.state_names) == (
            self.flat, self.a, self.b, self.kernel, self.state_names) and \
            getattr(other.rule, "__wrapped__", other.rule) is getattr(self.rule, "__wrapped__", self.rule)

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

    def as_call(owner, name):
        real = getattr(owner, name)

        def call(*args):
            recording.depth += 1
            try:
                result = real(*args)
            finally:
                recording.depth -= 1
            recording.steps.append(Call(real, args, {}, f"{type(owner).__name__}.{name}"))
            return result

        setattr(owner, name, call)
        patched.append((owner, name))

    for flat in flats:
        as_call(flat, "take_grads")
        as_call(flat, "finish_step")
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
        recording.steps.append(Op(BlockRule(block.flat, block.a, block.b, rule, kernel, state_names),
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
