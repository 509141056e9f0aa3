"""Finite-difference checks of backward formulas (use float64 inputs).

``gradcheck`` compares, for every input element, the analytical gradient from
backward with the central difference (f(x + ε) − f(x − ε)) / 2ε.
``gradgradcheck`` does the same one level up: it checks the gradient of the
gradient, which is what ``create_graph=True`` computes.
"""

import warnings

import numpy as np

from minigrad.autograd.engine import grad
from minigrad.autograd.function import is_tensor
from minigrad.autograd.grad_mode import no_grad


class GradcheckError(RuntimeError):
    """The analytical and numerical gradients disagree."""


def _as_tuple(x):
    return x if isinstance(x, tuple) else (x,)


def _differentiable(inputs):
    return [i for i, t in enumerate(inputs) if is_tensor(t) and t.requires_grad]


def _host(t):
    return np.array(t.detach().cpu().numpy(), dtype=np.float64).reshape(-1)   # a copy: the inputs change in place


def _set_values(x, host):
    """Write ``host``'s values into ``x`` in place (not recorded, not counted as a version change)."""
    with no_grad():
        x.data.copy_(x.new_tensor(host.reshape(x.shape)))


def _numerical_jacobian(fn, inputs, output_index, eps):
    """∂out/∂x for each differentiable input x, by central differences: a list of (out.size, x.size) arrays.

    Each input is perturbed in place, one element at a time, so that ``fn`` sees the change
    however it reaches the tensor (an argument, or a module's parameter it closes over).
    """
    jacobians = []
    for k in _differentiable(inputs):
        x = inputs[k]
        base = _host(x)
        columns = []
        try:
            for i in range(base.size):
                values = []
                for delta in (eps, -eps):
                    moved = base.copy()
                    moved[i] += delta
                    _set_values(x, moved)
                    values.append(_host(_as_tuple(fn(*inputs))[output_index]))
                columns.append((values[0] - values[1]) / (2 * eps))
        finally:
            _set_values(x, base)
        jacobians.append(np.stack(columns, axis=1) if columns else np.zeros((0, 0)))
    return jacobians


def _analytical_jacobian(output, inputs):
    """∂out/∂x for each differentiable input, one backward per output element."""
    targets = [inputs[k] for k in _differentiable(inputs)]
    rows = [[] for _ in targets]
    n = output.numel()
    for j in range(n):
        seed = np.zeros(n)
        seed[j] = 1.0
        grads = grad(output, targets, output.new_tensor(seed.reshape(output.shape)), retain_graph=True,
                     allow_unused=True)
        for r, g, x in zip(rows, grads, targets):
            r.append(np.zeros(x.numel()) if g is None else _host(g))
    return [np.stack(r, axis=0) if r else np.zeros((0, x.numel())) for r, x in zip(rows, targets)]


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """Check the gradients of ``fn(*inputs)`` against finite differences.

    Args:
        fn: a function of tensors returning a tensor or a tuple of tensors.
        inputs: a tensor or tuple of tensors; those with ``requires_grad`` are checked.
        eps: the finite-difference step.
        atol, rtol: the tolerance |analytical − numerical| ≤ atol + rtol·|numerical|.
        raise_exception: raise GradcheckError on a mismatch (else return False).

    Returns:
        True when every gradient matches.
    """
    inputs = _as_tuple(inputs)
    for k in _differentiable(inputs):
        if inputs[k].dtype.name != "float64":
            warnings.warn(f"gradcheck: input of dtype {inputs[k].dtype} is not float64; the check may be too coarse",
                          stacklevel=2)
    outputs = _as_tuple(fn(*inputs))
    for index, out in enumerate(outputs):
        if not out.requires_grad:
            continue
        numerical = _numerical_jacobian(fn, inputs, index, eps)
        analytical = _analytical_jacobian(out, inputs)
        for k, (a, n) in enumerate(zip(analytical, numerical)):
            if a.shape != n.shape or not np.allclose(a, n, atol=atol, rtol=rtol):
                if not raise_exception:
                    return False
                raise GradcheckError(f"gradcheck: Jacobian mismatch for output {index} with respect to input {k}\n"
                                     f"numerical:\n{n}\nanalytical:\n{a}")
    return True


def gradgradcheck(fn, inputs, grad_outputs=None, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """Check second derivatives: gradcheck of x ↦ (∂fn/∂x)ᵀ·v for a fixed random v.

    Args:
        grad_outputs: the vector v for each output (random when omitted, seeded).
    """
    inputs = _as_tuple(inputs)
    outputs = _as_tuple(fn(*inputs))
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = tuple(o.new_tensor(rng.standard_normal(o.shape)) for o in outputs)
    grad_outputs = _as_tuple(grad_outputs)
    positions = _differentiable(inputs)

    def first_derivative(*xs):
        outs = [o for o in _as_tuple(fn(*xs)) if o.requires_grad]
        ws = [xs[k] for k in positions]
        grads = grad(outs, ws, list(grad_outputs[: len(outs)]), create_graph=True, allow_unused=True)
        return tuple(g if g is not None else (w * 0).sum() * 0 for g, w in zip(grads, ws))

    return gradcheck(first_derivative, inputs, eps=eps, atol=atol, rtol=rtol, raise_exception=raise_exception)
