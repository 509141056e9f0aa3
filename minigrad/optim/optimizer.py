"""``Optimizer``: the loop every optimizer shares; subclasses write only their update rule.

For each parameter group, the parameters are kept in flat buffers (see
``_flat.py``), so a step is a few whole-array operations however many tensors
the model has. Each subclass provides:

* ``state_buffers(group)``: the names and initial values of its per-element state;
* ``update(group, run)``: the rule, in place, on one ``Run`` of flat arrays —
  through the backend's fused kernel when one is available, else in plain
  array operations;
* ``rate(group, run)``: the per-element step size it is applying (for ``effective_lr``).
"""

import math

from minigrad.autograd.grad_mode import config, enable_grad, no_grad
from minigrad.optim._flat import FlatBucket
from minigrad.tensor import Tensor, clear_grads


class Optimizer:
    """Base class of optimizers, with PyTorch's interface.

    Args:
        params: an iterable of tensors, or of dicts ``{"params": [...], <option>: value}``
            (parameter groups with their own hyperparameters).
        defaults: the hyperparameters a group gets when it does not set them.

    Attributes:
        param_groups: list of dicts holding ``params`` and every hyperparameter (a
            scheduler changes ``group["lr"]`` here).
        state: parameter -> dict of its state tensors, created on its first step.
    """

    has_step_count = True  # whether state holds PyTorch's "step" (SGD's does not)

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self.state = {}
        self.param_groups = []
        self._buckets = []  # per group: list of FlatBucket, built on first use
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

    # ------------------------------------------------------------------ groups
    def add_param_group(self, param_group):
        """Add a group of parameters with its own hyperparameters (missing ones from ``defaults``)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"add_param_group: expected a dict, got {type(param_group).__name__}")
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
        self._validate(group)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params) or len({id(p) for p in params}) != len(params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)
        self._buckets.append(None)

    def _validate(self, group):
        """Reject invalid hyperparameters with a ValueError naming the argument (overridden per rule)."""
        if group["lr"] < 0.0:
            raise ValueError(f"Invalid learning rate: {group['lr']}")

    # ------------------------------------------------------------------ stepping
    def zero_grad(self, set_to_none=True):
        """Clear every parameter's gradient (to None by default, or to zeros in place).

        Unlike PyTorch, the next backward writes the new gradient into the same flat
        buffer the old one lived in, so a ``p.grad`` kept from before changes with it;
        keep ``p.grad.clone()`` to hold on to old values.
        """
        for group in self.param_groups:
            clear_grads(group["params"], set_to_none)

    def step(self, closure=None):
        """Update every parameter that has a gradient; returns ``closure()``'s loss when given.

        Args:
            closure: a function that re-evaluates the model and returns the loss
                (it runs with grad mode on).
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        previous, config.grad_enabled = config.grad_enabled, False  # the update is not part of any graph
        try:
            for index, group in enumerate(self.param_groups):
                for bucket in self._group_buckets(index):
                    self._step_bucket(group, bucket)
        finally:
            config.grad_enabled = previous
        return loss

    def _step_bucket(self, group, bucket):
        has_grad = bucket.collect_grads()
        all_have = all(has_grad)
        if not all_have and not any(has_grad):
            return
        if not bucket.all_registered:
            for i, has in enumerate(has_grad):
                if has and bucket.params[i] not in self.state:
                    self._register_state(group, bucket, i)
            bucket.all_registered = all(p in self.state for p in bucket.params)
        if all_have:
            bucket.steps += 1
        else:
            bucket.steps[has_grad] += 1
            bucket.uniform = False
        before = bucket.param.copy() if self.track_updates else None
        kernels = self._kernels(group, bucket)
        for run in bucket.runs(has_grad, all_have, kernels):
            if kernels is not None:
                self.update(group, run)
            else:
                for block in run.blocks():  # cache-sized pieces: the same rule, fewer trips to memory
                    self.update(group, block)
        if before is not None:
            self._record_update_ratio(bucket, before, has_grad)

    def _kernels(self, group, bucket):
        """The backend's fused kernels when ``fused`` asks for them (None: when the backend prefers them)."""
        fused = group.get("fused")
        if fused is False:
            return None
        kernels = bucket.backend.fused_kernels()
        if kernels is None:
            if fused:
                raise RuntimeError(f"{type(self).__name__}(fused=True): no fused kernels on {bucket.device}; "
                                   "install numba (pip install 'minigrad[fast]') or pass fused=None")
            return None
        if bucket.param.dtype.name not in kernels.dtypes:
            if fused:
                raise RuntimeError(f"{type(self).__name__}(fused=True): the {kernels.name} kernels take "
                                   f"{' or '.join(kernels.dtypes)} parameters, not {bucket.param.dtype.name}; "
                                   "pass fused=None to use the plain path for them")
            return None
        return kernels if fused or kernels.preferred else None

    # ------------------------------------------------------------------ flat buffers and state
    def _group_buckets(self, index):
        buckets = self._buckets[index]
        if buckets is None or not all(b.intact() for b in buckets):
            buckets = self._rebuild_buckets(index, buckets)
        return buckets

    def _rebuild_buckets(self, index, old):
        """Put the group's parameters into flat buffers (one per device and dtype), carrying state over."""
        saved = {}
        for bucket in old or ():
            bucket.release()
            for p in bucket.params:
                if p in self.state:
                    saved[p] = {k: (v.detach().to(p.device).to(p.dtype) if k != "step" else float(v.item()))
                                for k, v in self.state.pop(p).items()}
        by_kind = {}
        for p in self.param_groups[index]["params"]:
            by_kind.setdefault((str(p.device), p._array.dtype.str), []).append(p)
        buckets = [FlatBucket(params) for params in by_kind.values()]
        self._buckets[index] = buckets
        for bucket in buckets:
            for i, p in enumerate(bucket.params):
                if p in saved:
                    self._load_param_state(self.param_groups[index], bucket, i, saved[p])
        return buckets

    def _register_state(self, group, bucket, i):
        """Create parameter i's state entries: views of the flat state buffers (made on first need)."""
        entry = {}
        if self.has_step_count:
            entry["step"] = bucket.step_view(i)
        for name, fill in self.state_buffers(group):
            bucket.state_array(name, fill)
            entry[name] = bucket.state_view(name, i)
        self.state[bucket.params[i]] = entry

    def _load_param_state(self, group, bucket, i, values):
        self._register_state(group, bucket, i)
        entry = self.state[bucket.params[i]]
        if "step" in values:
            bucket.steps[i] = float(values["step"].item() if isinstance(values["step"], Tensor) else values["step"])
        elif values:
            bucket.steps[i] = 1.0  # SGD keeps no count; a saved momentum buffer means it has stepped
        bucket.uniform = False
        for name, value in values.items():
            if name == "step":
                continue
            if name not in entry:
                raise ValueError(f"{type(self).__name__}.load_state_dict: unexpected state {name!r} "
                                 f"(the optimizer's options do not use it)")
            if tuple(value.shape) != tuple(entry[name].shape):
                raise ValueError(f"{type(self).__name__}.load_state_dict: state {name!r} has shape "
                                 f"{tuple(value.shape)}, expected {tuple(entry[name].shape)}")
            entry[name].copy_(value)

    # ------------------------------------------------------------------ state_dict
    def state_dict(self):
        """``{"state": {index: {...}}, "param_groups": [{..., "params": [indices]}]}`` as in PyTorch.

        NOTE: unlike PyTorch, the state tensors are copies, so a saved state_dict
        does not change as training goes on.
        """
        index_of, groups, counter = {}, [], 0
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = list(range(counter, counter + len(group["params"])))
            for offset, p in enumerate(group["params"]):
                index_of[id(p)] = counter + offset
            counter += len(group["params"])
            groups.append(packed)
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                if p in self.state:
                    state[index_of[id(p)]] = {k: v.clone() for k, v in self.state[p].items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore hyperparameters and state saved by ``state_dict`` (moved to each parameter's device)."""
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError(f"loaded state dict has {len(groups)} parameter groups, the optimizer has "
                             f"{len(self.param_groups)}")
        for saved, own in zip(groups, self.param_groups):
            if len(saved["params"]) != len(own["params"]):
                raise ValueError("loaded state dict contains a parameter group that doesn't match the size of "
                                 f"optimizer's group ({len(saved['params'])} vs {len(own['params'])} parameters)")
        states = {int(k): v for k, v in state_dict["state"].items()}
        self.state = {}
        for index, (saved, own) in enumerate(zip(groups, self.param_groups)):
            for key, value in saved.items():
                if key != "params":
                    own[key] = tuple(value) if key == "betas" else value
            self._validate(own)
            position_of = {id(p): position for p, position in zip(own["params"], saved["params"])}
            for bucket in self._group_buckets(index):
                bucket.reset_state()  # what is not in the state dict starts afresh
                for i, p in enumerate(bucket.params):
                    position = position_of[id(p)]
                    if position in states:
                        self._load_param_state(own, bucket, i, states[position])

    # ------------------------------------------------------------------ seeing the learning rate
    def effective_lr(self):
        """The per-element step size each parameter is getting now: {parameter: tensor of its shape}.

        η for SGD; η_t/(√s+ε) for Adagrad; η/(√v+ε) for RMSprop; η/(1-β1ᵗ) / (√v/√(1-β2ᵗ) + ε)
        for Adam. Parameters that have not stepped yet report the rate of their first step.
        """
        rates = {}
        with no_grad():
            for index, group in enumerate(self.param_groups):
                for bucket in self._group_buckets(index):
                    for i, p in enumerate(bucket.params):
                        for name, fill in self.state_buffers(group):
                            bucket.state_array(name, fill)
                        run = bucket._run(bucket.slices[i].start, bucket.slices[i].stop, max(float(bucket.steps[i]), 1.0),
                                          None)
                        rate = self.rate(group, run)
                        full = bucket.xp.broadcast_to(bucket.xp.asarray(rate, dtype=run.dtype), run.param.shape)
                        rates[p] = Tensor._wrap(full.reshape(p.shape).copy(), p.device)
        return rates

    def _record_update_ratio(self, bucket, before, has_grad):
        xp = bucket.xp
        for p, sl, has in zip(bucket.params, bucket.slices, has_grad):
            if has:
                delta = float(xp.linalg.norm(bucket.param[sl] - before[sl]))
                weight = float(xp.linalg.norm(before[sl]))
                self.last_update_ratio[p] = delta / weight if weight > 0 else math.inf

    # ------------------------------------------------------------------ for subclasses
    def state_buffers(self, group):
        """(name, initial value) of each per-element state buffer the rule uses."""
        return ()

    def update(self, group, run):
        raise NotImplementedError(f"{type(self).__name__} must define update(group, run)")  # abstract

    def rate(self, group, run):
        raise NotImplementedError(f"{type(self).__name__} must define rate(group, run)")  # abstract


def effective_grad(run, maximize, weight_decay, param_name="param"):
    """g, negated when maximizing, plus λθ when weight decay is on (into scratch, never into .grad)."""
    g = run.grad
    if not maximize and not weight_decay:
        return g
    out = run.scratch[1]
    if maximize:
        run.xp.negative(g, out=out)
    else:
        out[...] = g
    if weight_decay:
        out += weight_decay * run.param
    return out


def grad_expression(maximize, weight_decay):
    """The same g as ``effective_grad``, as text for a fused kernel."""
    g = "(-grad)" if maximize else "grad"
    return f"({g} + weight_decay * param)" if weight_decay else g
