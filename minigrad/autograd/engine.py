"""The backward pass: the chain rule applied node by node, in reverse.

``run_backward`` is one loop:

1. Order the graph. Walk from the roots along ``next_functions`` with an
   explicit stack (never recursion, so a 200,000-op chain works) and count,
   for every node, the edges that lead into it.
2. Apply the chain rule. A node is ready once every consumer has handed it
   its gradient (its count reaches zero). Pop a ready node, run its
   ``backward`` with the summed gradients of its outputs, and add each result
   into the gradient buffer of the node it belongs to. A leaf's node is its
   ``AccumulateGrad``, which adds the gradient into ``.grad``.

Ready nodes form a stack, so the order depends only on the graph: the same
program always runs backward in the same order. The loop runs with grad mode
set to ``create_graph``: off, the formulas just compute; on, they are recorded
and the gradients can be differentiated again.

Everything else — hooks and ``retain_grad`` on the way into a node, capturing
gradients for ``autograd.grad``, checks on what a node returned, anomaly
detection — is a small named function beside the loop.
"""

from minigrad.autograd.function import AccumulateGrad, accumulator_of, checked_hook_result, is_tensor, receive
from minigrad.autograd.grad_mode import state
from minigrad.backend.base import dtype_of


def run_backward(roots, root_grads, retain_graph=False, create_graph=False, inputs=None, accumulate=True):
    """Propagate ``root_grads`` (one tensor per root) back through the graph.

    Args:
        roots: the output tensors; each requires grad.
        root_grads: dJ/d(root) for each root, a tensor of the root's shape.
        retain_graph: keep saved tensors, so backward can run through the graph again.
        create_graph: record the backward pass, for higher-order gradients.
        inputs: when given, only gradients towards these tensors are computed.
        accumulate: True adds them into ``.grad`` (``backward``); False returns them (``autograd.grad``).

    Returns:
        With ``accumulate=False``, one summed gradient (or None) per input; else None.
    """
    buffers = Gradients(root_grads)
    for root, grad in zip(roots, root_grads):
        node, output_nr = edge_of(root)
        buffers.add(node, output_nr, grad)
    targets = Targets(inputs, accumulate) if inputs is not None else None
    dependencies = count_dependencies(buffers.nodes(), targets)
    ready = [node for node in reversed(buffers.nodes()) if dependencies[node] == 0]
    previous, state.grad_enabled = state.grad_enabled, create_graph
    try:
        while ready:
            node = ready.pop()
            grads = buffers.pop(node)                    # None: no gradient reached this node
            if grads is not None:
                grads = arriving(node, grads, targets)   # zeros for missing outputs, hooks, retain_grad, captures
            if grads is None or (targets is not None and not targets.runs(node)):
                grads_in = _NONES
            else:
                grads_in = call_backward(node, grads)
                if not retain_graph:
                    node.release()
            for (child, output_nr), grad in zip(node.next_functions, grads_in):
                if child is None:
                    continue
                left = dependencies.get(child)
                if left is None:                         # not on a path to the inputs asked for
                    continue
                if grad is not None:
                    buffers.add(child, output_nr, grad, node.trusted)
                if left == 1:
                    ready.append(child)
                dependencies[child] = left - 1
    finally:
        state.grad_enabled = previous
    return None if targets is None or accumulate else targets.captured


class _Nones:
    """An endless supply of None: the gradients of a node that did not run."""

    def __iter__(self):
        while True:
            yield None


_NONES = _Nones()


# ---------------------------------------------------------------- ordering
def count_dependencies(root_nodes, targets):
    """For each node to visit, the number of edges that lead into it from other nodes to visit."""
    if targets is not None:
        targets.find_needed(root_nodes)
    dependencies = dict.fromkeys(root_nodes, 0)
    stack = list(root_nodes)
    while stack:
        node = stack.pop()
        for child, _ in node.next_functions:
            if child is None or (targets is not None and child not in targets.needed):
                continue
            if child in dependencies:
                dependencies[child] += 1
            else:
                dependencies[child] = 1
                stack.append(child)
    return dependencies


def edge_of(tensor):
    """The (node, output index) where gradients for ``tensor`` arrive: its grad_fn, or its AccumulateGrad."""
    if tensor.grad_fn is not None:
        return tensor.grad_fn, tensor._output_nr
    return accumulator_of(tensor), 0


class Gradients:
    """The gradients in flight: for each node, the sum of what its consumers sent to each of its outputs.

    A leaf's ``AccumulateGrad`` keeps the first gradient it gets as ``.grad``. So that
    two leaves never share one array as ``.grad`` (``a + b``'s formula hands one
    gradient on to both inputs), a gradient whose memory already went to another leaf
    in this backward — or was given by the caller, or comes from your own Function —
    reaches a leaf as a copy.
    """

    def __init__(self, root_grads):
        self.by_node = {}
        # memory a leaf (or the caller) may hold, by id; the arrays are kept so no new array takes a freed one's id
        self.leaves_have = {id(g._array): g._array for g in root_grads}

    def add(self, node, output_nr, grad, trusted=True):
        if type(node) is AccumulateGrad:
            if id(grad._array) in self.leaves_have or not trusted:
                grad = grad.clone()
            self.leaves_have[id(grad._array)] = grad._array
        slots = self.by_node.get(node)
        if slots is None:
            n = len(node._output_meta)
            if n == 1:
                self.by_node[node] = [grad]
                return
            slots = self.by_node[node] = [None] * n
        slots[output_nr] = grad if slots[output_nr] is None else slots[output_nr] + grad

    def pop(self, node):
        return self.by_node.pop(node, None)

    def nodes(self):
        return list(self.by_node)


# ---------------------------------------------------------------- on the way into a node
def arriving(node, grads, targets):
    """The gradients that enter ``node``: zeros for outputs that got none, after tensor hooks and retain_grad."""
    if len(grads) > 1 and any(g is None for g in grads):
        template = next(g for g in grads if g is not None)
        grads = [template.new_zeros(shape, dtype=dtype_of(dtype)) if g is None and dtype is not None else g
                 for g, (shape, dtype) in zip(grads, node._output_meta)]        # (dtype None: an output not computed)
    if node._tensor_hooks:
        grads = run_tensor_hooks(node._tensor_hooks, grads)
    if node._retained:
        for output_nr, ref in node._retained.items():
            tensor = ref()
            if tensor is not None:
                receive(tensor, grads[output_nr], flows_on=True)
    if targets is not None:
        targets.arrive(node, grads)
    return grads


def run_tensor_hooks(hooks_by_output, grads):
    """Each hook registered on an output sees its gradient in turn; a returned tensor replaces it."""
    grads = list(grads)
    for output_nr, hooks in hooks_by_output.items():
        for hook in list(hooks.values()):
            replaced = hook(grads[output_nr])
            if replaced is not None:
                grads[output_nr] = checked_hook_result(hook, grads[output_nr], replaced)
    return grads


# ---------------------------------------------------------------- the chain rule at one node
def call_backward(node, grads):
    """Run ``node.backward``: the chain rule at one node. Your own Functions' results are checked."""
    grads_in = node.backward(node, *grads)
    if type(grads_in) is not tuple:
        grads_in = (grads_in,)
    if not node.trusted:
        grads_in = checked_gradients(node, grads_in)
    if state.anomaly:
        check_finite(node, grads_in)
    return grads_in


def checked_gradients(node, grads_in):
    """One gradient per input, each of its input's shape — or an error naming the Function."""
    expected = len(node.next_functions)
    if len(grads_in) != expected:
        if len(grads_in) < expected or any(g is not None for g in grads_in[expected:]):
            raise RuntimeError(f"function {node.name()} returned an incorrect number of gradients "
                               f"(expected {expected}, got {len(grads_in)})")
        grads_in = grads_in[:expected]
    for i, (g, (child, output_nr)) in enumerate(zip(grads_in, node.next_functions)):
        if g is not None and child is not None:
            shape = child.variable.shape if type(child) is AccumulateGrad else tuple(child._output_meta[output_nr][0])
            if tuple(g.shape) != tuple(shape):
                raise RuntimeError(f"function {node.name()} returned a gradient of shape {tuple(g.shape)} for input "
                                   f"{i}, whose shape is {tuple(shape)}")
    return grads_in


def check_finite(node, grads_in):
    """Anomaly detection: raise at the first gradient with NaN or infinity, naming the op and where it was made."""
    for i, g in enumerate(grads_in):
        if g is not None and not bool(g.isfinite().all()):
            where = node._creation_trace or "(the op was created before anomaly detection was turned on)\n"
            raise RuntimeError(f"Function '{node.name()}' returned nan or inf values in its gradient for input {i}.\n"
                               f"The op was created at:\n{where}")


# ---------------------------------------------------------------- towards chosen inputs only
class Targets:
    """The inputs of ``autograd.grad`` / ``backward(inputs=...)``: where gradients are wanted, and which nodes lead there.

    A node is *needed* when it is an input's node or leads to one; other nodes are
    not visited at all. An input's gradient is taken as it arrives at its node
    (after that output's hooks): returned (``autograd.grad``) or added into the
    input's ``.grad`` (``backward(inputs=...)``).
    """

    def __init__(self, inputs, accumulate):
        self.inputs = inputs
        self.accumulate = accumulate
        self.captured = [None] * len(inputs)
        self.slots = {}                                  # (node, output index) -> positions in inputs
        for i, t in enumerate(inputs):
            self.slots.setdefault(edge_of(t), []).append(i)
        self.nodes = {node for node, _ in self.slots}
        self.needed = set()
        self.leads_on = set()                            # needed nodes with a needed child: these run backward

    def find_needed(self, root_nodes):
        """Mark the nodes from which some input's node can be reached (an iterative post-order walk)."""
        visited = set()
        stack = [(node, False) for node in root_nodes]
        while stack:
            node, children_done = stack.pop()
            if children_done:
                if any(child in self.needed for child, _ in node.next_functions if child is not None):
                    self.leads_on.add(node)
                    self.needed.add(node)
                if node in self.nodes:
                    self.needed.add(node)
                continue
            if node in visited:
                continue
            visited.add(node)
            stack.append((node, True))
            stack.extend((child, False) for child, _ in node.next_functions if child is not None and child not in visited)

    def runs(self, node):
        """Whether ``node`` runs its backward: it leads on to an input, or is a leaf's accumulator being filled."""
        return node in self.leads_on or (self.accumulate and type(node) is AccumulateGrad and node in self.nodes)

    def arrive(self, node, grads):
        if node not in self.nodes or (self.accumulate and type(node) is AccumulateGrad):
            return
        for output_nr, g in enumerate(grads):
            for i in self.slots.get((node, output_nr), ()):
                if self.accumulate:
                    receive(self.inputs[i], g, flows_on=True)
                else:
                    self.captured[i] = g if self.captured[i] is None else self.captured[i] + g


# ---------------------------------------------------------------- the public entry points
def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate d(tensors)/d(leaf) into ``.grad`` of every leaf the tensors depend on (``Tensor.backward``).

    Args:
        tensors: a tensor or a sequence of tensors J.
        grad_tensors: dJ_total/dJ for each (may be omitted for single-element tensors).
        retain_graph: keep the graph for another backward (default: ``create_graph``).
        create_graph: record the backward, so the gradients can be differentiated again.
        inputs: accumulate only into these tensors (leaves, or non-leaves, whose ``.grad`` is then filled).
    """
    tensors = [tensors] if is_tensor(tensors) else list(tensors)
    grads = _as_list(grad_tensors, len(tensors))
    roots = [root_gradient(t, g, "backward") for t, g in zip(tensors, grads)]
    if inputs is not None:
        inputs = [inputs] if is_tensor(inputs) else list(inputs)
        if not inputs:
            raise RuntimeError("backward: 'inputs' argument to backward() cannot be empty")
    run_backward(tensors, roots, create_graph if retain_graph is None else retain_graph, create_graph, inputs)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=None,
         materialize_grads=False):
    """The gradients of ``outputs`` with respect to ``inputs``, returned rather than accumulated.

    Args:
        outputs: a tensor or sequence of tensors J.
        inputs: a tensor or sequence of tensors x that J depends on.
        grad_outputs: dJ_total/dJ for each output (may be omitted for single-element outputs).
        retain_graph: keep the graph for another backward (default: ``create_graph``).
        create_graph: record this backward, so its result can be differentiated again.
        allow_unused: return None for an input J does not depend on instead of raising.
        materialize_grads: return zeros instead of None for unused inputs.

    Returns:
        A tuple with one gradient per input.

    Example:
        >>> x = minigrad.tensor(3.0, requires_grad=True)
        >>> (dy,) = minigrad.autograd.grad(x ** 3, x, create_graph=True)   # 3x² = 27
        >>> (d2y,) = minigrad.autograd.grad(dy, x)                         # 6x = 18
    """
    outputs = [outputs] if is_tensor(outputs) else list(outputs)
    inputs = [inputs] if is_tensor(inputs) else list(inputs)
    for t in inputs:
        if not t.requires_grad:
            raise RuntimeError("grad: one of the differentiated Tensors does not require grad")
    grads = _as_list(grad_outputs, len(outputs))
    roots = [root_gradient(o, g, "grad") for o, g in zip(outputs, grads)]
    result = run_backward(outputs, roots, create_graph if retain_graph is None else retain_graph, create_graph,
                          inputs, accumulate=False)
    if materialize_grads:
        result = [t.new_zeros(t.shape) if g is None else g for g, t in zip(result, inputs)]
    elif not allow_unused and any(g is None for g in result):
        raise RuntimeError("grad: one of the differentiated Tensors appears to not have been used in the graph. "
                           "Set allow_unused=True if this is the desired behavior.")
    return tuple(result)


def root_gradient(output, gradient, where):
    """dJ/d(output) as a tensor of the output's shape: given, or 1 for a single-element output."""
    if not output.requires_grad:
        raise RuntimeError(f"{where}: element 0 of tensors does not require grad and does not have a grad_fn")
    if gradient is None:
        if output.numel() != 1:
            raise RuntimeError(f"{where}: grad can be implicitly created only for scalar outputs; got an output of "
                               f"shape {tuple(output.shape)}, pass a gradient of that shape")
        return output.new_ones(output.shape)
    if not is_tensor(gradient):
        gradient = output.new_tensor(gradient)
    if gradient.device != output.device:
        raise RuntimeError(f"{where}: the gradient is on {gradient.device} but the output is on {output.device}")
    if gradient.shape != output.shape:
        raise RuntimeError(f"{where}: mismatch in shape: gradient has shape {tuple(gradient.shape)} and output has "
                           f"shape {tuple(output.shape)}")
    return gradient


def _as_list(values, n):
    if values is None:
        return [None] * n
    if is_tensor(values):
        return [values]
    values = list(values)
    if len(values) != n:
        raise RuntimeError(f"got {len(values)} gradients for {n} outputs")
    return values
