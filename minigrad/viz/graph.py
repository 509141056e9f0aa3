"""Drawing a result's computation graph: built as data first, rendered second.

``graph_spec`` walks back from a tensor through ``grad_fn`` and returns plain
node and edge lists; ``to_dot`` turns them into DOT text (testable as text);
``draw_graph`` builds a ``graphviz.Digraph``; ``render_graph`` writes SVG/PNG
with the ``dot`` program, or draws it with matplotlib on a layered layout when
``dot`` is missing.
"""

import shutil

from minigrad._extras import install_hint
from minigrad.backend.base import dtype_of

INSTALL_DOT = ("the graphviz 'dot' program is not installed, so the picture was drawn with matplotlib; install "
               "it (apt install graphviz, brew install graphviz, or conda install graphviz) for a nicer layout")
NO_PICTURE = ("neither graphviz's 'dot' program nor matplotlib is installed, so only the DOT text was written: "
              f"{install_hint('viz')} draws it with matplotlib")


def _describe(shape, dtype):
    dims = "×".join(str(n) for n in shape) if shape else "scalar"
    return f"{dims} {dtype.name if hasattr(dtype, 'is_floating_point') else dtype_of(dtype).name}"


def graph_spec(tensor, params=None):
    """Nodes and edges of the graph that produced ``tensor``.

    Args:
        tensor: the result (e.g. a loss).
        params: optional {name: tensor} (``dict(model.named_parameters())``) to label leaves.

    Returns:
        (nodes, edges): nodes are dicts with id, label, kind ("op", "leaf", "output"),
        requires_grad; edges are (from_id, to_id) pairs, inputs pointing to the op that used them.
        A leaf that requires grad is drawn where its ``AccumulateGrad`` node is.
    """
    names = {id(p): n for n, p in (params or {}).items()}
    nodes, edges, ids = [], [], {}

    def node_id(key, make):
        if key not in ids:
            ids[key] = f"n{len(ids)}"
            nodes.append(make(ids[key]))
        return ids[key]

    def leaf(t):
        return lambda nid: {"id": nid, "kind": "leaf", "requires_grad": t.requires_grad,
                            "label": f"{names.get(id(t), 'tensor')}\n{_describe(t.shape, t.dtype)}"}

    def op(fn):
        shape, dtype = fn._output_meta[0]
        return lambda nid: {"id": nid, "kind": "op", "requires_grad": True,
                            "label": f"{type(fn).__name__}\n{_describe(shape, dtype)}"}

    def visit(fn):
        if hasattr(fn, "variable"):                               # a leaf's AccumulateGrad
            return node_id(id(fn.variable), leaf(fn.variable))
        return node_id(id(fn), op(fn))

    if tensor.grad_fn is None:
        node_id(id(tensor), leaf(tensor))
        return nodes, edges
    out = node_id(("output", id(tensor)), lambda nid: {
        "id": nid, "kind": "output", "requires_grad": tensor.requires_grad,
        "label": f"output\n{_describe(tensor.shape, tensor.dtype)}"})
    edges.append((visit(tensor.grad_fn), out))
    stack, seen = [tensor.grad_fn], {id(tensor.grad_fn)}
    while stack:
        fn = stack.pop()
        target = visit(fn)
        for child, _ in fn.next_functions:
            if child is None:
                continue
            edges.append((visit(child), target))
            if id(child) not in seen:
                seen.add(id(child))
                stack.append(child)
    return nodes, edges


STYLES = {
    "op": {"shape": "box", "style": "rounded,filled", "fillcolor": "#e8eef7"},
    "leaf": {"shape": "ellipse", "style": "filled", "fillcolor": "#fde9b6"},
    "output": {"shape": "box", "style": "filled,bold", "fillcolor": "#d8f0d2"},
}


def _attributes(node):
    """Graphviz attributes of a node; leaves that require grad get a thick outline."""
    attrs = dict(STYLES[node["kind"]])
    if node["kind"] == "leaf" and node["requires_grad"]:
        attrs["penwidth"] = "2"
    return attrs


def to_dot(tensor, params=None):
    """The computation graph of ``tensor`` as DOT text: ops as boxes, leaves as ellipses (bold: requires grad)."""
    nodes, edges = graph_spec(tensor, params)
    lines = ["digraph minigrad {", '  node [fontname="Helvetica", fontsize=10];']
    for n in nodes:
        label = n["label"].replace('"', r"\"").replace("\n", r"\n")
        attrs = "".join(f', {k}="{v}"' for k, v in _attributes(n).items())
        lines.append(f'  {n["id"]} [label="{label}"{attrs}];')
    lines += [f"  {a} -> {b};" for a, b in edges]
    lines.append("}")
    return "\n".join(lines) + "\n"


def draw_graph(tensor, params=None):
    """A ``graphviz.Digraph`` of the graph (needs the graphviz Python package: the viz extra)."""
    try:
        import graphviz
    except ImportError:
        raise ImportError(f"draw_graph needs the graphviz package: {install_hint('viz')} "
                          "(to_dot works without it)") from None
    nodes, edges = graph_spec(tensor, params)
    dot = graphviz.Digraph("minigrad", node_attr={"fontname": "Helvetica", "fontsize": "10"})
    for n in nodes:
        dot.node(n["id"], n["label"], **_attributes(n))
    for a, b in edges:
        dot.edge(a, b)
    return dot


def render_graph(tensor, path, params=None, format="svg"):  # noqa: A002 - graphviz's argument name
    """Write the graph to ``path`` (without extension) as ``format``, and its DOT text to ``path.dot``;
    returns (written_path, message).

    Without Graphviz's ``dot`` program the picture is drawn with matplotlib (``layered_layout``) and the
    message says that Graphviz lays it out better; without matplotlib either, only the DOT text is written.
    """
    text = to_dot(tensor, params)
    dot_path = f"{path}.dot"
    with open(dot_path, "w", encoding="utf-8") as f:
        f.write(text)
    out_path = f"{path}.{format}"
    if shutil.which("dot") is not None:
        return draw_graph(tensor, params).render(outfile=out_path, format=format, cleanup=True), None
    try:
        draw_graph_with_matplotlib(tensor, out_path, params)
    except ImportError:
        return dot_path, NO_PICTURE
    return out_path, INSTALL_DOT


def layered_layout(nodes, edges):
    """(x, y) for every node id, Graphviz-like: inputs on top, the output at the bottom.

    An op's layer is one below its deepest input; a leaf sits one layer above the
    first op that uses it. Within each layer nodes are ordered by the mean position
    of their neighbours, in one sweep down (by inputs) and one sweep up (by users).
    """
    inputs = {n["id"]: [] for n in nodes}
    users = {n["id"]: [] for n in nodes}
    for a, b in edges:
        inputs[b].append(a)
        users[a].append(b)
    layer = {}

    def depth(nid):                                   # memoised longest path; the graph has no cycles
        if nid not in layer:
            layer[nid] = 1 + max((depth(a) for a in inputs[nid]), default=-1)
        return layer[nid]

    for n in nodes:
        depth(n["id"])
    for nid in layer:
        if not inputs[nid] and users[nid]:
            layer[nid] = min(layer[u] for u in users[nid]) - 1
    levels = sorted(set(layer.values()))
    rows = {level: [n["id"] for n in nodes if layer[n["id"]] == level] for level in levels}
    x = {}

    def place(order, neighbours):
        for level in order:
            row = rows[level]
            row.sort(key=lambda nid: _mean([x[m] for m in neighbours[nid] if m in x], default=x.get(nid, 0)))
            for i, nid in enumerate(row):
                x[nid] = i - (len(row) - 1) / 2

    place(levels, inputs)
    place(levels[::-1], users)
    return {nid: (x[nid], -(layer[nid] - levels[0])) for nid in layer}


def _mean(values, default):
    return sum(values) / len(values) if values else default


COLOURS = {"op": "#e8eef7", "leaf": "#fde9b6", "output": "#d8f0d2"}


def draw_graph_with_matplotlib(tensor, path, params=None):
    """The graph drawn with matplotlib on ``layered_layout``: boxes for ops, rounded boxes for leaves (a thick
    outline: requires grad), arrows from each input to the op that used it."""
    from minigrad.viz.plots import _pyplot, _save

    plt = _pyplot()
    nodes, edges = graph_spec(tensor, params)
    position = layered_layout(nodes, edges)
    width = max((x for x, _ in position.values()), default=0) - min((x for x, _ in position.values()), default=0)
    depth = -min((y for _, y in position.values()), default=0)
    fig, ax = plt.subplots(figsize=(max(4.0, 2.2 * (width + 1)), max(3.0, 1.1 * (depth + 1))))
    boxes = {}
    for n in nodes:
        box = "round,pad=0.35" if n["kind"] == "leaf" else "square,pad=0.35"
        thick = n["kind"] == "leaf" and n["requires_grad"]
        boxes[n["id"]] = ax.text(*position[n["id"]], n["label"], ha="center", va="center", fontsize=8,
                                 bbox={"boxstyle": box, "facecolor": COLOURS[n["kind"]], "edgecolor": "0.2",
                                       "linewidth": 2 if thick else 0.8})
    for a, b in edges:                                # each arrow ends at the edge of its boxes, head visible
        ax.annotate("", xy=position[b], xytext=position[a],
                    arrowprops={"arrowstyle": "->", "color": "0.45", "patchA": boxes[a].get_bbox_patch(),
                                "patchB": boxes[b].get_bbox_patch()})
    ax.set_xlim(min(x for x, _ in position.values()) - 0.8, max(x for x, _ in position.values()) + 0.8)
    ax.set_ylim(-depth - 0.6, 0.6)
    ax.axis("off")
    return _save(fig, path)
