"""Stochastic gradient descent, with momentum and Nesterov momentum."""

from minigrad.optim.optimizer import Optimizer, effective_grad, grad_expression


class SGD(Optimizer):
    r"""Gradient descent: θ ← θ − η·g, optionally with (Nesterov) momentum.

    Algorithm (PyTorch's; t counts a parameter's steps from 1)::

        input: η (lr), μ (momentum), τ (dampening), λ (weight_decay), nesterov, maximize
        g ← ∇J(θ)                       (−∇J(θ) if maximize)
        g ← g + λθ                      if λ ≠ 0
        if μ ≠ 0:
            b ← g                       if t = 1
            b ← μ·b + (1 − τ)·g         otherwise
            g ← g + μ·b                 if nesterov, else g ← b
        θ ← θ − η·g

    Args:
        params: tensors or parameter groups.
        lr: η, the learning rate (default 1e-3, PyTorch's).
        momentum: μ in [0, 1).
        dampening: τ, scales the new gradient in the momentum buffer.
        weight_decay: λ, L2 penalty added to the gradient.
        nesterov: look ahead along the momentum (needs μ > 0 and τ = 0).
        maximize: ascend instead of descend.
        fused: None uses the backend's single-pass kernel when there is one; False never; True requires it.

    State: ``momentum_buffer`` (b) when μ ≠ 0.

    Reference: Sutskever et al., "On the importance of initialization and momentum in deep learning" (2013).
    """

    has_step_count = False

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
                 maximize=False, fused=None):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize, fused=fused)
        super().__init__(params, defaults)

    def _validate(self, group):
        super()._validate(group)
        if group["momentum"] < 0.0:
            raise ValueError(f"Invalid momentum value: {group['momentum']}")
        if group["weight_decay"] < 0.0:
            raise ValueError(f"Invalid weight_decay value: {group['weight_decay']}")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening "
                             f"(got momentum={group['momentum']}, dampening={group['dampening']})")

    def state_buffers(self, group):
        return (("momentum_buffer", 0.0),) if group["momentum"] != 0 else ()

    def update(self, group, run):
        lr, mu, wd = group["lr"], group["momentum"], group["weight_decay"]
        if run.kernels is not None:
            g = grad_expression(group["maximize"], wd)
            statements = []
            if mu != 0:
                if run.step == 1:
                    statements.append(f"momentum_buffer = {g}")
                else:
                    statements.append(f"momentum_buffer = momentum * momentum_buffer + one_minus_dampening * {g}")
                step_dir = f"({g} + momentum * momentum_buffer)" if group["nesterov"] else "momentum_buffer"
            else:
                step_dir = g
            statements.append(f"param = param - lr * {step_dir}")
            arrays = {"param": run.param, "grad": run.grad, **run.state}
            scalars = run.scalars(lr=lr, momentum=mu, one_minus_dampening=1 - group["dampening"], weight_decay=wd)
            run.kernels.run(tuple(statements), arrays, scalars)
            return
        g = effective_grad(run, group["maximize"], wd)
        if mu != 0:
            b = run.state["momentum_buffer"]
            if run.step == 1:
                b[...] = g                              # b ← g
            else:
                b *= mu                                 # b ← μ·b + (1 − τ)·g
                b += (1 - group["dampening"]) * g
            if group["nesterov"]:
                g = g + mu * b                          # g ← g + μ·b
            else:
                g = b                                   # g ← b
        run.param -= lr * g                             # θ ← θ − η·g

    def rate(self, group, run):
        return group["lr"]
