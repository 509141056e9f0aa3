"""Plot helpers write valid images (matplotlib, Agg backend) and draw what each figure is there to show."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, optim
from minigrad.optim import lr_scheduler
from minigrad.optim.lr_tools.surfaces import SURFACES, trajectory
from minigrad.training.trainer import History

plots = pytest.importorskip("minigrad.viz.plots")
pytest.importorskip("matplotlib")

PNG = b"\x89PNG\r\n\x1a\n"


def _is_png(path):
    with open(path, "rb") as f:
        return f.read(8) == PNG


def test_history_schedules_curves_and_boundary(tmp_path):
    h = History(epoch=[1, 2, 3], train_loss=[1.0, 0.5, 0.2], train_acc=[0.5, 0.7, 0.9], test_loss=[1.1, 0.6, 0.3],
                test_acc=[0.4, 0.6, 0.8], lr=[0.1, 0.05, 0.01])
    assert _is_png(plots.plot_history(h, tmp_path / "h.png"))
    schedules = {"step": lr_scheduler.StepLR(0.1, step_size=10).preview(50),
                 "cosine": lr_scheduler.CosineAnnealingLR(0.1, T_max=50).preview(50)}
    assert _is_png(plots.plot_schedules(schedules, tmp_path / "s.png"))
    assert _is_png(plots.plot_curves({"a": [1.0, 0.5, float("inf")]}, tmp_path / "c.png", marks={"a": 2}))
    x, y = mg.datasets.blobs(n_samples=60)
    assert _is_png(plots.plot_decision_boundary(nn.Linear(2, 3), x, y, tmp_path / "b.png", resolution=40))


def test_range_test_and_trajectories(tmp_path):
    model = nn.Linear(2, 1)
    x, y = mg.randn(64, 2), mg.randn(64, 1)
    result = optim.lr_range_test(model, optim.SGD(model.parameters(), lr=0.1), nn.MSELoss(), [(x, y)], num_steps=20)
    assert _is_png(plots.plot_range_test(result, tmp_path / "r.png"))
    surface = SURFACES["beale"]
    paths = {"adam": trajectory(surface, lambda p: optim.Adam(p, lr=0.05), steps=20)}
    assert _is_png(plots.plot_trajectories(surface, paths, tmp_path / "t.png"))


# ---------------------------------------------------------------- what the figures show

@pytest.fixture
def figures(monkeypatch):
    """The figures the plot functions draw, kept open for inspection instead of written to disk."""
    import matplotlib.pyplot as plt

    drawn = []

    def keep(fig, path):
        drawn.append(fig)
        return path

    monkeypatch.setattr(plots, "_save", keep)
    yield drawn
    for fig in drawn:
        plt.close(fig)


def _legend_texts(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def _crosses(ax):
    return [line for line in ax.get_lines() if line.get_marker() == "x"]


def test_a_diverged_run_gets_an_x_at_its_step_and_says_so_in_the_legend(tmp_path, figures):
    curves = {"adam η=0.01": [1.0, 0.8, 0.6, 0.5], "adam η=1": [1.0]}
    plots.plot_panels([dict(curves=curves, diverged={"adam η=1": 1})], tmp_path / "p.png")
    (ax,) = figures[0].axes
    assert _legend_texts(ax) == ["adam η=0.01", "adam η=1: diverged (step 1)"]
    (cross,) = _crosses(ax)
    assert list(cross.get_xdata()) == [1]
    colours = {line.get_label(): line.get_color() for line in ax.get_lines()}
    assert cross.get_color() == [c for label, c in colours.items() if label == "_nolegend_"][0]   # the run's colour
    lone = [line for line in ax.get_lines() if line.get_label() == "_nolegend_"][0]
    assert lone.get_marker() == "o"                  # a run with one point left is still visible


def test_trajectories_have_start_end_labels_and_keep_every_path_visible(tmp_path, figures):
    surface = SURFACES["rosenbrock"]
    paths = {"sgd": trajectory(surface, lambda p: optim.SGD(p, lr=1e-3), steps=30),
             "adam": trajectory(surface, lambda p: optim.Adam(p, lr=0.1), steps=30)}
    plots.plot_trajectories(surface, paths, tmp_path / "t.png")
    (ax,) = figures[0].axes
    assert ax.get_xlabel() == "x" and ax.get_ylabel() == "y"
    assert _legend_texts(ax) == ["sgd", "adam", "start", "minimum"]
    ends = [line for line in ax.get_lines() if line.get_marker() == "s"]
    assert sorted((line.get_xdata()[0], line.get_ydata()[0]) for line in ends) == sorted(map(tuple, (
        paths["sgd"][-1], paths["adam"][-1])))
    colours = {handle.get_label(): handle.get_color() for handle in ax.get_legend().legend_handles}
    drawn = {line.get_color(): line for line in ax.get_lines() if len(line.get_xdata()) > 1}
    length = {name: np.hypot(*np.diff(np.asarray(points), axis=0).T).sum() for name, points in paths.items()}
    longer, shorter = (drawn[colours[name]] for name in sorted(length, key=length.get, reverse=True))
    assert longer.get_zorder() < shorter.get_zorder() and longer.get_linewidth() > shorter.get_linewidth()
    assert all(line.get_alpha() < 1 for line in drawn.values())


def test_decision_boundary_has_axes_a_class_legend_and_tells_train_from_test(tmp_path, figures):
    x, y = mg.datasets.blobs(n_samples=90)
    x_test, y_test = mg.datasets.blobs(n_samples=30)
    plots.plot_decision_boundary(nn.Linear(2, 3), x, y, tmp_path / "b.png", resolution=40, test=(x_test, y_test))
    (ax,) = figures[0].axes
    assert ax.get_xlabel() and ax.get_ylabel() and len(ax.get_xticks()) > 0
    assert _legend_texts(ax) == ["class 0", "class 1", "class 2", "train (90)", "test (30)"]
    train, test = [c for c in ax.collections if len(c.get_offsets()) in (90, 30)]
    assert train.get_paths()[0] != test.get_paths()[0]                 # circles and triangles
    assert len(test.get_facecolors()) == 0 and len(train.get_facecolors()) > 0     # open and filled


def test_sweep_heatmap_writes_each_loss_and_colours_low_loss_green(tmp_path, figures):
    row = dict(optimizer="adam", schedule="constant", seeds=2, diverged=0)
    rows = [dict(row, lr=1e-3, summary_loss=0.912), dict(row, lr=1e-2, summary_loss=0.0871),
            dict(row, lr=1e-1, diverged=2, summary_loss=float("inf")), dict(row, lr=1.0, diverged=1, summary_loss=2.0)]
    plots.plot_sweep_heatmap(rows, tmp_path / "h.png")
    ax, bar = figures[0].axes
    assert sorted(t.get_text() for t in ax.texts) == ["0.0871", "0.912", "diverged", "diverged\n1/2"]
    assert "low (good)" in bar.get_ylabel()
    image = ax.get_images()[0]
    good, bad = image.cmap(image.norm(0.0871)), image.cmap(image.norm(0.912))
    assert good[1] > good[0] and bad[0] > bad[1]                       # low loss green, high loss red
