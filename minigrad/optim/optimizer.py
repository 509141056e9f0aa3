"""``Optimizer``: the loop every optimizer shares; each subclass writes only its update rule.

A subclass provides:

* ``rule``: the update as a function of arrays, ``(θ, g, *state, **arguments) → (θ, *state)``,
  written once in the symbols of its docstring (``sgd``, ``adam``, …);
* ``state_names(group)``: the per-element state the rule keeps, in the rule's order;
* ``rule_arguments(group, step, new_state)``: the numbers the rule takes this step
  (η, β, the step count t, …) — fed fresh every step, so a scheduler's change takes effect;
* ``rate(group, state, step)``: the effective learning rate it applies, per element.

``step()`` hands each parameter's values, gradient and state to the rule. For
speed the parameters of a group live in one flat array per device and dtype
(``flat.py``), so small parameters are updated together in one call of the
rule, and large ones in cache-sized blocks; with ``fused`` the rule runs as one
compiled loop (``minigrad/accel/``). Gradients arrive through ``.grad`` as usual.
"""

import copy
import math
import numbers

from minigrad import accel
from minigrad.autograd.grad_mode import enable_grad, no_grad
from minigrad.optim.elementwise import array_math, bound
from minigrad.optim.flat import FlatStorage
from minigrad.tensor import Tensor


class Optimizer:
    """Base class of optimizers, with PyTorch's interface.

    Args:
        params: an iterable of tensors, or of dicts ``{"params": [...], <option>: value}``
            (parameter groups with their own hyperparameters).
        defaults: the hyperparameters a group gets when it does not set them.

    Attributes:
        param_groups: list of dicts holding ``params`` and every hyperparameter (a
            scheduler changes ``group["lr"]`` here).
        state: parameter -> dict of its state tensors (PyTorch's names), created on its first step.
    """

    rule = None
    rule_state = ()              # the rule's state arguments, in order (those a group does not use are passed as 0)
    keeps_step = True            # whether state holds PyTorch's "step" (SGD's does not)

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self.state = {}
        self.param_groups = []
        self._storage = FlatStorage()
        self.track_updates = False
        self.last_update_ratio = {}
        if isinstance(params, Tensor):
            raise TypeError(f"{type(self).__name__}: params must be an iterable of Tensors or dicts, got a Tensor")
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__}: optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join(lines) + "\n)"

    # ================================================================== groups and their hyperparameters
    def add_param_group(self, param_group):
        """Add a group of parameters with its own hyperparameters (missing ones from ``defaults``)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"add_param_group: expected a dict, got {type(param_group).__name__}")
        if "params" not in param_group:
            raise KeyError("add_param_group: the group has no 'params'")
        params = param_group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"{type(self).__name__} can only optimize Tensors, got {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"{type(self).__name__}: can't optimize a non-leaf Tensor")
        group = dict(self.defaults)
        group.update(param_group)
        group["params"] = params
        self.validate(group)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params) or len({id(p) for p in params}) != len(params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    def validate(self, group):
        """Reject bad hyperparameters with a ValueError naming the option and its value."""
        for name, value in group.items():
            if name == "params":
                continue
            values = value if isinstance(value, (tuple, list)) else (value,)
            for v in values:
                if isinstance(v, float) and not math.isfinite(v):
                    raise ValueError(f"{type(self).__name__}: invalid {name} value {value!r} (it must be finite)")
        lr = group.get("lr")
        if not isinstance(lr, (int, float)) or isinstance(lr, bool) or lr < 0:
            raise ValueError(f"Invalid learning rate: {lr!r} (it must be a finite number >= 0)")
        self.check_group(group)

    def check_group(self, group):
        """Subclasses check their own options here (raise ValueError naming the option)."""

    # ================================================================== stepping
    def zero_grad(self, set_to_none=True):
        """Clear every parameter's gradient.

        With ``set_to_none`` (the default) ``.grad`` becomes None and the next backward
        makes a new tensor, so a ``.grad`` kept from before keeps its values; otherwise
        the existing ``.grad`` is zeroed in place.
        """
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    with no_grad():
                        p.grad.zero_()

    def step(self, closure=None):
        """Update every parameter that has a gradient; returns ``closure()``'s loss when given.

        Args:
            closure: a function that re-evaluates the model and returns the loss (it runs with grad mode on).
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():                                  # the update is not part of any graph
            for index, group in enumerate(self.param_groups):
                self._check_lr(index, group)
                for flat in self._storage.groups(self, index):
                    self._step_flat(group, flat)
        return loss

    def _check_lr(self, index, group):
        lr = group["lr"]
        if type(lr) is float and 0 <= lr < math.inf:
            return
        if not isinstance(lr, (int, float)) or not math.isfinite(lr) or lr < 0:
            raise ValueError(f"{type(self).__name__}.step: param_groups[{index}]['lr'] is {lr!r}; the learning rate "
                             "must be a finite number >= 0 (a scheduler with a negative or non-finite factor?)")

    def _step_flat(self, group, flat):
        updated = flat.take_grads(type(self).__name__)
        if not updated:
            return
        names = self.state_names(group)
        if not flat.has_state(updated, names):
            for i in updated:
                self._ensure_state(group, flat, i, names)
        backend = flat.device.backend
        with backend.context():                          # CuPy computes on the current GPU: make it the group's
            before = flat.values_copy() if self.track_updates else None
            kernel = self._kernel(group, flat)
            rule = bound(self.rule, array_math(flat.xp), owner=flat.xp)    # the rule over this device's arrays
            for run in flat.runs(updated, names):
                run.update(rule, self.rule_arguments(group, run.step, run.new_state), kernel, self.rule_state)
        flat.finish_step(updated, names)
        if before is not None:
            self.last_update_ratio.update(flat.update_ratios(before, updated))

    def _kernel(self, group, flat):
        """The compiled kernel for this rule when ``fused`` allows it and it pays (see ``minigrad.accel``)."""
        fused = group.get("fused")
        if fused is False or (fused is None and not accel.worth_it(flat.device, flat.size)):
            return None
        kernel = accel.kernel(self.rule, self.rule_state, flat.device, flat.dtype)
        if kernel is None and fused:
            raise RuntimeError(f"{type(self).__name__}(fused=True): {accel.unavailable_reason(flat.device, flat.dtype)}")
        return kernel

    def _ensure_state(self, group, flat, i, names):
        """Create parameter i's state entries (views of the flat state arrays) on its first step."""
        p = flat.params[i]
        entry = self.state.get(p)
        if entry is None:
            entry = self.state[p] = {}
            if self.keeps_step:
                entry["step"] = flat.step_tensor(i)
        for name in names:
            if name not in entry:
                flat.state_array(name, self.initial_state(group, name))
                flat.mark_new(name, i)
                entry[name] = flat.state_tensor(name, i)

    # ================================================================== for subclasses
    def state_names(self, group):
        """The names of the per-element state buffers the rule keeps, in the rule's argument order."""
        return ()

    def initial_state(self, group, name):
        """The value a state buffer starts from (0 unless the method says otherwise)."""
        return 0.0

    def rule_arguments(self, group, step, new_state):
        """The keyword arguments of ``rule`` for this step: hyperparameters and per-step numbers."""
        raise NotImplementedError(f"{type(self).__name__} must define rule_arguments(group, step, new_state)")  # abstract

    def rate(self, group, state, step):
        """The per-element effective learning rate (an array or a number) given a parameter's state arrays."""
        raise NotImplementedError(f"{type(self).__name__} must define rate(group, state, step)")  # abstract

    # ================================================================== seeing the learning rate
    def effective_lr(self):
        """The per-element step size each parameter is getting now: {parameter: tensor of its shape}.

        η for SGD; η_t/(√s + ε) for Adagrad; η/(√v + ε) for RMSprop; η/(1 − β1ᵗ) / (√v/√(1 − β2ᵗ) + ε)
        for Adam — the very expressions the update rules multiply the gradient (or its
        average) by. Parameters that have not stepped yet report the rate of their first step.
        """
        rates = {}
        with no_grad():
            for index, group in enumerate(self.param_groups):
                names = self.state_names(group)
                for flat in self._storage.groups(self, index):
                    rate = bound(type(self).rate, array_math(flat.xp), owner=flat.xp)  # over this device's arrays
                    with flat.device.backend.context():
                        for i, p in enumerate(flat.params):
                            state = {name: flat.state_view(name, i, self.initial_state(group, name)) for name in names}
                            step = max(flat.steps[i], 1)
                            rates[p] = flat.as_tensor(rate(self, group, state, step), i)
        return rates

    # ================================================================== saving and restoring
    def state_dict(self):
        """``{"state": {index: {...}}, "param_groups": [{..., "params": [indices]}]}``, as in PyTorch.

        NOTE: unlike PyTorch, the state tensors are copies, so a saved state_dict does
        not change as training goes on.
        """
        groups, state, counter = [], {}, 0
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = list(range(counter, counter + len(group["params"])))
            for offset, p in enumerate(group["params"]):
                if p in self.state:
                    state[counter + offset] = {k: v.clone() for k, v in self.state[p].items()}
            counter += len(group["params"])
            groups.append(packed)
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore hyperparameters and state saved by ``state_dict`` (moved to each parameter's device).

        Everything is checked first: on any error the optimizer is left exactly as it was.
        """
        groups, states = self._checked_state_dict(state_dict)
        for saved, own in zip(groups, self.param_groups):
            for key, value in saved.items():
                if key != "params":
                    own[key] = as_betas(value) if key == "betas" else value
        self.state = {}
        self._storage.reset()
        for index, (saved, own) in enumerate(zip(groups, self.param_groups)):
            position_of = {id(p): position for p, position in zip(own["params"], saved["params"])}
            for flat in self._storage.groups(self, index):
                for i, p in enumerate(flat.params):
                    values = states.get(position_of[id(p)])
                    if values:
                        self._load_param_state(own, flat, i, values)

    def _checked_state_dict(self, state_dict):
        name = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state_dict, dict) or "state" not in state_dict or "param_groups" not in state_dict:
            missing = [k for k in ("state", "param_groups") if not isinstance(state_dict, dict) or k not in state_dict]
            raise ValueError(f"{name}: the state dict lacks {', '.join(repr(k) for k in missing)}")
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError(f"{name}: loaded state dict has {len(groups)} parameter groups, the optimizer has "
                             f"{len(self.param_groups)}")
        for saved, own in zip(groups, self.param_groups):
            if len(saved["params"]) != len(own["params"]):
                raise ValueError(f"{name}: loaded state dict contains a parameter group that doesn't match the size "
                                 f"of optimizer's group ({len(saved['params'])} vs {len(own['params'])} parameters)")
            trial = dict(own)
            trial.update({k: (as_betas(v) if k == "betas" else v) for k, v in saved.items() if k != "params"})
            self.validate(trial)
        states = {int(k): v for k, v in state_dict["state"].items()}
        for saved, own in zip(groups, self.param_groups):
            trial = dict(own)
            trial.update({k: v for k, v in saved.items() if k != "params"})
            allowed = set(self.state_names(trial)) | {"step"}
            for position, p in zip(saved["params"], own["params"]):
                for key, value in states.get(position, {}).items():
                    if key not in allowed:
                        raise ValueError(f"{name}: unexpected state {key!r} for parameter {position} (the "
                                         "optimizer's options do not use it)")
                    if key != "step" and tuple(value.shape) != tuple(p.shape):
                        raise ValueError(f"{name}: state {key!r} of parameter {position} has shape "
                                         f"{tuple(value.shape)}, expected {tuple(p.shape)}")
        return groups, states

    def _load_param_state(self, group, flat, i, values):
        p = flat.params[i]
        step = values.get("step")
        flat.steps[i] = int(float(step.item() if isinstance(step, Tensor) else step)) if step is not None else 1
        entry = self.state[p] = {}
        if self.keeps_step:
            entry["step"] = flat.step_tensor(i)
        for name in self.state_names(group):
            if name in values:
                flat.state_array(name, self.initial_state(group, name))
                flat.load_state(name, i, values[name])
                entry[name] = flat.state_tensor(name, i)

    def __deepcopy__(self, memo):
        """A copy with state of its own (``copy.deepcopy(optimizer)``, e.g. beside a copied model)."""
        out = object.__new__(type(self))
        memo[id(self)] = out
        for key, value in self.__dict__.items():
            out.__dict__[key] = FlatStorage() if key == "_storage" else copy.deepcopy(value, memo)
        return out

    def __getstate__(self):
        raise TypeError("optimizers are not pickled: save optimizer.state_dict() with minigrad.save")


def check_non_negative(group, *names):
    """A ValueError for the first option among ``names`` that is negative."""
    for name in names:
        if group[name] < 0:
            label = "epsilon" if name == "eps" else name              # PyTorch's wording
            raise ValueError(f"Invalid {label} value: {group[name]}")


def as_betas(betas):
    """``betas`` as the tuple (β1, β2), or an error naming betas and the value given."""
    if isinstance(betas, str) or not hasattr(betas, "__iter__"):
        raise TypeError(f"betas must be a pair of numbers (β1, β2), got {betas!r}")
    betas = tuple(betas)
    if len(betas) != 2:
        raise ValueError(f"betas must be a pair of numbers (β1, β2), got {betas!r}")
    if not all(isinstance(b, numbers.Real) for b in betas):
        raise TypeError(f"betas must be a pair of numbers (β1, β2), got {betas!r}")
    return betas


def check_betas(group):
    beta1, beta2 = as_betas(group["betas"])
    if not 0.0 <= beta1 < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {beta1}")
    if not 0.0 <= beta2 < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {beta2}")
