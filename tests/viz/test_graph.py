"""Graph drawing: the DOT text is checked as text; rendering runs when graphviz's dot is installed."""

import shutil

import pytest

import minigrad as mg
from minigrad import nn, viz


def _loss():
    model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 3))
    x = mg.randn(5, 2)
    return nn.CrossEntropyLoss()(model(x), mg.tensor([0, 1, 2, 1, 0])), model


def test_dot_names_ops_parameters_shapes_and_dtypes():
    loss, model = _loss()
    dot = viz.to_dot(loss, dict(model.named_parameters()))
    assert dot.startswith("digraph minigrad {") and dot.rstrip().endswith("}")
    for text in ("Linear\\n5×4 float32", "Tanh\\n5×4 float32", "WeightedNLL\\nscalar float32", "LogSoftmax\\n5×3 float32",
                 "0.weight\\n4×2 float32", "2.bias\\n3 float32", "output\\nscalar float32"):
        assert text in dot, text
    assert dot.count('penwidth="2"') == 4          # the four parameters require grad
    assert dot.count("->") == len(viz.graph_spec(loss)[1])


def test_unnamed_leaves_and_a_leaf_alone():
    x = mg.ones(3, requires_grad=True)
    dot = viz.to_dot((x * 2).sum())
    assert "tensor\\n3 float32" in dot and "Mul" in dot
    assert "tensor" in viz.to_dot(x)


def test_draw_graph_returns_a_digraph():
    graphviz = pytest.importorskip("graphviz")
    loss, model = _loss()
    g = viz.draw_graph(loss, dict(model.named_parameters()))
    assert isinstance(g, graphviz.Digraph) and "0.weight" in g.source


def test_render_writes_dot_and_an_image_when_dot_exists(tmp_path):
    if shutil.which("dot") is None:
        pytest.skip("graphviz's dot is not installed (CI installs it); the matplotlib drawing is tested below")
    loss, model = _loss()
    path, message = viz.render_graph(loss, str(tmp_path / "g"), dict(model.named_parameters()), format="png")
    assert (tmp_path / "g.dot").exists()
    assert path.endswith(".png") and message is None
    assert (tmp_path / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("format", ["png", "svg"])
def test_without_dot_the_picture_is_drawn_with_matplotlib(tmp_path, monkeypatch, format):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    loss, model = _loss()
    path, message = viz.render_graph(loss, str(tmp_path / "g"), dict(model.named_parameters()), format=format)
    assert path == str(tmp_path / f"g.{format}") and (tmp_path / "g.dot").exists()
    assert "matplotlib" in message and "graphviz" in message
    head = (tmp_path / f"g.{format}").read_bytes()[:200]
    assert head.startswith(b"\x89PNG") if format == "png" else b"<svg" in head or b"<?xml" in head


def test_the_layered_layout_puts_inputs_above_the_ops_that_use_them():
    loss, model = _loss()
    nodes, edges = viz.graph_spec(loss, dict(model.named_parameters()))
    position = viz.graph.layered_layout(nodes, edges)
    assert set(position) == {n["id"] for n in nodes}
    for a, b in edges:
        assert position[a][1] > position[b][1]                  # every edge points down
    output = next(n["id"] for n in nodes if n["kind"] == "output")
    assert position[output][1] == min(y for _, y in position.values())
    rows = {}
    for x, y in position.values():
        rows.setdefault(y, []).append(x)
    assert all(len(set(xs)) == len(xs) for xs in rows.values())   # no two nodes on one spot
