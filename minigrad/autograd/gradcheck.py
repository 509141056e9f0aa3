"""Finite-difference checks of backward formulas (use float64 inputs).

``gradcheck`` compares, for every input element, the analytical gradient from
backward with the central difference (f(x + eps) - f(x - eps)) / (2 eps).
``gradgradcheck`` does the same one level up: it checks the gradient of the
gradient, which is what ``create_graph=True`` computes.
"""

import numpy as np


class GradcheckError(RuntimeError):
    """The analytical and numerical gradients disagree."""


def _as_tuple(x):
    return x if isinstance(x, tuple) else (x,)


def _differentiable(inputs):
    return [t for t in inputs if getattr(t, "requires_grad", False)]


def _numerical_jacobian(fn, inputs, output_index, eps):
    """∂out/∂x for each differentiable input x, by central differences: a list of (out.size, x.size)."""
    jacobians = []
    for x in _differentiable(inputs):
        flat = x._array.reshape(-1)  # a view: perturbing it perturbs x
        columns = []
        for i in range(flat.size):
            original = flat[i].item()
            # NOTE: grad mode stays on: gradgradcheck's fn itself runs a backward.
            flat[i] = original + eps
            plus = _to_host(_as_tuple(fn(*inputs))[output_index]).reshape(-1).astype(np.float64)
            flat[i] = original - eps
            minus = _to_host(_as_tuple(fn(*inputs))[output_index]).reshape(-1).astype(np.float64)
            flat[i] = original
            columns.append((plus - minus) / (2 * eps))
        jacobians.append(np.stack(columns, axis=1) if columns else np.zeros((0, 0)))
    return jacobians


def _analytical_jacobian(output, inputs, create_graph=False):
    """∂out/∂x for each differentiable input, one backward per output element."""
    from minigrad.autograd import grad
    from minigrad.tensor import Tensor

    targets = _differentiable(inputs)
    rows = [[] for _ in targets]
    xp = output.backend.xp
    for j in range(output.numel()):
        seed = xp.zeros(output.numel(), dtype=output._array.dtype)
        seed[j] = 1
        seed_t = Tensor._wrap(seed.reshape(output.shape), output.device)
        grads = grad(output, targets, seed_t, retain_graph=True, allow_unused=True)
        for k, (g, x) in enumerate(zip(grads, targets)):
            rows[k].append(np.zeros(x.numel()) if g is None else _to_host(g).reshape(-1).astype(np.float64))
    return [np.stack(r, axis=0) if r else np.zeros((0, x.numel())) for r, x in zip(rows, targets)]


def _to_host(t):
    return np.asarray(t.backend.to_host(t._array))


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """Check the gradients of ``fn(*inputs)`` against finite differences.

    Args:
        fn: a function of tensors returning a tensor or a tuple of tensors.
        inputs: a tensor or tuple of tensors; those with ``requires_grad`` are checked.
        eps: the finite-difference step.
        atol, rtol: the tolerance |analytical - numerical| <= atol + rtol·|numerical|.
        raise_exception: raise GradcheckError on a mismatch (else return False).

    Returns:
        True when every gradient matches.
    """
    inputs = _as_tuple(inputs)
    for x in _differentiable(inputs):
        if x.dtype.name != "float64":
            import warnings

            warnings.warn(f"gradcheck: input of dtype {x.dtype} is not float64; the check may be too coarse", stacklevel=2)
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
                raise GradcheckError(
                    f"gradcheck: Jacobian mismatch for output {index} with respect to input {k}\n"
                    f"numerical:\n{n}\nanalytical:\n{a}"
                )
    return True


def gradgradcheck(fn, inputs, grad_outputs=None, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """Check second derivatives: gradcheck of x ↦ (∂fn/∂x)ᵀ·v for a fixed random v.

    Args:
        grad_outputs: the vector v for each output (random when omitted, seeded).
    """
    from minigrad.autograd import grad
    from minigrad.tensor import Tensor

    inputs = _as_tuple(inputs)
    outputs = _as_tuple(fn(*inputs))
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = tuple(
            Tensor._wrap(o.backend.asarray(rng.standard_normal(o.shape).astype(o._array.dtype)), o.device)
            for o in outputs
        )
    grad_outputs = _as_tuple(grad_outputs)
    targets = _differentiable(inputs)

    def first_derivative(*xs):
        outs = [o for o in _as_tuple(fn(*xs)) if o.requires_grad]
        ws = [xs[i] for i, x in enumerate(inputs) if getattr(x, "requires_grad", False)]
        grads = grad(outs, ws, list(grad_outputs[: len(outs)]), create_graph=True, allow_unused=True)
        return tuple(g if g is not None else (w * 0).sum() * 0 for g, w in zip(grads, ws))

    del targets
    return gradcheck(first_derivative, inputs, eps=eps, atol=atol, rtol=rtol, raise_exception=raise_exception)
