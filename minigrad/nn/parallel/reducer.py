"""The reducer: averages the gradients of data-parallel processes in buckets, as backward produces them.

Each parameter's gradient is copied into its slot of a *bucket* — a flat
tensor holding the gradients of several parameters — when backward has added
it into ``.grad`` (a post-accumulate-grad hook). When every slot of a bucket
is filled, one ``all_reduce`` averages the whole bucket across the processes
and the averages are copied back into the ``.grad`` of each parameter:

    g ← (1/n) · Σ_r g_r        (g_r: the gradient on rank r of n)

Buckets are filled in reverse order of ``parameters()`` (backward meets the
last layer first) up to ``bucket_cap_mb``, one bucket per device and dtype, so
a small model is averaged in one collective per step. Buckets are reduced in
their order, on every rank: a bucket that is ready waits for the ones before it,
so every rank makes the same collective calls in the same order.

A parameter that gets no gradient leaves its bucket unfilled. With
``find_unused_parameters`` the forward pass finds such parameters by walking
the graph from the outputs, and they contribute zeros (a parameter unused on
every rank keeps ``.grad``; one used on some rank gets the average). Without
it, the next forward — or the end of the program — raises an error naming
them, which ends the job rather than leaving the other ranks waiting.
"""

from minigrad import _dtype, distributed
from minigrad.autograd.grad_mode import no_grad
from minigrad.creation import tensor

_MB = 1024 * 1024


class Bucket:
    """Parameters whose gradients one collective averages: one device, one dtype, ``flat`` holding them end to end."""

    def __init__(self, entries):
        self.names = [name for name, _ in entries]
        self.params = [p for _, p in entries]
        self.starts, start = [], 0
        for p in self.params:
            self.starts.append(start)
            start += p.numel()
        self.flat = self.params[0].detach().new_zeros(start)          # (total elements,)
        self.filled = [False] * len(self.params)

    def slot(self, i):
        """The part of ``flat`` that holds parameter ``i``'s gradient, in the parameter's shape."""
        a = self.starts[i]
        return self.flat[a:a + self.params[i].numel()].reshape(self.params[i].shape)

    def ready(self):
        return all(self.filled)


def assign_buckets(named_params, cap_bytes):
    """Split (name, parameter) pairs into buckets: reverse order, by device and dtype, at most ``cap_bytes`` each
    (a parameter larger than the cap is a bucket of its own)."""
    open_buckets, done = {}, []
    for name, p in reversed(named_params):
        key = (str(p.device), p.dtype.name)
        entries, size = open_buckets.get(key, ([], 0))
        if entries and size + p.nbytes > cap_bytes:
            done.append(entries)
            entries, size = [], 0
        entries.append((name, p))
        open_buckets[key] = (entries, size + p.nbytes)
    done.extend(entries for entries, _ in open_buckets.values())
    return [Bucket(entries) for entries in done]


class Reducer:
    """Hooks on every parameter; averages their gradients bucket by bucket during backward.

    Args:
        named_params: (name, parameter) pairs of the parameters that require grad.
        group: the process group.
        bucket_cap_mb: the largest bucket, in MiB.
        find_unused_parameters: whether parameters without a gradient contribute zeros (see the module docstring).
    """

    def __init__(self, named_params, group, bucket_cap_mb=25, find_unused_parameters=False):
        self.group = group
        self.find_unused_parameters = find_unused_parameters
        self.buckets = assign_buckets(named_params, bucket_cap_mb * _MB)
        self.where = {}                                  # id(parameter) -> (bucket, index in it)
        for bucket in self.buckets:
            for i, p in enumerate(bucket.params):
                self.where[id(p)] = (bucket, i)
        self.handles = [p.register_post_accumulate_grad_hook(self._on_grad) for _, p in named_params]
        self.order = [p for _, p in named_params]        # the indices of the used-parameter map
        self.expecting = False                           # a forward asked for this backward's gradients to be averaged
        self.started = False                             # a gradient of that backward has arrived
        self.next_bucket = 0
        self.unused = ()
        self.globally_used = None

    # ------------------------------------------------------------------ one iteration
    def prepare(self, unused=()):
        """A forward pass whose gradients will be averaged (the last one having finished): expect every bucket."""
        for bucket in self.buckets:
            bucket.filled = [False] * len(bucket.params)
        self.expecting, self.started, self.next_bucket = True, False, 0
        self.unused = tuple(unused)

    def skip(self):
        """A forward pass whose gradients stay on this rank (``no_sync()``, or grad mode off)."""
        self.check_finished()
        self.expecting = False

    def _on_grad(self, param):
        if not self.expecting:
            return
        if not self.started:
            self.started = True
            if self.find_unused_parameters:
                self._share_usage()
                for p in self.unused:
                    self._fill(p)
        self._fill(param)

    def _share_usage(self):
        """How many ranks used each parameter this iteration (one collective on a small integer vector)."""
        unused = {id(p) for p in self.unused}
        used = tensor([0 if id(p) in unused else 1 for p in self.order], dtype=_dtype.int32, device="cpu")
        distributed.all_reduce(used, group=self.group)
        self.globally_used = {id(p): n > 0 for p, n in zip(self.order, used.tolist())}

    def _fill(self, param):
        bucket, i = self.where[id(param)]
        if bucket.filled[i]:
            raise RuntimeError(f"DistributedDataParallel: parameter '{bucket.names[i]}' received its gradient twice in "
                               "one backward pass (expected to mark a variable ready only once)")
        with no_grad():
            slot = bucket.slot(i)
            if param.grad is None:
                slot.zero_()                                    # unused here: contributes zero
            else:
                slot.copy_(param.grad)
        bucket.filled[i] = True
        while self.next_bucket < len(self.buckets) and self.buckets[self.next_bucket].ready():
            self._reduce(self.buckets[self.next_bucket])
            self.next_bucket += 1

    def _reduce(self, bucket):
        """Average the bucket across the ranks, and leave the averages in the parameters' ``.grad``."""
        distributed.all_reduce(bucket.flat, op=distributed.ReduceOp.AVG, group=self.group)
        with no_grad():
            for i, p in enumerate(bucket.params):
                if p.grad is not None:
                    p.grad.copy_(bucket.slot(i))
                elif self.globally_used is not None and self.globally_used[id(p)]:
                    p.grad = bucket.slot(i).clone()             # used elsewhere: this rank takes the average too

    # ------------------------------------------------------------------ an iteration that did not finish
    def unfinished(self):
        """The error message for a backward whose buckets were not all averaged, or None."""
        if not (self.expecting and self.started and self.next_bucket < len(self.buckets)):
            return None
        missing = []
        for p in self.order:
            bucket, i = self.where[id(p)]
            if not bucket.filled[i]:
                missing.append(bucket.names[i])
        return ("DistributedDataParallel: these parameters received no gradient in the last backward pass, so their "
                f"gradients were not averaged across ranks: {', '.join(missing)}. Pass find_unused_parameters=True "
                "if parameters may go unused, or make every parameter take part in the loss.")

    def check_finished(self):
        message = self.unfinished()
        if message is not None:
            self.expecting = False
            raise RuntimeError(message)

    def remove(self):
        for handle in self.handles:
            handle.remove()
