"""``minigrad.nn.functional``: layers and losses as functions (PyTorch's names and arguments).

Activations and normalisations are composed from the ops in ``minigrad.ops``;
the losses live in ``minigrad.nn.losses`` and are re-exported here.
"""

import math

from minigrad import ops
from minigrad.autograd.grad_mode import no_grad
from minigrad.nn.losses import (  # noqa: F401  (re-exported)
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    l1_loss,
    mse_loss,
    nll_loss,
)
from minigrad.ops import linear, log_softmax, sigmoid, softmax, softplus, tanh  # noqa: F401
from minigrad.ops._util import ShapeError, fmt
from minigrad.tensor import Tensor


# ================================================================== activations
def relu(input, inplace=False):  # noqa: A002 - PyTorch's argument names
    return ops.relu(input)


def leaky_relu(input, negative_slope=0.01, inplace=False):  # noqa: A002
    """x where x > 0, else negative_slope·x."""
    return ops.where(input > 0, input, input * negative_slope)


def gelu(input, approximate="none"):  # noqa: A002
    """x·Φ(x), Φ the standard normal CDF: exact with erf, or PyTorch's tanh approximation.

    exact:  0.5·x·(1 + erf(x/√2))
    tanh:   0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
    """
    if approximate == "none":
        return input * 0.5 * (1 + ops.erf(input * (1 / math.sqrt(2))))
    if approximate == "tanh":
        inner = (input + input ** 3 * 0.044715) * math.sqrt(2 / math.pi)
        return input * 0.5 * (1 + ops.tanh(inner))
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


# ================================================================== dropout
def dropout(input, p=0.5, training=True, inplace=False):  # noqa: A002
    """Zero each element with probability p and scale the rest by 1/(1-p) (inverted dropout).

    Identity when not ``training`` or p == 0. The mask is drawn from the device's
    random stream, so ``manual_seed`` makes it reproducible.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    keep = input.backend.generator.random(input.shape) >= p
    scale = Tensor._wrap((keep / (1.0 - p)).astype(input._array.dtype), input.device)
    return input * scale


# ================================================================== normalisation
def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):  # noqa: A002
    """(x - mean) / √(var + eps) · weight + bias over the trailing ``normalized_shape`` dims (biased var)."""
    normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if tuple(input.shape[-len(normalized_shape):]) != normalized_shape:
        raise ShapeError(f"layer_norm: input of shape {fmt(input.shape)} does not end in normalized_shape {normalized_shape}")
    dims = tuple(range(-len(normalized_shape), 0))
    mean = input.mean(dims, keepdim=True)
    centered = input - mean
    var = (centered * centered).mean(dims, keepdim=True)
    out = centered / ops.sqrt(var + eps)
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,  # noqa: A002
               momentum=0.1, eps=1e-5):
    """Normalise each channel (dim 1) of (N, C) or (N, C, L) input.

    Training: batch statistics normalise; running estimates move as
    r ← (1 - momentum)·r + momentum·batch_stat, with the unbiased batch variance.
    Evaluation: the running estimates normalise.
    """
    if input.ndim not in (2, 3):
        raise ShapeError(f"batch_norm: expected 2D or 3D input (N, C) or (N, C, L), got {fmt(input.shape)}")
    channels = input.shape[1]
    dims = (0,) if input.ndim == 2 else (0, 2)
    view = (1, channels) if input.ndim == 2 else (1, channels, 1)
    if training:
        count = input.numel() // channels
        if count <= 1:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when training, got input of shape "
                             f"{fmt(input.shape)}")
        mean = input.mean(dims, keepdim=True)
        centered = input - mean
        var = (centered * centered).mean(dims, keepdim=True)
        if running_mean is not None:
            with no_grad():
                running_mean.mul_(1 - momentum).add_(mean.reshape(channels) * momentum)
                running_var.mul_(1 - momentum).add_(var.reshape(channels) * (momentum * count / (count - 1)))
    else:
        mean = running_mean.reshape(view)
        var = running_var.reshape(view)
        centered = input - mean
    out = centered / ops.sqrt(var + eps)
    if weight is not None:
        out = out * weight.reshape(view)
    if bias is not None:
        out = out + bias.reshape(view)
    return out


# ================================================================== embedding
def embedding(input, weight, padding_idx=None):  # noqa: A002
    """Rows of ``weight`` picked by the integer ``input``; the ``padding_idx`` row receives no gradient."""
    if input.dtype.is_floating_point:
        raise TypeError(f"embedding: expected integer indices, got {input.dtype}")
    if input.numel() and (input.max().item() >= weight.shape[0] or input.min().item() < 0):
        raise IndexError(f"embedding: index out of range: indices must be in [0, {weight.shape[0]}), got "
                         f"[{input.min().item()}, {input.max().item()}]")
    out = weight[input]
    if padding_idx is not None:
        # NOTE: same values, but the rows picked by padding_idx take their value from a detached copy.
        keep = (input != padding_idx).unsqueeze(-1)
        out = ops.where(keep, out, out.detach())
    return out


# ================================================================== misc
def one_hot(tensor, num_classes=-1):
    """An int64 (…, num_classes) tensor with a 1 at each index."""
    if num_classes < 0:
        num_classes = int(tensor.max().item()) + 1
    xp = tensor.backend.xp
    out = (tensor._array[..., None] == xp.arange(num_classes)).astype(xp.int64)
    return Tensor._wrap(out, tensor.device)


def flatten(input, start_dim=1, end_dim=-1):  # noqa: A002
    return ops.flatten(input, start_dim, end_dim)
