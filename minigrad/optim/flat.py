"""Flat storage: a parameter group's state end to end in one array, so one call of the rule updates many.

A ``FlatGroup`` holds the parameters of one group that share a device and a
dtype. Their optimizer state (exp_avg, …) lives in flat arrays, parameter
after parameter; ``optimizer.state[p]`` holds views of them, under PyTorch's
names. A parameter whose memory nothing else refers to moves into a flat
array of values of the same layout (its ``data`` becomes a view of its slice,
``p.data = …``, PyTorch's public way): no one can tell, and one call of the
rule then updates many parameters in place. A parameter whose memory is also
held elsewhere — a view or alias taken before the first step (``p.detach()``,
``.numpy()``, an early ``state_dict()``), or a parameter that is itself a view
— keeps its memory, as in PyTorch, so those views see every update.

At ``step()`` the parameters with a gradient are grouped into *runs*:
consecutive parameters at the same step count, all moved or all kept. A moved
run is updated in the flat array. A kept parameter that is large is its own
run and is updated where it lives; a run of kept small ones is gathered into
its slice of the flat array, updated, and written back. Gradients of a run of
small parameters are joined into one array (a small copy). Without a compiled
kernel a run is cut into blocks of ``BLOCK`` elements, so that the dozen array
operations of a rule like Adam's work in the processor's cache rather than in
main memory.

If something replaces a parameter's memory (``module.to(...)``, ``p.data = …``)
the group is rebuilt from ``optimizer.state``, which moves the state along.
"""

import math

from minigrad import _dtype
from minigrad.backend.devices import as_device
from minigrad.tensor import Tensor

# elements per block of the plain path: the rule's arrays of a block (1 MB each in float32) stay in the processor's
# caches over its dozen passes, and a block is long enough that the rule's Python runs rarely (W2's eager step:
# 1.07x the limit with 32768, 1.03x with 262144; whole 7 MB arrays, 1.5x)
BLOCK = 262144


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
        self.xp = backend.xp
        self.sizes = [p.numel() for p in self.params]
        self.starts, start = [], 0
        for n in self.sizes:
            self.starts.append(start)
            start += n
        self.size = start
        self.value_dtype = backend.dtype(self.dtype)
        with backend.context():                          # CuPy makes arrays on the current GPU: the group's
            self.values = backend.full_aligned(self.size, 0, self.value_dtype)
            self.moved = self._movable(backend)
            for p, a, moved in zip(self.params, self.starts, self.moved):
                values = self.values[a:a + p.numel()]
                values[...] = self.xp.reshape(p._array, (-1,))
                if moved:
                    p.data = Tensor._wrap(self.xp.reshape(values, p.shape), self.device)
        self._arrays = [p._array for p in self.params]   # each parameter's memory, as the group left it
        self.state = {}                                  # name -> flat array
        self.steps = [0] * len(self.params)              # t, per parameter
        self._new = set()                                # (name, index) of state buffers created but not yet used
        cpu = as_device("cpu").backend
        self._step_array = cpu.xp.zeros(len(self.params), dtype=cpu.dtype(_dtype.float32))
        self._grads = [None] * len(self.params)
        self._complete = None                            # (updated, names) whose state is known to exist

    def intact(self):
        """Whether every parameter still has the memory it had when the group was built."""
        for p, array in zip(self.params, self._arrays):
            if p._array is not array:
                return False
        return True

    def _movable(self, backend):
        """Which parameters may move into the flat array: those owning their memory that nothing else refers to.

        A fresh array held by one tensor alone gives the baseline count of references; a parameter's
        array with more (a detached alias, a NumPy view, a saved state_dict) is held elsewhere.
        """
        probe = Tensor._wrap(self.xp.zeros((1,), dtype=self.value_dtype, device=backend.array_device), self.device)
        alone = backend.references(probe._array)
        return [backend.owns_memory(p._array) and backend.references(p._array) <= alone for p in self.params]

    # ------------------------------------------------------------------ state
    def state_array(self, name, fill):
        """The flat state array ``name``, created filled with ``fill`` on first use."""
        array = self.state.get(name)
        if array is None:
            backend = self.device.backend
            with backend.context():
                array = self.state[name] = backend.full_aligned(self.size, fill, self.value_dtype)
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
                return self.xp.full(p.shape, fill, dtype=self.value_dtype, device=backend.array_device)
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
        sizes, moved = self.sizes, self.moved
        for i in updated:
            n = sizes[i]
            new = bool(self._new) and any((name, i) in self._new for name in names)
            if (current is not None and current.stop == i and current.step == self.steps[i] and current.new_state == new
                    and moved[current.start] == moved[i] and n < BLOCK and current.size < BLOCK):
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
        """Every parameter's values, end to end, copied."""
        return self.xp.concat([self.xp.reshape(p._array, (-1,)) for p in self.params])

    def update_ratios(self, before, updated):
        """‖Δθ‖/‖θ‖ of the last step, per updated parameter."""
        xp, ratios = self.xp, {}
        with self.device.backend.context():
            for i in updated:
                p, a = self.params[i], self.starts[i]
                old = before[a:a + p.numel()]
                delta = float(xp.sum((xp.reshape(p._array, (-1,)) - old) ** 2)) ** 0.5
                weight = float(xp.sum(old * old)) ** 0.5
                ratios[p] = delta / weight if weight > 0 else math.inf
        return ratios

    def as_tensor(self, rate, i):
        """A rate (an array of the parameter's shape, or a number) as a tensor of the parameter's shape."""
        p = self.params[i]
        backend = self.device.backend
        if not hasattr(rate, "shape"):
            rate = self.xp.full(p.shape, rate, dtype=self.value_dtype, device=backend.array_device)
        return Tensor._wrap(self.xp.asarray(self.xp.broadcast_to(rate, p.shape), copy=True), self.device)


class _Run:
    """Parameters start … stop−1 of a flat group, updated together at step ``step``."""

    def __init__(self, flat, i, n, step, new_state):
        self.flat, self.start, self.stop, self.size = flat, i, i + 1, n
        self.step, self.new_state = step, new_state

    def extend(self, i, n):
        self.stop, self.size = i + 1, self.size + n

    def values(self):
        """The run's parameter values as one flat array, and whether they were gathered (to be written back)."""
        flat = self.flat
        xp = flat.xp
        begin, end = flat.starts[self.start], flat.starts[self.start] + self.size
        if flat.moved[self.start]:
            return flat.values[begin:end], False         # they live there
        if self.stop - self.start == 1:
            array = flat.params[self.start]._array
            own = xp.reshape(array, (-1,))
            if flat.device.backend.is_view(own, array):
                return own, False                        # updated where it lives
        gathered = flat.values[begin:end]
        gathered[...] = xp.concat([xp.reshape(p._array, (-1,)) for p in flat.params[self.start:self.stop]])
        return gathered, True

    def write_back(self, gathered):
        """Each parameter's slice of the gathered values into its own memory."""
        flat = self.flat
        offset = flat.starts[self.start]
        for i in range(self.start, self.stop):
            a = flat.starts[i] - offset
            target = flat.params[i]._array
            target[...] = flat.xp.reshape(gathered[a:a + flat.sizes[i]], target.shape)

    def update(self, rule, arguments, kernel, state_names):
        """θ, *state ← rule(θ, g, *state, **arguments) over the run: whole for a compiled kernel, else in
        cache-sized blocks; gathered values go back into the parameters afterwards."""
        flat = self.flat
        xp = flat.xp
        values, gathered = self.values()
        if self.stop - self.start == 1:
            grad = xp.reshape(flat._grads[self.start], (-1,))
        else:
            grad = xp.concat(flat._grads[self.start:self.stop], axis=None)     # axis=None: flattened, end to end
        begin = flat.starts[self.start]
        step = self.size if kernel is not None else BLOCK
        for offset in range(0, self.size, step):
            end = min(offset + step, self.size)
            _Block(flat, begin + offset, begin + end, values[offset:end], grad[offset:end]).update(
                rule, arguments, kernel, state_names)
        if gathered:
            self.write_back(values)


class _Block:
    """One contiguous slice of a run: its parameter values and gradient, and the state's slice a … b."""

    def __init__(self, flat, a, b, param, grad):
        self.flat, self.a, self.b, self.param, self.grad = flat, a, b, param, grad

    def update(self, rule, arguments, kernel, state_names):
        """θ, *state ← rule(θ, g, *state, **arguments), each array written once; absent state is passed as None.

        The rule updates some arrays in place (``m *= β1``) and returns every value; what comes
        back as a new array (AMSGrad's maximum, SGD's first momentum buffer) is written into its
        place here. A compiled kernel writes each array once itself.
        """
        flat, a, b, param = self.flat, self.a, self.b, self.param
        states = [flat.state[name][a:b] if name in flat.state else None for name in state_names]
        if kernel is not None:
            kernel(param, self.grad, *states, **arguments)
            return
        results = rule(param, self.grad, *states, **arguments)
        for target, value in zip((param, *states), results):
            if target is not None and value is not target:
                target[...] = value
