"""Loss functions, composed from minigrad ops (PyTorch's names, arguments and reductions).

Every loss takes ``reduction`` = "none" | "mean" | "sum". Unlike PyTorch, a
regression loss given a target whose shape differs from the input's raises
instead of broadcasting with a warning: that broadcast is almost always a bug.
"""

from minigrad import ops
from minigrad.ops._util import DTypeError, ShapeError, fmt
from minigrad.ops.nn import SoftmaxCrossEntropy, SquaredError
from minigrad.tensor import Tensor

_REDUCTIONS = ("none", "mean", "sum")


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _check(name, input, target, reduction, same_shape=True):  # noqa: A002
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{name}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    if not isinstance(input, Tensor) or not isinstance(target, Tensor):
        raise TypeError(f"{name}: input and target must be Tensors")
    if same_shape and input.shape != target.shape:
        raise ShapeError(f"{name}: target shape {fmt(target.shape)} differs from input shape {fmt(input.shape)}")
    if not input.dtype.is_floating_point:
        raise DTypeError(f"{name}: input must be a floating tensor, got {input.dtype}")


# ================================================================== regression
def mse_loss(input, target, reduction="mean"):  # noqa: A002 - PyTorch's argument names
    """(x - y)², reduced."""
    _check("mse_loss", input, target, reduction)
    if input.dtype != target.dtype:
        target = target.to(input.dtype)
    return SquaredError.apply(input, target, reduction)


def l1_loss(input, target, reduction="mean"):  # noqa: A002
    """|x - y|, reduced."""
    _check("l1_loss", input, target, reduction)
    return _reduce((input - target).abs(), reduction)


# ================================================================== classification
def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):  # noqa: A002
    """-w[y]·input[n, y] for log-probabilities ``input`` (N, C) or (N, C, d1, ...) and class indices y.

    With "mean" the sum is divided by Σ w[y] over targets that are not ``ignore_index``.
    """
    logp, classes = _class_last(input, "nll_loss")
    _check("nll_loss", input, target, reduction, same_shape=False)
    y, _ = _class_indices(target, input, classes, ignore_index, "nll_loss")
    xp = input.backend.xp
    kept = y != ignore_index
    safe_y = xp.where(kept, y, 0)
    w = xp.ones(classes, dtype=input._array.dtype) if weight is None else weight._array
    sample_w = Tensor._wrap(w[safe_y] * kept, input.device)  # 0 for ignored targets
    picked = logp[xp.arange(y.size), safe_y]               # (N',)
    loss = -picked * sample_w
    if reduction == "mean":
        return loss.sum() / sample_w.sum()
    if reduction == "sum":
        return loss.sum()
    return loss.reshape(target.shape)


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean",  # noqa: A002
                  label_smoothing=0.0):
    """Softmax cross-entropy of logits ``input`` against class indices or class probabilities.

    Class indices y: (1-ε)·nll(log_softmax(x), y) + ε/C·Σ_c -w_c·log_softmax(x)_c, where
    ε = ``label_smoothing``; with "mean" both terms are divided by Σ w[y].
    Probabilities p (same shape as input): -Σ_c w_c·p'_c·log_softmax(x)_c with p' = (1-ε)p + ε/C.
    log_softmax is computed stably, so logits of magnitude 1e4 are fine.
    """
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    _check("cross_entropy", input, target, reduction, same_shape=False)
    class_dim = 0 if input.ndim == 1 else 1
    classes = input.shape[class_dim]
    if input.ndim == 2 and weight is None and not label_smoothing and not target.dtype.is_floating_point:
        y, outside = _class_indices(target, input, classes, ignore_index, "cross_entropy")
        # ignore_index is present only if it lies outside [0, C) and some target does, or inside and matches
        ignored = outside if not 0 <= ignore_index < classes else bool((y == ignore_index).any())
        if not ignored:  # the common case, as one fused node
            return SoftmaxCrossEntropy.apply(input, y, reduction)
    logp = ops.log_softmax(input, class_dim)
    w_view = None if weight is None else weight.reshape((classes,) + (1,) * (input.ndim - class_dim - 1))

    if target.dtype.is_floating_point:  # class probabilities
        if target.ndim == input.ndim - 1:
            raise DTypeError(f"cross_entropy: expected class indices of an integer dtype (int64), got {target.dtype} "
                             f"(or class probabilities of shape {fmt(input.shape)})")
        if target.shape != input.shape:
            raise ShapeError(f"cross_entropy: probability targets must have the input's shape {fmt(input.shape)}, "
                             f"got {fmt(target.shape)}")
        p = target * (1 - label_smoothing) + label_smoothing / classes if label_smoothing else target
        terms = logp * p if w_view is None else logp * p * w_view
        loss = -terms.sum(class_dim)
        if reduction == "mean":
            return loss.sum() / (input.numel() // classes)
        return _reduce(loss, reduction)

    nll = nll_loss(logp, target, weight, ignore_index, reduction)
    if not label_smoothing:
        return nll
    weighted = logp if w_view is None else logp * w_view
    xp = input.backend.xp
    kept_mask = target._array != ignore_index
    kept = Tensor._wrap(kept_mask.astype(input._array.dtype), input.device)
    smooth = -weighted.sum(class_dim) * kept                          # (N, d1, ...)
    if reduction == "mean":
        if weight is None:
            denominator = kept.sum()
        else:
            denominator = Tensor._wrap(weight._array[xp.where(kept_mask, target._array, 0)] * kept_mask, input.device).sum()
        smooth = smooth.sum() / denominator
    elif reduction == "sum":
        smooth = smooth.sum()
    return nll * (1 - label_smoothing) + smooth * (label_smoothing / classes)


def _class_last(input, name):  # noqa: A002
    """(N·d1·…, C) view of (N, C, d1, …) input (and (1, C) of a single (C,) sample), plus C."""
    if input.ndim == 1:
        return input.reshape(1, -1), input.shape[0]
    if input.ndim == 2:
        return input, input.shape[1]
    classes = input.shape[1]
    moved = input.permute(0, *range(2, input.ndim), 1)
    return moved.reshape(-1, classes), classes


def _class_indices(target, input, classes, ignore_index, name):  # noqa: A002
    if target.dtype.is_floating_point or target.dtype.name == "bool":
        raise DTypeError(f"{name}: expected class indices of an integer dtype (int64), got {target.dtype}")
    expected = (input.shape[:1] + input.shape[2:]) if input.ndim > 1 else ()
    if tuple(target.shape) != tuple(expected):
        raise ShapeError(f"{name}: expected target of shape {fmt(expected)} for input of shape {fmt(input.shape)}, "
                         f"got {fmt(target.shape)}")
    y = target._array.reshape(-1)
    if y.size and (int(y.min()) < 0 or int(y.max()) >= classes):  # then look closer: ignore_index may be there
        bad = (y != ignore_index) & ((y < 0) | (y >= classes))
        if bool(bad.any()):
            raise IndexError(f"{name}: target {int(y[bad][0])} is out of bounds for {classes} classes")
        return y, True
    return y, False


# ================================================================== binary
def binary_cross_entropy(input, target, weight=None, reduction="mean"):  # noqa: A002
    """-w·[y·log x + (1-y)·log(1-x)] for probabilities x; each log is clamped at -100, as in PyTorch."""
    _check("binary_cross_entropy", input, target, reduction)
    lo, hi = input.amin().item() if input.numel() else 0.0, input.amax().item() if input.numel() else 0.0
    if lo < 0 or hi > 1:
        raise ValueError(f"binary_cross_entropy: all elements of input should be between 0 and 1, got [{lo}, {hi}]")
    log_x = ops.clamp(input.log(), min=-100)
    log_1mx = ops.clamp((1 - input).log(), min=-100)
    loss = -(target * log_x + (1 - target) * log_1mx)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean", pos_weight=None):  # noqa: A002
    """BCE of σ(x), computed from logits without overflow.

    loss = (1 - y)·x + (1 + (pw - 1)·y)·softplus(-x), which is -[pw·y·log σ(x) + (1-y)·log(1-σ(x))].
    """
    _check("binary_cross_entropy_with_logits", input, target, reduction)
    log_term = ops.softplus(-input)  # -log σ(x)
    if pos_weight is None:
        loss = (1 - target) * input + log_term
    else:
        loss = (1 - target) * input + (1 + (pos_weight - 1) * target) * log_term
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)
