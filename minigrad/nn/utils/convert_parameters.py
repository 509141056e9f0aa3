"""Parameters as one flat vector, and back."""

from minigrad.autograd.grad_mode import no_grad
from minigrad.ops.shape import cat
from minigrad.ops.validate import is_tensor


def parameters_to_vector(parameters):
    """All parameters flattened and joined, in order, into one 1-D tensor (differentiable)."""
    parameters = [parameters] if is_tensor(parameters) else list(parameters)
    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec, parameters):
    """Copy consecutive slices of the 1-D ``vec`` into the parameters, in place."""
    if not is_tensor(vec) or vec.ndim != 1:
        raise TypeError(f"vector_to_parameters: expected a 1-D tensor, got {type(vec).__name__}"
                        + (f" of shape {tuple(vec.shape)}" if is_tensor(vec) else ""))
    parameters = [parameters] if is_tensor(parameters) else list(parameters)
    total = sum(p.numel() for p in parameters)
    if vec.numel() != total:
        raise ValueError(f"vector_to_parameters: the vector has {vec.numel()} elements, the parameters {total}")
    start = 0
    with no_grad():
        for p in parameters:
            n = p.numel()
            p.copy_(vec[start:start + n].reshape(p.shape))
            start += n
