"""Flat buffers: one parameter group's tensors stored end to end, so a step is a handful of array ops.

A ``FlatBucket`` holds the parameters of one group that share a device and a
dtype. Their values are copied into one flat array and each parameter's
array becomes a view of its slice, so updating the flat array updates every
parameter in place. Gradients get the same treatment: each parameter carries a
``_grad_storage`` view of a flat gradient array, which backward fills directly
when ``.grad`` is None. Optimizer state (exp_avg, …) lives in flat arrays of the
same layout, and ``optimizer.state[p]`` holds views of them.

If something replaces a parameter's array (``module.to(...)``, ``p.data = …``),
``intact()`` notices and the optimizer rebuilds the bucket, carrying the state over.
"""

import numpy as np

from minigrad.backend.devices import CPU
from minigrad.tensor import Tensor

# Plain (unfused) updates run over blocks of this many elements, so that the dozen
# passes of a rule like Adam's hit the cache instead of main memory.
BLOCK = 65536


class Run:
    """A stretch of a bucket — consecutive parameters that have a gradient and the same step count.

    Attributes:
        param, grad: flat views of the parameters' values and gradients.
        state: name -> flat view of each state buffer.
        step: t, the step number these parameters are taking (1 on their first step).
        xp: the array module; kernels: the backend's fused kernels, or None.
        scratch: two flat work arrays of the run's size, for the plain path.
    """

    __slots__ = ("param", "grad", "state", "step", "xp", "kernels", "scratch", "dtype")

    def blocks(self, size=BLOCK):
        """This run cut into consecutive pieces of at most ``size`` elements (itself when small)."""
        n = self.param.shape[0]
        if n <= size:
            yield self
            return
        for start in range(0, n, size):
            piece = Run()
            sl = slice(start, min(start + size, n))
            piece.param, piece.grad, piece.step = self.param[sl], self.grad[sl], self.step
            piece.state = {name: array[sl] for name, array in self.state.items()}
            piece.xp, piece.kernels, piece.dtype = self.xp, self.kernels, self.dtype
            piece.scratch = (self.scratch[0][sl], self.scratch[1][sl])
            yield piece

    def scalars(self, **values):
        """Python numbers as scalars of the run's dtype (so float32 stays float32 in every path)."""
        return {name: self.dtype.type(v) for name, v in values.items()}


class FlatBucket:
    """The parameters of one group on one device with one dtype, in flat buffers."""

    def __init__(self, params):
        first = params[0]
        self.params = list(params)
        self.device = first.device
        self.backend = first.backend
        xp = self.xp = first.backend.xp
        dtype = first._array.dtype
        sizes = [p.numel() for p in params]
        offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
        self.slices = [slice(int(a), int(b)) for a, b in zip(offsets[:-1], offsets[1:])]
        self.param = xp.empty(int(offsets[-1]), dtype=dtype)
        self.grad = xp.zeros(int(offsets[-1]), dtype=dtype)
        self.param_views, self.grad_views = [], []
        for p, sl in zip(self.params, self.slices):
            self.param[sl] = p._array.reshape(-1)
            view = self.param[sl].reshape(p.shape)
            p._array = view
            self.param_views.append(view)
            grad_view = self.grad[sl].reshape(p.shape)
            p._grad_storage = grad_view
            self.grad_views.append(grad_view)
        self.state = {}                                  # name -> flat state array
        self.steps = np.zeros(len(params), np.float32)   # t per parameter (host side, like PyTorch's "step")
        self.all_registered = False                      # every parameter has its optimizer.state entry
        self.uniform = True                             # all steps equal (cleared when some parameters skip)
        self._scratch = None
        self._whole = None                               # the Run over the whole bucket, reused

    def uniform_steps(self):
        """Whether every parameter has taken the same number of steps (then one run covers the bucket)."""
        if not self.uniform:
            self.uniform = bool(self.steps.min() == self.steps.max())
        return self.uniform

    def reset_state(self):
        """Forget all optimizer state: no buffers, no steps taken."""
        self.state = {}
        self.steps[:] = 0
        self.uniform = True
        self.all_registered = False
        self._whole = None

    def intact(self):
        """Whether every parameter still lives in this bucket's flat buffer."""
        return all(p._array is view for p, view in zip(self.params, self.param_views))

    def state_array(self, name, fill):
        """The flat state buffer ``name``, created filled with ``fill`` on first use."""
        array = self.state.get(name)
        if array is None:
            array = self.state[name] = self.xp.full(self.param.shape, fill, dtype=self.param.dtype)
        return array

    def state_view(self, name, index):
        """Parameter ``index``'s slice of state buffer ``name``, as a tensor of the parameter's shape."""
        view = self.state[name][self.slices[index]].reshape(self.params[index].shape)
        return Tensor._wrap(view, self.device)

    def step_view(self, index):
        """Parameter ``index``'s step count t as a 0-d float32 CPU tensor (PyTorch's "step")."""
        return Tensor._wrap(self.steps[index:index + 1].reshape(()), CPU)

    def collect_grads(self):
        """Make the flat gradient current; return which parameters have a gradient (a list of bools)."""
        has = []
        for p, view in zip(self.params, self.grad_views):
            g = p.grad
            if g is None:
                has.append(False)
                continue
            if g._array is not view:  # a gradient assigned by hand: move it into the flat buffer
                if g._device is not self.device and g._device != self.device:
                    raise RuntimeError(f"optimizer: parameter on {self.device} has a gradient on {g.device}")
                view[...] = g._array
                p.grad = Tensor._wrap(view, self.device)
            has.append(True)
        return has

    def runs(self, has_grad, all_have, kernels):
        """The stretches of parameters to update together: consecutive, with a gradient, same step."""
        if all_have and self.uniform_steps():
            if self._whole is None or self._whole.state.keys() != self.state.keys():
                self._whole = self._run(0, self.param.shape[0], 0.0, None)
            self._whole.step, self._whole.kernels = float(self.steps[0]), kernels
            yield self._whole
            return
        i, n = 0, len(self.params)
        while i < n:
            if not has_grad[i]:
                i += 1
                continue
            j = i + 1
            while j < n and has_grad[j] and self.steps[j] == self.steps[i]:
                j += 1
            yield self._run(self.slices[i].start, self.slices[j - 1].stop, float(self.steps[i]), kernels)
            i = j

    def _run(self, start, stop, step, kernels):
        if self._scratch is None:
            self._scratch = (self.xp.empty_like(self.param), self.xp.empty_like(self.param))
        run = Run()
        run.param = self.param[start:stop]
        run.grad = self.grad[start:stop]
        run.state = {name: array[start:stop] for name, array in self.state.items()}
        run.step = step
        run.xp = self.xp
        run.kernels = kernels
        run.scratch = (self._scratch[0][start:stop], self._scratch[1][start:stop])
        run.dtype = self.param.dtype
        return run

    def release(self):
        """Give each parameter its own memory again (used when the bucket is rebuilt)."""
        for p in self.params:
            if getattr(p, "_grad_storage", None) is not None:
                p._grad_storage = None
