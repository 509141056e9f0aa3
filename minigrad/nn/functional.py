"""``minigrad.nn.functional``: layers and losses as functions (PyTorch's names and arguments).

Everything here is composed from minigrad's ops; the losses live in
``minigrad.nn.losses`` and are re-exported.
"""

import math

from minigrad import _dtype, random
from minigrad.autograd.grad_mode import no_grad
from minigrad.nn.losses import (  # noqa: F401  (re-exported)
    binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy, huber_loss, kl_div,
    l1_loss, mse_loss, nll_loss, smooth_l1_loss,
)
from minigrad.ops.linalg import linear  # noqa: F401
from minigrad.ops.pointwise import erf, relu, sigmoid, softplus, tanh, where  # noqa: F401
from minigrad.ops.reduction import log_softmax, softmax  # noqa: F401
from minigrad.ops.validate import ShapeError, check_tensor, floating_only, fmt, on_input_device, values_checked


# ================================================================== activations
def leaky_relu(input, negative_slope=0.01, inplace=False):  # noqa: A002 - PyTorch's argument names
    """x where x > 0, else negative_slope·x;   ∂/∂x = 1 where x > 0, else negative_slope (at 0 too, as in PyTorch).

    Written as relu(x) + slope·(x − relu(x)): x − relu(x) = min(x, 0) has derivative 1 at 0, so 0
    takes the negative slope; the values are exact (x + slope·0, or 0 + slope·x), and the first
    derivative, through relu's, can be differentiated again (to 0).
    """
    positive = relu(input)
    return positive + (input - positive) * negative_slope


def elu(input, alpha=1.0, inplace=False):  # noqa: A002
    """x where x > 0, else α(eˣ − 1)."""
    x = floating_only(input, "elu")
    return where(x > 0, x, (x.clamp(max=0.0).expm1()) * alpha)


def silu(input, inplace=False):  # noqa: A002
    """x·σ(x) (also called swish)."""
    return input * sigmoid(floating_only(input, "silu"))


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):  # noqa: A002
    """x clamped to [min_val, max_val], in x's dtype; ∂/∂x = 1 strictly inside, 0 at the bounds and beyond (PyTorch's)."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val {min_val} cannot be greater than max_val {max_val}")
    inside = (input > min_val).logical_and(input < max_val)
    return where(inside, input, input.detach().clamp(min_val, max_val).to(input.dtype))


def gelu(input, approximate="none"):  # noqa: A002
    """x·Φ(x), Φ the standard normal CDF: exact with erf, or PyTorch's tanh approximation.

    exact:  0.5·x·(1 + erf(x/√2))
    tanh:   0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
    float16 inputs are computed in float32, as in PyTorch.
    """
    x = floating_only(input, "gelu")
    if x.dtype is _dtype.float16:
        return gelu(x.to(_dtype.float32), approximate).to(_dtype.float16)
    if approximate == "none":
        return x * 0.5 * (1 + erf(x * (1 / math.sqrt(2))))
    if approximate == "tanh":
        inner = (x + x * x * x * 0.044715) * math.sqrt(2 / math.pi)
        return x * 0.5 * (1 + tanh(inner))
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


# ================================================================== dropout
def dropout(input, p=0.5, training=True, inplace=False, generator=None):  # noqa: A002
    """Each element zeroed with probability p, the rest scaled by 1/(1 − p) (inverted dropout).

    The identity when not ``training`` or p = 0. The mask comes from the device's
    random stream, so ``manual_seed`` makes it reproducible.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    gen = random.default_generator(input.device) if generator is None else generator
    keep = input._wrap(gen.uniform(input.shape, input.dtype), input.device) >= p
    return input * keep.to(input.dtype) * (1.0 / (1.0 - p))


# ================================================================== normalisation
def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):  # noqa: A002
    """(x − mean) / √(var + eps) · weight + bias over the trailing ``normalized_shape`` dims (biased var)."""
    normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if tuple(input.shape[-len(normalized_shape):]) != normalized_shape:
        raise ShapeError(f"layer_norm: input of shape {fmt(input.shape)} does not end in normalized_shape "
                         f"{normalized_shape}")
    dims = tuple(range(-len(normalized_shape), 0))
    centered = input - input.mean(dims, keepdim=True)
    var = (centered * centered).mean(dims, keepdim=True)
    out = centered / (var + eps).sqrt()
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,  # noqa: A002
               momentum=0.1, eps=1e-5):
    """Normalise each channel (dim 1) of (N, C) or (N, C, L) input.

    Training: batch statistics normalise, and running estimates move as
    r ← (1 − momentum)·r + momentum·batch_stat, with the unbiased batch variance.
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
            raise ValueError(f"batch_norm: expected more than 1 value per channel when training, got input of "
                             f"shape {fmt(input.shape)}")
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
    out = centered / (var + eps).sqrt()
    if weight is not None:
        out = out * weight.reshape(view)
    if bias is not None:
        out = out + bias.reshape(view)
    return out


def normalize(input, p=2.0, dim=1, eps=1e-12):  # noqa: A002
    """x / max(‖x‖_p, eps) along ``dim``."""
    norm = input.norm(p, dim, keepdim=True)
    return input / norm.clamp(min=eps)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """x1·x2 / (max(‖x1‖, eps)·max(‖x2‖, eps)) along ``dim`` (broadcasting)."""
    dot = (x1 * x2).sum(dim)
    return dot / (x1.norm(2, dim).clamp(min=eps) * x2.norm(2, dim).clamp(min=eps))


# ================================================================== embedding and encoding
def embedding(input, weight, padding_idx=None):  # noqa: A002
    """Rows of ``weight`` picked by the integer ``input``; the ``padding_idx`` row receives no gradient."""
    check_tensor(input, "embedding")
    if input.dtype.is_floating_point:
        raise TypeError(f"embedding: expected integer indices, got {input.dtype}")
    if values_checked(input) and input.numel() and not ((input.min() >= 0) & (input.max() < weight.shape[0])).item():
        low, high = int(input.min().item()), int(input.max().item())  # off the CPU: anomaly mode only; one read
        if low < 0 or high >= weight.shape[0]:
            raise IndexError(f"embedding: index out of range: indices must be in [0, {weight.shape[0]}), got "
                             f"[{low}, {high}]")
    out = weight[input]
    if padding_idx is not None:
        # NOTE: the same values, but rows picked by padding_idx come from a detached copy: no gradient.
        out = where((input != padding_idx).unsqueeze(-1), out, out.detach())
    return out


@on_input_device
def one_hot(tensor, num_classes=-1):
    """An int64 (…, num_classes) tensor with a 1 at each index."""
    if num_classes < 0:
        num_classes = int(tensor.max().item()) + 1
    backend = tensor.device.backend
    classes = backend.xp.arange(num_classes, device=backend.array_device)
    hits = backend.xp.reshape(tensor._array, tensor.shape + (1,)) == classes
    return tensor._wrap(backend.xp.astype(hits, backend.dtype(_dtype.int64)), tensor.device)


def flatten(input, start_dim=1, end_dim=-1):  # noqa: A002
    return input.flatten(start_dim, end_dim)
