"""The backward pass: the chain rule applied node by node, in reverse.

1. Order the graph. Walk from the roots along ``next_edges`` (with an explicit
   stack, never recursion, so a 200,000-op chain works) and count, for every
   node, how many edges lead into it from the part of the graph being
   differentiated.

2. Apply the chain rule. A node is ready once every consumer has handed it its
   gradient (its count reaches zero). Pop a ready node, call its ``backward``
   with the summed gradients of its outputs, and pass each returned gradient
   along its edge: into another node's buffer, or into a leaf's ``.grad``.
   Ready nodes form a stack, so the order depends only on the graph: the same
   program always runs backward in the same order.

After a node has run, its saved tensors are released unless ``retain_graph``.
With ``create_graph`` the formulas run with grad mode on, so the gradients are
themselves graph outputs that can be differentiated again.
"""

from minigrad.autograd.grad_mode import config


def run_backward(roots, root_grads, retain_graph=False, create_graph=False, inputs=None):
    """Propagate ``root_grads`` from ``roots`` (tensors) back through the graph.

    Args:
        roots: the output tensors; each must require grad.
        root_grads: one gradient tensor per root (same shape).
        retain_graph: keep saved tensors so backward can run again.
        create_graph: record the backward pass for higher-order gradients.
        inputs: when given (``autograd.grad``), the tensors whose gradients are
            returned instead of accumulated into ``.grad``.

    Returns:
        ``None``, or with ``inputs`` a list of gradients (``None`` where unused).
    """
    captures = _capture_slots(inputs) if inputs is not None else None
    captured = [None] * len(inputs) if inputs is not None else None

    buffers = {}  # node -> list of summed gradients, one per output
    root_nodes = []
    previous, config.grad_enabled = config.grad_enabled, create_graph
    try:
        for tensor, grad in zip(roots, root_grads):
            if tensor.grad_fn is None:  # a leaf root: its gradient is the one given
                _deliver_to_leaf(tensor, grad, captures, captured, create_graph)
                continue
            node = tensor.grad_fn
            if node not in buffers:
                buffers[node] = [None] * node._num_outputs
                root_nodes.append(node)
            _add_into(buffers[node], tensor._output_nr, grad)

        dependencies = _count_dependencies(root_nodes)
        ready = [n for n in reversed(root_nodes) if dependencies.get(n, 0) == 0]
        while ready:
            node = ready.pop()
            slots = buffers.pop(node, None)
            if slots is None:  # every consumer returned None: nothing flows through this node
                grads_in = (None,) * len(node.next_edges)
            else:
                grads_out = _materialize(node, slots)
                _serve_retained_and_captured(node, grads_out, captures, captured, create_graph)
                grads_in = _call_backward(node, grads_out)
                if not retain_graph:
                    node.release()
            for edge, grad in zip(node.next_edges, grads_in):
                if edge is None:
                    continue
                if type(edge) is tuple:
                    producer, nr = edge
                    if grad is not None:
                        slots = buffers.get(producer)
                        if slots is None:
                            slots = buffers[producer] = [None] * producer._num_outputs
                        _add_into(slots, nr, grad)
                    dependencies[producer] -= 1
                    if dependencies[producer] == 0:
                        ready.append(producer)
                elif grad is not None:
                    _deliver_to_leaf(edge, grad, captures, captured, create_graph)
    finally:
        config.grad_enabled = previous
    return captured


# ---------------------------------------------------------------- ordering
def _count_dependencies(root_nodes):
    """For each node reachable from the roots, the number of edges that lead into it."""
    dependencies = {}
    seen = set(root_nodes)
    stack = list(root_nodes)
    while stack:
        node = stack.pop()
        for edge in node.next_edges:
            if type(edge) is tuple:
                producer = edge[0]
                dependencies[producer] = dependencies.get(producer, 0) + 1
                if producer not in seen:
                    seen.add(producer)
                    stack.append(producer)
    return dependencies


# ---------------------------------------------------------------- the chain rule at one node
def _call_backward(node, grads_out):
    grads_in = type(node).backward(node, *grads_out)
    if not isinstance(grads_in, tuple):
        grads_in = (grads_in,)
    if len(grads_in) < len(node.next_edges):
        raise RuntimeError(
            f"function {node.name()} returned {len(grads_in)} gradients from backward, "
            f"expected {len(node.next_edges)} (one per forward argument)"
        )
    for i, (edge, grad) in enumerate(zip(node.next_edges, grads_in)):
        if edge is None or grad is None:
            continue
        expected = edge.shape if type(edge) is not tuple else None
        if expected is not None and grad.shape != expected:
            raise RuntimeError(
                f"function {node.name()} returned a gradient of shape {tuple(grad.shape)} "
                f"for input {i}, whose shape is {tuple(expected)}"
            )
        if config.anomaly and not bool(grad.isfinite().all()):
            where = node._creation_trace or "(the op was created before anomaly detection was on)\n"
            raise RuntimeError(
                f"Function '{node.name()}' returned nan or inf values in its gradient for input {i}.\n"
                f"The op was created at:\n{where}"
            )
    return grads_in


def _materialize(node, slots):
    """Outputs that received no gradient get zeros, so backward always sees tensors."""
    if all(g is not None for g in slots):
        return slots
    from minigrad.tensor import Tensor

    out = []
    for nr, g in enumerate(slots):
        if g is None:
            g = Tensor._wrap(node.output_device.backend.xp.zeros(node.output_shapes[nr], node.output_dtypes[nr]),
                             node.output_device)
        out.append(g)
    return out


def _add_into(slots, nr, grad):
    slots[nr] = grad if slots[nr] is None else slots[nr] + grad


# ---------------------------------------------------------------- where gradients end up
def _deliver_to_leaf(leaf, grad, captures, captured, create_graph):
    if captures is not None:
        slot = captures.get(id(leaf))
        if slot is not None:
            _add_into(captured, slot, grad)
        return
    _accumulate(leaf, grad, create_graph)


def _accumulate(tensor, grad, create_graph):
    """``tensor.grad += grad``: in place normally; out of place when recording (create_graph)."""
    if tensor.grad is None:
        tensor.grad = grad if create_graph else _fresh_grad(tensor, grad)
    elif create_graph or tensor.grad.requires_grad:
        tensor.grad = tensor.grad + grad
    else:
        tensor.grad._array += grad._array
        tensor.grad._counter().value += 1


def _fresh_grad(tensor, grad):
    """A gradient tensor with memory of its own: the flat slot an optimizer reserved, or a copy."""
    storage = getattr(tensor, "_grad_storage", None)  # set by optimizers that keep flat buffers
    if storage is not None and storage.shape == grad.shape and storage.dtype == grad._array.dtype:
        storage[...] = grad._array
        return type(grad)._wrap(storage, tensor.device)
    return grad._detached_copy()


def _serve_retained_and_captured(node, grads_out, captures, captured, create_graph):
    if node._retained:
        for nr, ref in node._retained.items():
            tensor = ref()
            if tensor is not None:
                _accumulate(tensor, grads_out[nr], create_graph)
    if captures:
        for nr, grad in enumerate(grads_out):
            slot = captures.get((id(node), nr))
            if slot is not None:
                _add_into(captured, slot, grad)


def _capture_slots(inputs):
    slots = {}
    for i, t in enumerate(inputs):
        key = id(t) if t.grad_fn is None else (id(t.grad_fn), t._output_nr)
        slots[key] = i
    return slots
