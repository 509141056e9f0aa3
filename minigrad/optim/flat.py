"""Flat storage: a parameter group's tensors end to end in one array, so one call of the rule updates many.

A ``FlatGroup`` holds the parameters of one group that share a device and a
dtype. Their values are copied into one flat array and each parameter's
``data`` becomes a view of its slice (``p.data = …``, PyTorch's public way),
so updating the flat array updates every parameter in place. Optimizer state
(exp_avg, …) lives in flat arrays of the same layout; ``optimizer.state[p]``
holds views of them, under PyTorch's names.

At ``step()`` the parameters with a gradient are grouped into *runs*:
consecutive parameters at the same step count. A run of small parameters
gets its gradients joined into one array (a small copy) and is updated in one
call of the rule; a large parameter is its own run and reads its ``.grad``
directly. Without a compiled kernel a run is cut into blocks of ``BLOCK``
elements, so that the dozen array operations of a rule like Adam's work in
the processor's cache rather than in main memory.

If something replaces a parameter's memory (``module.to(...)``, ``p.data = …``)
the group is rebuilt from ``optimizer.state``, which moves the state along.
"""

import math

from minigrad import _dtype
from minigrad.backend.devices import as_device
from minigrad.tensor import Tensor

BLOCK = 32768          # elements per block of the plain path: the rule's arrays of it stay in the cache


class FlatStorage:
    """The flat groups of every parameter group of one optimizer, built on first use."""

    def __init__(self):
        self._flats = {}

    def reset(self):
        self._flats = {}

    def groups(self, optimizer, index):
        flats = self._flats.get(index)
        if flats is None or not self._intact(flats):
            flats = self._flats[index] = self._build(optimizer, index)
        return flats

    @staticmethod
    def _intact(flats):
        for flat in flats:
            if not flat.intact():
                return False
        return True

    @staticmethod
    def _build(optimizer, index):
        group = optimizer.param_groups[index]
        by_kind = {}
        for p in group["params"]:
            by_kind.setdefault((str(p.device), p.dtype.name), []).append(p)
        flats = [FlatGroup(params) for params in by_kind.values()]
        for flat in flats:                               # state found in optimizer.state moves into the new arrays
            for i, p in enumerate(flat.params):
                entry = optimizer.state.get(p)
                if entry:
                    flat.adopt_state(i, entry, lambda name: optimizer.initial_state(group, name))
        return flats


class FlatGroup:
    """The parameters of one group on one device with one dtype, their values and state in flat arrays."""

    def __init__(self, params):
        first = params[0]
        self.params = list(params)
        self.device = first.device
        self.dtype = first.dtype
        backend = self.device.backend
        self.xp = xp = backend.xp
        self.sizes = [p.numel() for p in self.params]
        self.starts, start = [], 0
        for n in self.sizes:
            self.starts.append(start)
            start += n
        self.size = start
        self.values = None
        with backend.context():                          # CuPy makes arrays on the current GPU: the group's
            if self.params:
                self.values = backend.full_aligned(self.size, 0, backend.dtype(self.dtype))
                self.values[...] = xp.concat([xp.reshape(p._array, (-1,)) for p in self.params])
            for p, a in zip(self.params, self.starts):
                p.data = Tensor._wrap(xp.reshape(self.values[a:a + p.numel()], p.shape), self.device)
        self._views = [p._array for p in self.params]
        self.state = {}                                  # name -> flat array
        self.steps = [0] * len(self.params)              # t, per parameter
        self._new = set()                                # (name, index) of state buffers created but not yet used
        cpu = as_device("cpu").backend
        self._step_array = cpu.xp.zeros(len(self.params), dtype=cpu.dtype(_dtype.float32))
        self._grads = [None] * len(self.params)
        self._complete = None                            # (updated, names) whose state is known to exist

    def intact(self):
        """Whether every parameter still lives in this group's flat array."""
        for p, view in zip(self.params, self._views):
            if p._array is not view:
                return False
        return True

    # ------------------------------------------------------------------ state
    def state_array(self, name, fill):
        """The flat state array ``name``, created filled with ``fill`` on first use."""
        array = self.state.get(name)
        if array is None:
            backend = self.device.backend
            with backend.context():
                array = self.state[name] = backend.full_aligned(self.size, fill, self.values.dtype)
        return array

    def state_tensor(self, name, i):
        """Parameter i's slice of state ``name``, as a tensor of the parameter's shape (a view)."""
        return Tensor._wrap(self.state_view(name, i, None), self.device)

    def state_view(self, name, i, fill):
        """Parameter i's slice of state ``name``, or a new array of ``fill`` where the state does not exist yet."""
        array = self.state.get(name)
        p = self.params[i]
        if array is None:
            backend = self.device.backend
            with backend.context():
                return self.xp.full(p.shape, fill, dtype=self.values.dtype, device=backend.array_device)
        a = self.starts[i]
        return self.xp.reshape(array[a:a + p.numel()], p.shape)

    def step_tensor(self, i):
        """Parameter i's step count t as a 0-d float32 CPU tensor (PyTorch's "step"), kept up to date."""
        cpu = as_device("cpu")
        return Tensor._wrap(cpu.backend.xp.reshape(self._step_array[i:i + 1], ()), cpu)

    def mark_new(self, name, i):
        self._new.add((name, i))
        self._complete = None

    def has_state(self, updated, names):
        """Whether every updated parameter already has all the state ``names`` (the usual case after step 1)."""
        key = (tuple(updated), names)
        return self._complete == key and all(name in self.state for name in names)

    def state_complete(self, updated, names):
        self._complete = (tuple(updated), names)

    def load_state(self, name, i, value):
        """Copy a saved state tensor into parameter i's slice (moved to this device and dtype)."""
        p, a = self.params[i], self.starts[i]
        moved = value.detach().to(self.device).to(self.dtype)
        with self.device.backend.context():
            self.state[name][a:a + p.numel()] = self.xp.reshape(moved._array, (-1,))

    def adopt_state(self, i, entry, initial):
        """Take parameter i's state from an ``optimizer.state`` entry (e.g. after the parameter moved)."""
        for name, value in list(entry.items()):
            if name == "step":
                self.steps[i] = int(float(value.item()))
                entry[name] = self.step_tensor(i)
                continue
            self.state_array(name, initial(name))
            self.load_state(name, i, value)
            entry[name] = self.state_tensor(name, i)
        self._step_array[i] = self.steps[i]

    # ------------------------------------------------------------------ a step
    def take_grads(self, owner):
        """The indices of the parameters that have a gradient (checked against the parameter); their steps advance."""
        updated, grads, steps = [], self._grads, self.steps
        for i, p in enumerate(self.params):
            g = p._grad
            if g is None:
                grads[i] = None
                continue
            array = g._array
            if array.shape != p._array.shape or array.dtype != p._array.dtype or g.device is not p.device:
                if g.shape != p.shape or g.dtype is not p.dtype or g.device != p.device:
                    raise RuntimeError(f"{owner}.step: parameter {i} of shape {tuple(p.shape)} ({p.dtype} on "
                                       f"{p.device}) has a gradient of shape {tuple(g.shape)} ({g.dtype} on {g.device})")
            grads[i] = array
            steps[i] += 1
            updated.append(i)
        return updated

    def runs(self, updated, names):
        """Stretches of consecutive parameters to update together: each with a gradient, at one step count."""
        runs, current = [], None
        sizes = self.sizes
        for i in updated:
            n = sizes[i]
            new = bool(self._new) and any((name, i) in self._new for name in names)
            if (current is not None and current.stop == i and current.step == self.steps[i]
                    and current.new_state == new and n < BLOCK and current.size < BLOCK):
                current.extend(i, n)
            else:
                current = _Run(self, i, n, self.steps[i], new)
                runs.append(current)
        return runs

    def finish_step(self, updated, names):
        """Count the in-place change of every updated parameter; record the step counts."""
        for i in updated:
            self.params[i]._version_counter().value += 1
            self._step_array[i] = self.steps[i]
        self._new.clear()
        self.state_complete(updated, names)

    # ------------------------------------------------------------------ seeing the learning rate
    def values_copy(self):
        return self.xp.asarray(self.values, copy=True)

    def update_ratios(self, before, updated):
        """‖Δθ‖/‖θ‖ of the last step, per updated parameter."""
        xp, ratios = self.xp, {}
        with self.device.backend.context():
            for i in updated:
                p, a = self.params[i], self.starts[i]
                old = before[a:a + p.numel()]
                delta = float(xp.sum((self.values[a:a + p.numel()] - old) ** 2)) ** 0.5
                weight = float(xp.sum(old * old)) ** 0.5
                ratios[p] = delta / weight if weight > 0 else math.inf
        return ratios

    def as_tensor(self, rate, i):
        """A rate (an array of the parameter's shape, or a number) as a tensor of the parameter's shape."""
        p = self.params[i]
        backend = self.device.backend
        if not hasattr(rate, "shape"):
            rate = self.xp.full(p.shape, rate, dtype=self.values.dtype, device=backend.array_device)
        return Tensor._wrap(self.xp.asarray(self.xp.broadcast_to(rate, p.shape), copy=True), self.device)


class _Run:
    """Parameters start … stop−1 of a flat group, updated together at step ``step``."""

    def __init__(self, flat, i, n, step, new_state):
        self.flat, self.start, self.stop, self.size = flat, i, i + 1, n
        self.step, self.new_state = step, new_state

    def extend(self, i, n):
        self.stop, self.size = i + 1, self.size + n

    def blocks(self, kernel):
        """The run as (param, grad, state) array slices: whole for a compiled kernel, else cache-sized blocks."""
        flat = self.flat
        xp = flat.xp
        if self.stop - self.start == 1:
            grad = xp.reshape(flat._grads[self.start], (-1,))
        else:
            grad = xp.concat(flat._grads[self.start:self.stop], axis=None)     # axis=None: flattened, end to end
        begin = flat.starts[self.start]
        step = self.size if kernel is not None else BLOCK
        for offset in range(0, self.size, step):
            end = min(offset + step, self.size)
            yield _Block(flat, begin + offset, begin + end, grad[offset:end])


class _Block:
    """One contiguous slice of the flat arrays, and the gradient for it."""

    def __init__(self, flat, a, b, grad):
        self.flat, self.a, self.b, self.grad = flat, a, b, grad

    def update(self, rule, arguments, kernel, state_names):
        """θ, *state ← rule(θ, g, *state, **arguments), each array written once; absent state is passed as None.

        The rule updates some arrays in place (``m *= β1``) and returns every value; what comes
        back as a new array (AMSGrad's maximum, SGD's first momentum buffer) is written into its
        place here. A compiled kernel writes each array once itself.
        """
        flat, a, b = self.flat, self.a, self.b
        param = flat.values[a:b]
        states = [flat.state[name][a:b] if name in flat.state else None for name in state_names]
        if kernel is not None:
            kernel(param, self.grad, *states, **arguments)
            return
        results = rule(param, self.grad, *states, **arguments)
        for target, value in zip((param, *states), results):
            if target is not None and value is not target:
                target[...] = value
