"""Loss functions, composed from minigrad's ops (PyTorch's names, arguments and reductions).

Every loss takes ``reduction`` = "none" | "mean" | "sum". Unlike PyTorch, a
regression loss given a target whose shape differs from the input's raises
instead of broadcasting with a warning: that broadcast is almost always a bug.

Classification losses with class indices are one formula: the negative
log-probabilities weighted by a constant matrix M that says, for each sample,
how much each class counts — a one-hot row (times the class weight) for a
plain target, a row of zeros for an ignored one, and with label smoothing
(1 − ε) of the one-hot plus ε/C spread over every class. The loss is
−Σ M ⊙ log p, summed or divided by the total weight of the counted targets.
"""

import numbers

from minigrad import _dtype
from minigrad.ops import primitives as P
from minigrad.ops.validate import (
    DTypeError, ShapeError, check_tensor, fmt, is_tensor, on_input_device, same_device, values_checked,
)

NAN = float("nan")

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
    check_tensor(input, name, "input")
    check_tensor(target, name, "target")
    same_device(input, target, name)
    if same_shape and input.shape != target.shape:
        raise ShapeError(f"{name}: target shape {fmt(target.shape)} differs from input shape {fmt(input.shape)}")
    if not input.dtype.is_floating_point:
        raise DTypeError(f"{name}: input must be a floating tensor, got {input.dtype}")


def _weight(weight, name, classes, like):
    if weight is None:
        return None
    if not is_tensor(weight):
        weight = like.new_tensor(weight)
    if weight.shape != (classes,):
        raise ShapeError(f"{name}: weight must have one entry per class, shape ({classes},), got {fmt(weight.shape)}")
    return weight.to(like.dtype)


# ================================================================== regression
def mse_loss(input, target, reduction="mean"):  # noqa: A002 - PyTorch's argument names
    """(x − y)², reduced (the mean of an empty input is NaN, as in PyTorch)."""
    _check("mse_loss", input, target, reduction)
    same_device(input, target, "mse_loss")
    if target._array.dtype != input._array.dtype:
        target = target.to(input.dtype)
    if reduction == "none":
        return P.SquaredError.apply(input, target, 1.0, True)
    n = input.numel()
    scale = 1.0 if reduction == "sum" else 1.0 / n if n else NAN
    return P.SquaredError.apply(input, target, scale, False)


def l1_loss(input, target, reduction="mean"):  # noqa: A002
    """|x − y|, reduced."""
    _check("l1_loss", input, target, reduction)
    return _reduce((input - target.to(input.dtype)).abs(), reduction)


def huber_loss(input, target, reduction="mean", delta=1.0):  # noqa: A002
    """½(x − y)² where |x − y| < δ, else δ·(|x − y| − ½δ): quadratic near 0, linear far away."""
    _check("huber_loss", input, target, reduction)
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    diff = (input - target.to(input.dtype)).abs()
    return _reduce(diff.where(diff < delta, 0.0) ** 2 * 0.5 + (diff - 0.5 * delta).where(diff >= delta, 0.0) * delta,
                   reduction)


def smooth_l1_loss(input, target, reduction="mean", beta=1.0):  # noqa: A002
    """½(x − y)²/β where |x − y| < β, else |x − y| − ½β (Huber divided by β; β = 0 is L1)."""
    _check("smooth_l1_loss", input, target, reduction)
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    if beta == 0:
        return l1_loss(input, target, reduction)
    diff = (input - target.to(input.dtype)).abs()
    return _reduce(diff.where(diff < beta, 0.0) ** 2 * (0.5 / beta) + (diff - 0.5 * beta).where(diff >= beta, 0.0),
                   reduction)


# ================================================================== classification
@on_input_device
def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):  # noqa: A002
    """−w[y]·input[n, y] for log-probabilities ``input`` (N, C) or (N, C, d1, …) and class indices y.

    With "mean" the sum is divided by Σ w[y] over the targets that are not ``ignore_index``.
    """
    _check("nll_loss", input, target, reduction, same_shape=False)
    if input.ndim == 0:
        raise ShapeError("nll_loss: input must have at least 1 dimension (the classes), got a 0-d tensor")
    logp, classes = _classes_last(input, "nll_loss")
    y, ignored = _class_indices(target, input, classes, ignore_index, "nll_loss")
    weights = _target_weights(y, classes, _weight(weight, "nll_loss", classes, input), ignore_index, 0.0, input.dtype,
                              ignored)
    return _weighted_nll(logp, weights, target.shape, reduction)


@on_input_device
def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean",  # noqa: A002
                  label_smoothing=0.0):
    """Softmax cross-entropy of logits ``input`` against class indices or class probabilities.

    Class indices y: −Σ_c M[n, c]·log softmax(x)[n, c] with M as the module docstring says;
    "mean" divides by Σ w[y] over counted targets. Probabilities p (the input's shape):
    −Σ_c w_c·p'_c·log softmax(x)_c with p' = (1 − ε)p + ε/C; "mean" divides by N.
    log softmax is computed stably, so logits of magnitude 1e4 are fine.
    """
    if not isinstance(label_smoothing, numbers.Real):
        raise TypeError(f"cross_entropy: label_smoothing must be a number in [0, 1], got {label_smoothing!r}")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    _check("cross_entropy", input, target, reduction, same_shape=False)
    if input.ndim == 0:
        raise ShapeError("cross_entropy: input must have at least 1 dimension (the classes), got a 0-d tensor")
    logp, classes = _classes_last(input.log_softmax(0 if input.ndim == 1 else 1), "cross_entropy")
    w = _weight(weight, "cross_entropy", classes, input)
    if target.dtype.is_floating_point:                                 # class probabilities
        if target.shape != input.shape:
            raise ShapeError(f"cross_entropy: probability targets must have the input's shape {fmt(input.shape)}, "
                             f"got {fmt(target.shape)}")
        p, _ = _classes_last(target.to(input.dtype), "cross_entropy")
        if label_smoothing:
            p = p * (1 - label_smoothing) + label_smoothing / classes
        losses = -(logp * (p if w is None else p * w)).sum(1)
        if reduction == "mean":
            return losses.sum() / losses.shape[0]
        return losses.reshape(_sample_shape(input)) if reduction == "none" else losses.sum()
    y, ignored = _class_indices(target, input, classes, ignore_index, "cross_entropy")
    weights = _target_weights(y, classes, w, ignore_index, label_smoothing, input.dtype, ignored)
    return _weighted_nll(logp, weights, target.shape, reduction)


def _weighted_nll(logp, weights, sample_shape, reduction):
    """−Σ_c M[n, c]·logp[n, c] per sample, then reduced; ``weights`` is (M, the total weight of counted targets).

    NOTE: when every target is ignored the total is 0: the mean is NaN, as in PyTorch, and its
    gradient 0 (the scale 1/total is taken as 0 there, not 1/0).
    """
    m, total = weights
    if reduction == "none":
        return P.WeightedNLL.apply(logp, m, 1.0, True).reshape(sample_shape)
    if reduction == "sum":
        return P.WeightedNLL.apply(logp, m, 1.0, False)
    if isinstance(total, float):
        return P.WeightedNLL.apply(logp, m, 1.0 / total, False) if total > 0 else \
            P.WeightedNLL.apply(logp, m, 0.0, False) + NAN    # NaN, with gradient 0
    ns = logp.device.backend.xp                          # the total stays on the device: no synchronisation
    counted = total > 0
    zero, one = ns.zeros_like(total), ns.ones_like(total)
    scale = ns.where(counted, one / ns.where(counted, total, one), zero)
    loss = P.WeightedNLL.apply(logp, m, scale, False)
    return loss + logp._wrap(ns.where(counted, zero, ns.full_like(total, NAN)), logp.device)


def _target_weights(y, classes, weight, ignore_index, smoothing, dtype, ignored):
    """M[n, c] for integer targets y (already flat), and the total weight Σ_n w[y_n] of the counted targets.

    ``ignored`` says whether some target may equal ``ignore_index``. The total is a Python
    number where it can be had without waiting for a GPU; else a 0-d array.
    """
    backend = y.device.backend
    ns = backend.xp
    dtype = backend.dtype(dtype)
    classes_row = ns.reshape(ns.arange(classes, device=backend.array_device), (1, -1))
    m = ns.astype(ns.reshape(y._array, (-1, 1)) == classes_row, dtype)             # one-hot rows, (N, C)
    w = None if weight is None else ns.reshape(weight.detach()._array, (1, classes))
    if w is None and not ignored:
        total = float(y.numel())
    else:
        kept = ns.astype(ns.reshape(y._array != ignore_index, (-1, 1)), dtype)
        w = kept if w is None else w * kept
        m = m * w                                                                  # w[y_n] at (n, y_n), counted n
        total = ns.sum(m)
        if backend.checks_values:
            total = float(total)
    if smoothing:
        spread = ns.ones((1, classes), dtype=dtype, device=backend.array_device) if w is None else w
        m = m * (1 - smoothing) + spread * (smoothing / classes)                   # ε/C of each class's weight
    return m, total


def _classes_last(input, name):  # noqa: A002
    """(N·d1·…, C) view of (N, C, d1, …) input ((1, C) for a single (C,) sample), and C."""
    if input.ndim == 1:
        return input.reshape(1, -1), input.shape[0]
    if input.ndim == 2:
        return input, input.shape[1]
    classes = input.shape[1]
    return input.permute(0, *range(2, input.ndim), 1).reshape(-1, classes), classes


def _sample_shape(input):  # noqa: A002
    return () if input.ndim == 1 else input.shape[:1] + input.shape[2:]


def _class_indices(target, input, classes, ignore_index, name):  # noqa: A002
    """The integer targets, flat, and whether some may be ``ignore_index``.

    On the CPU the targets are read and checked against the number of classes (a bad one
    raises, naming it); on other devices that would wait for the device, so they are not
    (unless anomaly detection is on), and ignored targets are assumed possible.
    """
    dtype = target.dtype
    if dtype.is_floating_point or dtype is _dtype.bool_:
        raise DTypeError(f"{name}: expected class indices of an integer dtype (int64), got {dtype}")
    expected = _sample_shape(input)
    if tuple(target.shape) != tuple(expected):
        raise ShapeError(f"{name}: expected target of shape {fmt(expected)} for input of shape {fmt(input.shape)}, "
                         f"got {fmt(target.shape)}")
    y = target if target.ndim == 1 else target.reshape(-1)
    ignore_possible = 0 <= ignore_index < classes
    checks = values_checked(y)
    if not checks or not y.numel():
        return y, ignore_possible or not checks
    ns, values = y.device.backend.xp, y._array
    if bool((ns.min(values) >= 0) & (ns.max(values) < classes)):
        return y, ignore_possible                        # every target is a class (the common case): one read, a
                                                         # yes or no (a recorded step re-checks it on replay)
    bad = ns.logical_and(ns.logical_or(values < 0, values >= classes), values != ignore_index)
    if bool(ns.any(bad)):
        raise IndexError(f"{name}: target {int(values[bad][0])} is out of bounds for {classes} classes")
    return y, True


# ================================================================== binary
def binary_cross_entropy(input, target, weight=None, reduction="mean"):  # noqa: A002
    """−w·[y·log x + (1 − y)·log(1 − x)] for probabilities x; each log is clamped at −100, as in PyTorch.

    The gradient by x is w·(x − y)/max(x(1 − x), 1e−12): finite at x = 0 or 1 (the primitive
    ``BinaryCrossEntropy`` says why).
    """
    _check("binary_cross_entropy", input, target, reduction)
    if values_checked(input) and input.numel() and not ((input.amin() >= 0) & (input.amax() <= 1)).item():
        low, high = input.amin().item(), input.amax().item()             # (one read when all are in [0, 1])
        if low < 0 or high > 1:
            raise ValueError(f"binary_cross_entropy: all elements of input should be between 0 and 1, got "
                             f"[{low}, {high}]")
    target = target.to(input.dtype)
    loss = P.BinaryCrossEntropy.apply(input, target)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean", pos_weight=None):  # noqa: A002
    """BCE of σ(x), computed from logits without overflow.

    loss = (1 − y)·x + (1 + (pw − 1)·y)·softplus(−x), which is −[pw·y·log σ(x) + (1 − y)·log(1 − σ(x))].
    """
    _check("binary_cross_entropy_with_logits", input, target, reduction)
    target = target.to(input.dtype)
    log_term = (-input).softplus()                                    # softplus(−x) = −log σ(x)
    if pos_weight is None:
        loss = (1 - target) * input + log_term
    else:
        loss = (1 - target) * input + (1 + (pos_weight - 1) * target) * log_term
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def kl_div(input, target, reduction="mean", log_target=False):  # noqa: A002
    """KL(target ‖ exp(input)) pointwise: y·(log y − x) for log-probabilities x (0 where y = 0).

    "batchmean" divides the sum by the batch size (the true KL divergence); "mean"
    divides by the number of elements, as PyTorch does.
    """
    if reduction not in (*_REDUCTIONS, "batchmean"):
        raise ValueError(f"kl_div: reduction must be one of {(*_REDUCTIONS, 'batchmean')}, got {reduction!r}")
    _check("kl_div", input, target, "none")
    target = target.to(input.dtype)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        loss = (target * (target.where(target > 0, 1.0).log() - input)).where(target > 0, 0.0)
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    return _reduce(loss, reduction)
