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

Gradients travel as raw backend arrays unless ``create_graph`` is set: the
primitives' formulas run directly on NumPy/CuPy arrays (see
``minigrad.ops.backward_math``), and only user-defined Functions see tensors.
With ``create_graph`` everything is a tensor and the formulas run with grad
mode on, so the gradients are themselves graph outputs that can be
differentiated again. After a node has run, its saved tensors are released
unless ``retain_graph``.
"""

from minigrad.autograd.grad_mode import config
from minigrad.backend import array_module
from minigrad.tensor import Tensor


def run_backward(roots, root_grads, retain_graph=False, create_graph=False, inputs=None):
    """Propagate ``root_grads`` from ``roots`` (tensors) back through the graph.

    Args:
        roots: the output tensors; each must require grad.
        root_grads: one gradient per root (same shape): a tensor, or a raw array.
        retain_graph: keep saved tensors so backward can run again.
        create_graph: record the backward pass for higher-order gradients.
        inputs: when given (``autograd.grad``), the tensors whose gradients are
            returned instead of accumulated into ``.grad``.

    Returns:
        ``None``, or with ``inputs`` a list of gradient tensors (``None`` where unused).
    """
    raw = not create_graph
    captures = _capture_slots(inputs) if inputs is not None else None
    captured = [None] * len(inputs) if inputs is not None else None

    buffers = {}  # node -> list of summed gradients, one per output
    root_nodes = []
    previous, config.grad_enabled = config.grad_enabled, create_graph
    try:
        for tensor, grad in zip(roots, root_grads):
            if isinstance(grad, Tensor):
                grad = grad._array if raw else grad
            elif not raw:
                grad = Tensor._wrap(grad, tensor._device)
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
            edges = node.next_edges
            if slots is None:  # every consumer returned None: nothing flows through this node
                grads_in = (None,) * len(edges)
            else:
                if node._num_outputs != 1 or slots[0] is None:
                    slots = _materialize(node, slots, raw)
                if node._retained or captures:
                    _serve_retained_and_captured(node, slots, captures, captured, create_graph)
                if raw and node.raw_backward and not config.anomaly:  # the common case, inline
                    node._raw = True
                    node._direct = captures is None
                    try:
                        grads_in = node.backward(node, *slots)
                    finally:
                        node._raw = node._direct = False
                    if type(grads_in) is not tuple:
                        grads_in = (grads_in,)
                    if len(grads_in) < len(edges):
                        _check_count(node, grads_in)
                else:
                    grads_in = _call_backward(node, slots, raw)
                if not retain_graph:
                    node.release()
            for i, edge in enumerate(edges):
                if edge is None:
                    continue
                grad = grads_in[i]
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
                    if grad.shape != edge.shape:
                        raise RuntimeError(f"function {node.name()} returned a gradient of shape {tuple(grad.shape)} "
                                           f"for input {i}, whose shape is {tuple(edge.shape)}")
                    if raw and captures is None and edge.grad is None:  # the common case, inline
                        edge.grad = _fresh_grad(edge, grad)
                    else:
                        _deliver_to_leaf(edge, grad, captures, captured, create_graph)
    finally:
        config.grad_enabled = previous
    if captured is not None:
        captured = [g if g is None else _as_tensor(g, t.device) for g, t in zip(captured, inputs)]
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
def _call_backward(node, grads_out, raw):
    """Run ``node.backward``; on the fast path primitives get raw arrays, user Functions tensors."""
    if raw and node.raw_backward:
        node._raw = True
        try:
            grads_in = node.backward(node, *grads_out)
        finally:
            node._raw = False
    elif raw:  # a user-defined Function: tensors in, arrays out
        grads_in = node.backward(node, *(_as_tensor(g, node.output_device) for g in grads_out))
        grads_in = tuple(getattr(g, "_array", g) for g in grads_in) if type(grads_in) is tuple \
            else getattr(grads_in, "_array", grads_in)
    else:
        grads_in = node.backward(node, *grads_out)
    if type(grads_in) is not tuple:
        grads_in = (grads_in,)
    _check_count(node, grads_in)
    if config.anomaly:
        for i, grad in enumerate(grads_in):
            if grad is not None and not _all_finite(grad):
                where = node._creation_trace or "(the op was created before anomaly detection was on)\n"
                raise RuntimeError(
                    f"Function '{node.name()}' returned nan or inf values in its gradient for input {i}.\n"
                    f"The op was created at:\n{where}"
                )
    return grads_in


def _check_count(node, grads_in):
    if len(grads_in) < len(node.next_edges):
        raise RuntimeError(
            f"function {node.name()} returned {len(grads_in)} gradients from backward, "
            f"expected {len(node.next_edges)} (one per forward argument)"
        )


def _all_finite(grad):
    if hasattr(grad, "_array"):
        grad = grad._array
    return bool(array_module(grad).isfinite(grad).all())


def _materialize(node, slots, raw):
    """Outputs that received no gradient get zeros, so backward always sees values."""
    out = []
    for nr, g in enumerate(slots):
        if g is None:
            g = node.output_device.backend.xp.zeros(node.output_shapes[nr], node.output_dtypes[nr])
            g = g if raw else _as_tensor(g, node.output_device)
        out.append(g)
    return out


def _add_into(slots, nr, grad):
    slots[nr] = grad if slots[nr] is None else slots[nr] + grad


def _as_tensor(value, device):
    return value if isinstance(value, Tensor) else Tensor._wrap(value, device)


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
        tensor.grad = _as_tensor(grad, tensor.device) if create_graph else _fresh_grad(tensor, grad)
    elif create_graph or tensor.grad.requires_grad:
        tensor.grad = tensor.grad + _as_tensor(grad, tensor.device)
    else:
        tensor.grad._array += getattr(grad, "_array", grad)
        tensor.grad._counter().value += 1


def _fresh_grad(tensor, grad):
    """A gradient tensor with memory of its own: the flat slot an optimizer reserved, or a copy."""
    if isinstance(grad, Tensor):
        grad = grad._array
    storage = getattr(tensor, "_grad_storage", None)  # set by optimizers that keep flat buffers
    if storage is not None and storage.shape == grad.shape and storage.dtype == grad.dtype:
        if grad is not storage:  # a formula that used Function.leaf_grad_out wrote it there already
            storage[...] = grad
        return Tensor._wrap(storage, tensor._device)
    return Tensor._wrap(array_module(grad).array(grad, copy=True), tensor._device)


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
