"""Drawing a result's computation graph: built as data first, rendered second.

``graph_spec`` walks back from a tensor through ``grad_fn`` and returns plain
node and edge lists; ``to_dot`` turns them into DOT text (testable as text);
``draw_graph`` builds a ``graphviz.Digraph``; ``render_graph`` writes SVG/PNG
with the ``dot`` program, or the DOT text alone when ``dot`` is missing.
"""

import shutil

from minigrad.backend.base import dtype_of

INSTALL_DOT = ("the graphviz 'dot' program is not installed, so only the DOT text was written; install it "
               "(apt install graphviz, brew install graphviz, or conda install graphviz) to get pictures")


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
        raise ImportError("draw_graph needs the graphviz package: pip install 'minigrad[viz]' "
                          "(to_dot works without it)") from None
    nodes, edges = graph_spec(tensor, params)
    dot = graphviz.Digraph("minigrad", node_attr={"fontname": "Helvetica", "fontsize": "10"})
    for n in nodes:
        dot.node(n["id"], n["label"], **_attributes(n))
    for a, b in edges:
        dot.edge(a, b)
    return dot


def render_graph(tensor, path, params=None, format="svg"):  # noqa: A002 - graphviz's argument name
    """Write the graph to ``path`` (without extension) as ``format``; returns (written_path, message).

    Without the ``dot`` program, writes ``path.dot`` and returns a message saying how to install it.
    """
    text = to_dot(tensor, params)
    dot_path = f"{path}.dot"
    with open(dot_path, "w", encoding="utf-8") as f:
        f.write(text)
    if shutil.which("dot") is None:
        return dot_path, INSTALL_DOT
    out_path = draw_graph(tensor, params).render(outfile=f"{path}.{format}", format=format, cleanup=True)
    return out_path, None
