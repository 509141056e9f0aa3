"""``DistributedDataParallel``: the same model on every process, each on its share of the batch, kept identical.

Every rank starts from rank 0's parameters and buffers (broadcast at
construction, into the tensors' own memory, so views and optimizer state
taken before stay valid). Each rank runs forward and backward on its part of
the global batch; during backward the reducer (``reducer.py``) averages the
gradients across ranks, so after ``loss.backward()`` every rank holds

    ∇J = (1/n) · Σ_r ∇J_r

— for a loss that is a mean over equal per-rank batches, exactly the gradient
of the whole batch on one process — and the same optimizer step keeps the
parameters identical everywhere.
"""

import contextlib

from minigrad import distributed
from minigrad.autograd.function import is_tensor
from minigrad.autograd.grad_mode import is_grad_enabled, no_grad
from minigrad.distributed.group import default_group, register_exit_check
from minigrad.nn.modules.module import Module
from minigrad.nn.parallel.reducer import Reducer


class DistributedDataParallel(Module):
    """Data-parallel training of ``module`` over the processes of the default group (``torch.nn.parallel``'s names).

    Args:
        module: the model; every rank builds the same one (the same parameter names and shapes).
        device_ids, output_device: accepted as PyTorch code writes them (None, or the module's one device);
            a tensor's device decides where minigrad computes.
        broadcast_buffers: copy rank 0's buffers (BatchNorm's running statistics) to every rank at the start
            of each forward with grad mode on. Each rank normalises with its own batch statistics, as in PyTorch.
        bucket_cap_mb: the largest gradient bucket, in MiB (one ``all_reduce`` per bucket).
        find_unused_parameters: parameters that get no gradient in an iteration contribute zeros; without
            it such a parameter is an error naming it (at the next forward), never a hang.

    Attributes:
        module: the wrapped model (``state_dict()`` keys carry the ``module.`` prefix, as PyTorch's do).

    Example:
        >>> dist.init_process_group("mpi")
        >>> model = DistributedDataParallel(MLP())
        >>> loss = loss_fn(model(x_local), y_local)   # this rank's share of the batch
        >>> loss.backward()                           # gradients averaged over the ranks
        >>> optimizer.step()
    """

    def __init__(self, module, device_ids=None, output_device=None, *, broadcast_buffers=True, process_group=None,
                 bucket_cap_mb=25, find_unused_parameters=False):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: module must be an nn.Module, got {type(module).__name__}")
        if not isinstance(bucket_cap_mb, (int, float)) or isinstance(bucket_cap_mb, bool) or bucket_cap_mb <= 0:
            raise ValueError(f"DistributedDataParallel: bucket_cap_mb must be a positive number, got {bucket_cap_mb!r}")
        self.module = module
        named = [(name, p) for name, p in module.named_parameters() if p.requires_grad]
        if not named:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't have any parameter "
                               "that requires a gradient.")
        _check_devices(module, device_ids, output_device)
        group = default_group(process_group)
        self.process_group = group
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.require_backward_grad_sync = True
        _check_same_parameters(module, group)
        _broadcast_coalesced(list(module.parameters()) + list(module.buffers()), group)
        self.reducer = Reducer(named, group, bucket_cap_mb, find_unused_parameters)
        register_exit_check(self.reducer)

    def forward(self, *args, **kwargs):
        self.reducer.check_finished()                    # first: other ranks may be inside the last averaging
        if self.broadcast_buffers and is_grad_enabled():
            buffers = list(self.module.buffers())
            if buffers:
                _broadcast_coalesced(buffers, self.process_group)
        if not (is_grad_enabled() and self.require_backward_grad_sync):
            self.reducer.skip()
            return self.module(*args, **kwargs)
        output = self.module(*args, **kwargs)
        unused = _unreached(output, self.reducer.order) if self.find_unused_parameters else ()
        self.reducer.prepare(unused)
        return output

    @contextlib.contextmanager
    def no_sync(self):
        """Inside this context gradients accumulate on each rank without being averaged (gradient accumulation);
        the first backward after it averages everything accumulated."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    def extra_repr(self):
        return f"world_size={self.process_group.size}"


def _check_devices(module, device_ids, output_device):
    devices = {str(p.device) for p in module.parameters()}
    for name, value in (("device_ids", device_ids), ("output_device", output_device)):
        wanted = value[0] if isinstance(value, (list, tuple)) and len(value) == 1 else value
        if wanted is not None and {str(wanted) if not isinstance(wanted, int) else f"cuda:{wanted}"} != devices:
            raise ValueError(f"DistributedDataParallel: {name}={value!r} does not name the device of the module's "
                             f"parameters ({', '.join(sorted(devices))}); leave it None")


def _check_same_parameters(module, group):
    """Every rank must hold the same parameters in the same order: compare each rank's names and shapes to rank 0's."""
    mine = [(name, tuple(p.shape), p.dtype.name) for name, p in module.named_parameters()]
    everyone = [None] * group.size
    distributed.all_gather_object(everyone, mine, group=group)
    reference = everyone[0]
    for rank, theirs in enumerate(everyone):
        if theirs == reference:
            continue
        names, names0 = [name for name, _, _ in theirs], [name for name, _, _ in reference]
        if names != names0:
            raise RuntimeError(f"DistributedDataParallel: rank {rank} has parameters {names} where rank 0 has "
                               f"{names0}; every rank must build the same model")
        for (name, shape, dtype), (_, shape0, dtype0) in zip(theirs, reference):
            if (shape, dtype) != (shape0, dtype0):
                raise RuntimeError(f"DistributedDataParallel: rank {rank} has parameter '{name}' of shape {shape} "
                                   f"({dtype}) where rank 0's is {shape0} ({dtype0}); every rank must build the same "
                                   "model")


def _broadcast_coalesced(tensors, group):
    """Rank 0's values into every rank's ``tensors``, in place: one broadcast per device and dtype."""
    by_kind = {}
    for t in tensors:
        by_kind.setdefault((str(t.device), t.dtype.name), []).append(t)
    with no_grad():
        for same in by_kind.values():
            flat = same[0].detach().new_zeros(sum(t.numel() for t in same))
            start = 0
            for t in same:
                flat[start:start + t.numel()] = t.detach().reshape(-1)
                start += t.numel()
            distributed.broadcast(flat, 0, group=group)
            start = 0
            for t in same:
                t.copy_(flat[start:start + t.numel()].reshape(t.shape))
                start += t.numel()


def _unreached(output, params):
    """The parameters that no path of the graph leads to from the tensors in ``output``."""
    stack, seen, reached = [], set(), set()
    _collect_nodes(output, stack)
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        variable = getattr(node, "variable", None)          # an AccumulateGrad node: its leaf
        if variable is not None:
            reached.add(id(variable))
        stack.extend(child for child, _ in node.next_functions)
    return [p for p in params if id(p) not in reached]


def _collect_nodes(value, stack):
    """The graph nodes of the tensors in ``value`` (a tensor, or lists, tuples and dicts of them)."""
    if is_tensor(value):
        if value.grad_fn is not None:
            stack.append(value.grad_fn)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _collect_nodes(item, stack)
    elif isinstance(value, dict):
        for item in value.values():
            _collect_nodes(item, stack)
