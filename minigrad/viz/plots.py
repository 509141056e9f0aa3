"""Figures of training, schedules, range tests, effective learning rates and trajectories (matplotlib).

Every function draws with the non-interactive Agg backend, writes a PNG (or any
format matplotlib knows, by the path's extension) and returns the path.
"""

import numpy as np

from minigrad._extras import install_hint


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise ImportError(f"plotting needs matplotlib: {install_hint('viz')}") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path):
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    _pyplot().close(fig)
    return path


def plot_history(history, path, title=None):
    """Loss (train/test), accuracy and η per epoch, side by side."""
    plt = _pyplot()
    panels = 3 if any(a is not None for a in history.train_acc) else 2
    fig, axes = plt.subplots(1, panels, figsize=(4.2 * panels, 3.4))
    axes[0].plot(history.epoch, history.train_loss, label="train")
    axes[0].plot(history.epoch, history.test_loss, label="test")
    axes[0].set(xlabel="epoch", ylabel="loss", yscale="log", title="loss")
    axes[0].legend()
    if panels == 3:
        axes[1].plot(history.epoch, history.train_acc, label="train")
        axes[1].plot(history.epoch, history.test_acc, label="test")
        axes[1].set(xlabel="epoch", ylabel="accuracy", title="accuracy", ylim=(0, 1.02))
        axes[1].legend()
    axes[-1].plot(history.epoch, history.lr, color="tab:red")
    axes[-1].set(xlabel="epoch", ylabel="η", title="learning rate")
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def plot_decision_boundary(model, x, y, path, resolution=200, test=None):
    """The classes a 2-D classifier predicts over the plane, with the data on top.

    Each class has one colour, light for the region the model predicts it and strong for its points; training
    points are filled circles and, when ``test`` = (x_test, y_test) is given, test points are open triangles.
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from minigrad.autograd.grad_mode import no_grad
    from minigrad.creation import tensor

    plt = _pyplot()
    splits = {"train": (_host(x), _host(y))}
    if test is not None:
        splits["test"] = (_host(test[0]), _host(test[1]))
    everything = np.concatenate([xs for xs, _ in splits.values()])
    lo, hi = everything.min(0) - 0.3, everything.max(0) + 0.3
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution))
    grid = tensor(np.stack([gx.ravel(), gy.ravel()], 1).astype(np.float32), device=x.device)
    model.eval()
    with no_grad():
        scores = model(grid)                             # (resolution², classes)
    model.train()
    classes = scores.shape[1]
    predicted = scores.argmax(1).cpu().numpy().reshape(gx.shape)
    colours = [plt.get_cmap("tab10")(k % 10) for k in range(classes)]
    fig, ax = plt.subplots(figsize=(6.6, 5))
    ax.contourf(gx, gy, predicted, levels=np.arange(classes + 1) - 0.5, colors=colours, alpha=0.25)
    xs, labels = splits["train"]
    ax.scatter(xs[:, 0], xs[:, 1], c=[colours[int(k)] for k in labels], marker="o", s=14, edgecolors="k",
               linewidths=0.3)
    if test is not None:
        xs, labels = splits["test"]
        ax.scatter(xs[:, 0], xs[:, 1], marker="^", s=26, facecolors="none", edgecolors=[colours[int(k)] for k in labels],
                   linewidths=1.1)
    handles = [Patch(facecolor=colours[k], label=f"class {k}") for k in range(classes)]
    handles.append(Line2D([], [], linestyle="none", marker="o", color="0.4", markeredgecolor="k",
                          label=f"train ({len(splits['train'][1])})"))
    if test is not None:
        handles.append(Line2D([], [], linestyle="none", marker="^", markerfacecolor="none", markeredgecolor="0.3",
                              markersize=7, label=f"test ({len(splits['test'][1])})"))
    ax.legend(handles=handles, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0)
    ax.set(title="decision boundary (shaded: the predicted class)", xlabel="x₁", ylabel="x₂",
           xlim=(lo[0], hi[0]), ylim=(lo[1], hi[1]))
    return _save(fig, path)


def _host(t):
    """A tensor's values as a NumPy array."""
    return t.detach().cpu().numpy()


def plot_curves(curves, path, xlabel="step", ylabel="loss", title=None, logy=True, marks=None):
    """Several named curves on one axis (e.g. the loss of each optimizer); ``marks``: {name: x} to flag."""
    return plot_panels([dict(curves=curves, xlabel=xlabel, ylabel=ylabel, title=title, logy=logy, marks=marks)], path)


def plot_panels(panels, path):
    """Side-by-side axes, each drawn like ``plot_curves`` from a dict of its arguments (curves, xlabel, ylabel,
    title, logy, marks; ``points``: {name: [(x, y), …]} drawn as markers, e.g. where a scheduler cut η;
    ``diverged``: {name: x} where a run diverged, drawn as an × at the top of the axes in the run's colour and
    said in its legend entry; ``start``: the x of each curve's first value, default 0)."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(panels), figsize=(6.2 * len(panels), 4.2), squeeze=False)
    for ax, panel in zip(axes[0], panels):
        colours = {}
        for name, values in panel["curves"].items():
            colours[name] = _draw_curve(ax, name, values, panel)
        for name, points in (panel.get("points") or {}).items():
            if points:
                xs, ys = zip(*points)
                ax.plot(xs, ys, "v", color=colours.get(name, "black"), markersize=7, label=f"{name}: η cut")
        ax.set(xlabel=panel.get("xlabel", "step"), ylabel=panel.get("ylabel", "loss"), title=panel.get("title") or "")
        if panel.get("logy", True):
            ax.set_yscale("log")
        if panel.get("diverged"):
            _headroom(ax, 0.12)                          # the × row clear of the curves
        if panel.get("xlabel") == "epoch":
            ax.xaxis.get_major_locator().set_params(integer=True)
        ax.legend(fontsize=8)
    return _save(fig, path)


def _headroom(ax, fraction):
    """Raise the top of the y axis by ``fraction`` of its span (of its decades on a log scale)."""
    low, high = ax.get_ylim()
    if ax.get_yscale() == "log":
        ax.set_ylim(low, high * (high / low) ** fraction)
    else:
        ax.set_ylim(low, high + (high - low) * fraction)


def _draw_curve(ax, name, values, panel):
    """One curve of a panel, its dotted mark, and its × if it diverged; returns its colour."""
    finite = [v if v is not None and np.isfinite(v) else np.nan for v in values]
    start = panel.get("start", 0)
    diverged_at = (panel.get("diverged") or {}).get(name)
    few = sum(np.isfinite(finite)) < 2                   # a lone point draws no line: give it a dot
    line, = ax.plot(range(start, start + len(finite)), finite, linewidth=1.2, marker="o" if few else None,
                    markersize=4, label=name if diverged_at is None else "_nolegend_")
    mark = (panel.get("marks") or {}).get(name)
    if mark is not None:
        ax.axvline(mark, color=line.get_color(), linestyle=":", linewidth=1)
    if diverged_at is not None:
        # x in data, y in axes coordinates: the × sits at the top, where the loss went off the scale
        ax.plot([diverged_at], [0.96], "x", color=line.get_color(), markersize=11, markeredgewidth=2.5,
                transform=ax.get_xaxis_transform(), clip_on=False,
                label=f"{name}: diverged ({panel.get('xlabel', 'step')} {diverged_at})")
    return line.get_color()


def plot_schedules(schedules, path, title="learning-rate schedules"):
    """{name: list of η per step} as one panel each."""
    plt = _pyplot()
    n = len(schedules)
    cols = min(4, n)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.4 * rows), squeeze=False)
    for ax, (name, lrs) in zip(axes.ravel(), schedules.items()):
        ax.plot(lrs, color="tab:red")
        ax.set_title(name, fontsize=9)
        ax.tick_params(labelsize=7)
    for ax in axes.ravel()[n:]:
        ax.axis("off")
    fig.suptitle(title)
    return _save(fig, path)


def plot_range_test(result, path):
    """Smoothed loss against η, both on log scales, clipped above at 4× the starting loss (where the blow-up
    begins), with the suggested η and the lowest smoothed loss marked."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    lrs, smoothed = np.asarray(result.lrs), np.asarray(result.losses, dtype=float)
    ax.plot(lrs, result.raw_losses, color="0.75", linewidth=0.8, label="loss")
    ax.plot(lrs, smoothed, color="tab:blue", label="smoothed")
    finite = smoothed[np.isfinite(smoothed) & (smoothed > 0)]
    if finite.size:
        ax.set_ylim(finite.min() * 0.8, finite[0] * 4)
        lowest = int(np.nanargmin(np.where(np.isfinite(smoothed), smoothed, np.inf)))
        ax.plot(lrs[lowest], smoothed[lowest], "o", color="0.3", label=f"lowest loss at η = {lrs[lowest]:.2g}")
    ax.axvline(result.suggested_lr, color="tab:red", linestyle="--", label=f"suggested η = {result.suggested_lr:.2g}")
    ax.set(xscale="log", yscale="log", xlabel="learning rate η", ylabel="loss (log scale)",
           title="learning-rate range test")
    ax.legend()
    return _save(fig, path)


def plot_trajectories(surface, paths, path, levels=30):
    """Each optimizer's path over the surface's contours, from the common start (○) to where it ended (■).

    Paths often run along the same valley, so the longest is drawn first, widest and underneath, and each shorter
    one narrower on top of it: every path stays visible as a band of its own colour. The legend keeps the order
    of ``paths``.
    """
    from matplotlib.lines import Line2D

    plt = _pyplot()
    (x0, x1), (y0, y1) = surface.bounds
    gx, gy = np.meshgrid(np.linspace(x0, x1, 300), np.linspace(y0, y1, 300))
    z = surface.numpy(gx, gy)
    fig, ax = plt.subplots(figsize=(6.5, 5))
    ax.contour(gx, gy, np.log1p(z - z.min()), levels=levels, cmap="Greys", linewidths=0.6, alpha=0.7)
    points = {name: np.asarray(p, dtype=float) for name, p in paths.items()}
    colours = dict(zip(points, plt.rcParams["axes.prop_cycle"].by_key()["color"] * 3))
    longest_first = sorted(points, key=lambda name: -_path_length(points[name]))
    widths = np.linspace(6.0, 1.5, len(points)) if len(points) > 1 else [1.6]
    for rank, name in enumerate(longest_first):
        pts = points[name]                               # (steps + 1, 2)
        ax.plot(pts[:, 0], pts[:, 1], color=colours[name], linewidth=widths[rank], alpha=0.85,
                solid_capstyle="round", zorder=2 + rank)
        ax.plot(*pts[-1], marker="s", color=colours[name], markeredgecolor="k", markersize=7, zorder=20)
    start = next(iter(points.values()))[0]
    ax.plot(*start, marker="o", color="white", markeredgecolor="k", markersize=10, zorder=21)
    ax.plot(*surface.minimum, marker="*", color="gold", markersize=15, markeredgecolor="k", zorder=22)
    handles = [Line2D([], [], color=colours[name], linewidth=2.5, marker="s", markeredgecolor="k", label=name)
               for name in points]
    handles += [Line2D([], [], linestyle="none", marker="o", color="white", markeredgecolor="k", markersize=9,
                       label="start"),
                Line2D([], [], linestyle="none", marker="*", color="gold", markeredgecolor="k", markersize=12,
                       label="minimum")]
    ax.set(xlim=(x0, x1), ylim=(y0, y1), xlabel="x", ylabel="y", title=surface.title)
    ax.legend(handles=handles, fontsize=8, loc="best", title="■ where each path ended", title_fontsize=8)
    return _save(fig, path)


def _path_length(points):
    """The length of a path of 2-D points (the sum of its steps)."""
    return float(np.hypot(*np.diff(points, axis=0).T).sum()) if len(points) > 1 else 0.0


def plot_sweep_curves(rows, path, target_loss=None):
    """Median loss over the last epochs against η (log-log), one line per optimizer and schedule; × marks an η
    where some seed diverged, the dotted line the target loss."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    labels = sorted({(r["optimizer"], r["schedule"]) for r in rows})
    finite = [r["summary_loss"] for r in rows if np.isfinite(r["summary_loss"])]
    top = max(finite) * 2 if finite else 10.0
    for optimizer, schedule in labels:
        mine = sorted((r for r in rows if (r["optimizer"], r["schedule"]) == (optimizer, schedule)),
                      key=lambda r: r["lr"])
        name = optimizer if len({s for _, s in labels}) == 1 else f"{optimizer}, {schedule}"
        lrs = [r["lr"] for r in mine]
        losses = [r["summary_loss"] if np.isfinite(r["summary_loss"]) else np.nan for r in mine]
        line, = ax.plot(lrs, losses, marker="o", markersize=3, label=name)
        diverged = [r["lr"] for r in mine if r["diverged"]]
        row = top * 1.25 ** labels.index((optimizer, schedule))       # one row of × per line, in its colour
        ax.plot(diverged, [row] * len(diverged), "x", color=line.get_color())
    if target_loss is not None:
        ax.axhline(target_loss, color="0.5", linestyle=":", label=f"target {target_loss:g}")
    ax.set(xscale="log", yscale="log", xlabel="learning rate η",
           ylabel="training loss, mean of the last 5 epochs", title="loss against η (× at the top: diverged)")
    ax.legend(fontsize=8)
    return _save(fig, path)


def plot_sweep_heatmap(rows, path):
    """The median loss for each optimizer (and schedule) and η, written in its cell and coloured on a log scale
    from green (low: good) to red (high: bad); a cell where any seed diverged is grey and says how many did."""
    from matplotlib.colors import LogNorm

    plt = _pyplot()
    labels = sorted({(r["optimizer"], r["schedule"]) for r in rows})
    lrs = sorted({r["lr"] for r in rows})
    grid = np.full((len(labels), len(lrs)), np.nan)      # (optimizer and schedule, η)
    fig, ax = plt.subplots(figsize=(max(6, 0.62 * len(lrs) + 2.6), 0.5 * len(labels) + 1.9))
    for r in rows:
        i, j = labels.index((r["optimizer"], r["schedule"])), lrs.index(r["lr"])
        if r["diverged"]:
            partly = "" if r["diverged"] == r["seeds"] else f"\n{r['diverged']}/{r['seeds']}"
            ax.text(j, i, "diverged" + partly, ha="center", va="center", fontsize=6, color="0.25")
        elif np.isfinite(r["summary_loss"]) and r["summary_loss"] > 0:
            grid[i, j] = r["summary_loss"]
    finite = grid[np.isfinite(grid)]
    low, high = (finite.min(), finite.max()) if finite.size else (1.0, 10.0)
    norm = LogNorm(low, high if high > low else low * 10)
    cmap = plt.get_cmap("RdYlGn_r").with_extremes(bad="0.88")
    image = ax.imshow(np.ma.masked_invalid(grid), cmap=cmap, norm=norm, aspect="auto")
    for (i, j), loss in np.ndenumerate(grid):
        if np.isfinite(loss):
            ax.text(j, i, f"{loss:.3g}", ha="center", va="center", fontsize=7, color=_ink(cmap(norm(loss))))
    bar = fig.colorbar(image, ax=ax, label="loss, last 5 epochs (log scale)\ngreen: low (good), red: high")
    bar.set_ticks(np.geomspace(norm.vmin, norm.vmax, 5), labels=[f"{v:.3g}" for v in np.geomspace(norm.vmin, norm.vmax, 5)])
    bar.ax.minorticks_off()
    one_schedule = len({s for _, s in labels}) == 1
    ax.set_yticks(range(len(labels)), [o if one_schedule else f"{o}, {s}" for o, s in labels])
    ax.set_xticks(range(len(lrs)), [f"{lr:.0e}" for lr in lrs], rotation=60, fontsize=7)
    ax.set(xlabel="learning rate η", title="loss for each optimizer and η (grey: diverged)")
    return _save(fig, path)


def _ink(rgba):
    """Black or white, whichever reads better on a cell of colour ``rgba``."""
    red, green, blue = rgba[:3]
    return "black" if 0.299 * red + 0.587 * green + 0.114 * blue > 0.5 else "white"
