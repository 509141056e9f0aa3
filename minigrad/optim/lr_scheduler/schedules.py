"""Learning-rate schedules as pure functions of the step t (0, 1, 2, …).

Each returns η_t from the initial rate η₀ (``base_lr``). Schedulers call these
and write the result into ``group["lr"]``; ``preview`` calls them with no side
effects at all.
"""

import math
from bisect import bisect_right


def step_decay(base_lr, t, step_size, gamma):
    """η_t = η₀ · γ^⌊t / step_size⌋"""
    return base_lr * gamma ** (t // step_size)


def multistep_decay(base_lr, t, milestones, gamma):
    """η_t = η₀ · γ^(number of milestones ≤ t)"""
    return base_lr * gamma ** bisect_right(sorted(milestones), t)


def constant_factor(base_lr, t, factor, total_iters):
    """η_t = η₀ · factor for t < total_iters, then η₀"""
    return base_lr * (factor if t < total_iters else 1.0)


def linear_factor(base_lr, t, start_factor, end_factor, total_iters):
    """η_t = η₀ · (start + (end − start) · min(t, T) / T)"""
    progress = min(t, total_iters) / total_iters if total_iters > 0 else 1.0
    return base_lr * (start_factor + (end_factor - start_factor) * progress)


def exponential_decay(base_lr, t, gamma):
    """η_t = η₀ · γ^t"""
    return base_lr * gamma ** t


def polynomial_decay(base_lr, t, total_iters, power):
    """η_t = η₀ · (1 − min(t, T) / T)^power"""
    return base_lr * (1.0 - min(t, total_iters) / total_iters) ** power


def inverse_time_decay(base_lr, t, decay_rate):
    """η_t = η₀ / (1 + k·t), the classic decay that satisfies Σηₜ = ∞, Σηₜ² < ∞."""
    return base_lr / (1.0 + decay_rate * t)


def cosine_annealing(base_lr, t, T_max, eta_min):  # noqa: N803 - PyTorch's argument names
    """η_t = η_min + (η₀ − η_min) · (1 + cos(π t / T_max)) / 2 — not clamped: past T_max it rises again."""
    return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * t / T_max)) / 2


def warm_restart_position(t, T_0, T_mult):  # noqa: N803
    """(T_cur, T_i): where step t falls in warm restarts of lengths T_0, T_0·T_mult, T_0·T_mult², …"""
    if t < T_0:
        return t, T_0
    if T_mult == 1:
        return t % T_0, T_0
    n = int(math.log(t / T_0 * (T_mult - 1) + 1, T_mult))
    t_cur, t_i = t - T_0 * (T_mult ** n - 1) / (T_mult - 1), T_0 * T_mult ** n
    if t_cur >= t_i:  # guard against rounding in the logarithm
        t_cur, t_i = t_cur - t_i, t_i * T_mult
    return t_cur, t_i


def cyclic(t, base, peak, step_size_up, step_size_down, scale_fn, scale_mode):
    """The triangular cycle of CyclicLR: base → peak in step_size_up steps, back in step_size_down.

    Returns (value, scale_factor, scale): value = base + (peak − base) · scale_factor · scale.
    """
    total = step_size_up + step_size_down
    step_ratio = step_size_up / total
    cycle = math.floor(1 + t / total)
    x = 1.0 + t / total - cycle
    scale_factor = x / step_ratio if x <= step_ratio else (x - 1) / (step_ratio - 1)
    scale = scale_fn(cycle) if scale_mode == "cycle" else scale_fn(t)
    return base + (peak - base) * scale_factor * scale, scale_factor, scale


def anneal(start, end, pct, strategy):
    """From ``start`` (pct = 0) to ``end`` (pct = 1): half a cosine, or a straight line."""
    if strategy == "cos":
        return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
    return (end - start) * pct + start


def one_cycle(t, phases, strategy, key):
    """OneCycleLR's value ``key`` ("lr" or "momentum") at step t, given its phases."""
    start_step = 0.0
    for i, phase in enumerate(phases):
        end_step = phase["end_step"]
        if t <= end_step or i == len(phases) - 1:
            pct = (t - start_step) / (end_step - start_step)
            return anneal(phase[f"start_{key}"], phase[f"end_{key}"], pct, strategy)
        start_step = end_step
    raise AssertionError("unreachable")
