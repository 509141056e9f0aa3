"""Seeing the learning rate: per-parameter summaries of the step size an optimizer is applying.

``optimizer.effective_lr()`` gives, for every parameter, the per-element rate
of the current step (η for SGD, η_t/(√s+ε) for Adagrad, η/d for RMSprop, the
bias-corrected η/(1−β1ᵗ)/(√v̂+ε) for Adam). ``lr_summary`` condenses that into
mean/min/max per parameter, with the update-to-weight ratio ‖Δθ‖/‖θ‖ of the
last step when the optimizer tracks updates.
"""


def lr_summary(optimizer, names=None):
    """One row per parameter: its name, the mean/min/max effective rate, and ‖Δθ‖/‖θ‖ of the last step.

    Args:
        optimizer: any minigrad optimizer.
        names: optional {name: parameter} (e.g. ``dict(model.named_parameters())``) to label the rows.

    Returns:
        A list of dicts with keys name, shape, mean, min, max, update_ratio (None unless
        ``optimizer.track_updates`` was True during the last step).

    Example:
        >>> optimizer.track_updates = True
        >>> ...; optimizer.step()
        >>> for row in lr_summary(optimizer, dict(model.named_parameters())): print(row)
    """
    label = {id(p): n for n, p in (names or {}).items()}
    rows = []
    for index, (param, rate) in enumerate(optimizer.effective_lr().items()):
        values = rate.cpu().numpy()                      # a report: read on the host
        rows.append({
            "name": label.get(id(param), f"param{index}"),
            "shape": tuple(param.shape),
            "mean": float(values.mean()),
            "min": float(values.min()),
            "max": float(values.max()),
            "update_ratio": optimizer.last_update_ratio.get(param),
        })
    return rows


def format_lr_summary(rows):
    """The rows of ``lr_summary`` as an aligned text table."""
    lines = [f"{'parameter':<24}{'shape':<14}{'mean η_eff':>12}{'min':>12}{'max':>12}{'‖Δθ‖/‖θ‖':>12}"]
    for r in rows:
        ratio = "" if r["update_ratio"] is None else f"{r['update_ratio']:.3e}"
        lines.append(f"{r['name']:<24}{str(r['shape']):<14}{r['mean']:>12.3e}{r['min']:>12.3e}{r['max']:>12.3e}{ratio:>12}")
    return "\n".join(lines)
