"""Pictures: the computation graph (graphviz) and training curves, schedules, trajectories (matplotlib)."""

from minigrad.viz.graph import draw_graph, graph_spec, render_graph, to_dot  # noqa: F401
