"""Module hooks: forward pre/post hooks, and full backward pre/post hooks (PyTorch's semantics).

Backward hooks need to see two moments of the backward pass: when the
gradients of the module's outputs are known, and when those of its inputs
are. ``call_with_hooks`` wraps the inputs and the outputs in a ``_Boundary``,
an identity op whose backward is exactly that moment: on the outputs it runs
the backward pre hooks; on the inputs, the backward hooks.
"""

from minigrad.autograd.function import Function, is_tensor
from minigrad.autograd.hooks import RemovableHandle

HOOK_TABLES = ("_forward_pre_hooks", "_forward_hooks", "_backward_pre_hooks", "_backward_hooks")


def add(table, hook):
    handle = RemovableHandle(table)
    table[handle.id] = hook
    return handle


def call_with_hooks(module, args, kwargs):
    """``module(*args, **kwargs)`` with its hooks, in registration order."""
    for hook in list(module._forward_pre_hooks.values()):
        result = hook(module, args)
        if result is not None:
            args = result if isinstance(result, tuple) else (result,)
    backward = None
    if module._backward_hooks or module._backward_pre_hooks:
        backward = _BackwardState(module)
        args = backward.wrap_inputs(args)
    output = module.forward(*args, **kwargs)
    for hook in list(module._forward_hooks.values()):
        result = hook(module, args, output)
        if result is not None:
            output = result
    if backward is not None:
        output = backward.wrap_outputs(output)
    return output


class _BackwardState:
    """One call's backward hooks: the gradients of the outputs, kept until those of the inputs arrive."""

    def __init__(self, module):
        self.module = module
        self.grad_output = None
        self.input_count = 0
        self.inputs_need_grad = False

    def wrap_inputs(self, args):
        positions = [i for i, a in enumerate(args) if is_tensor(a) and a.requires_grad]
        self.input_count = len(args)
        self.inputs_need_grad = bool(positions)
        if not positions:
            return args
        wrapped = _Boundary.apply(self.on_inputs, *(args[i] for i in positions))
        wrapped = wrapped if isinstance(wrapped, tuple) else (wrapped,)
        self.positions = positions
        out = list(args)
        for i, t in zip(positions, wrapped):
            out[i] = t
        return tuple(out)

    def wrap_outputs(self, output):
        single = is_tensor(output)
        outputs = (output,) if single else tuple(output) if isinstance(output, (tuple, list)) else None
        if outputs is None or not any(is_tensor(o) and o.requires_grad for o in outputs):
            return output
        positions = [i for i, o in enumerate(outputs) if is_tensor(o) and o.requires_grad]
        wrapped = _Boundary.apply(self.on_outputs, *(outputs[i] for i in positions))
        wrapped = wrapped if isinstance(wrapped, tuple) else (wrapped,)
        out = list(outputs)
        for i, t in zip(positions, wrapped):
            out[i] = t
        return out[0] if single else type(output)(out)

    def on_outputs(self, grads):
        for hook in list(self.module._backward_pre_hooks.values()):
            result = hook(self.module, grads)
            if result is not None:
                grads = tuple(result)
        self.grad_output = grads
        if not self.inputs_need_grad:                    # no input gradient will come: call the hooks now
            self.run_backward_hooks((None,) * self.input_count)
        return grads

    def on_inputs(self, grads):
        full = [None] * self.input_count
        for i, g in zip(self.positions, grads):
            full[i] = g
        full = self.run_backward_hooks(tuple(full))
        return tuple(full[i] for i in self.positions)

    def run_backward_hooks(self, grad_input):
        for hook in list(self.module._backward_hooks.values()):
            result = hook(self.module, grad_input, self.grad_output)
            if result is not None:
                grad_input = tuple(result)
        return grad_input


class _Boundary(Function):
    """Identity on tensors; its backward hands the gradients to ``callback`` (which may replace them)."""

    @staticmethod
    def forward(ctx, callback, *tensors):
        ctx.callback = callback
        return tensors if len(tensors) > 1 else tensors[0]

    @staticmethod
    def backward(ctx, *grads):
        return (None, *ctx.callback(tuple(grads)))
