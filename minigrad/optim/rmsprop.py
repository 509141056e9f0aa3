"""RMSprop: divide the gradient by a decaying average of its recent magnitude."""

from minigrad.optim.optimizer import Optimizer, effective_grad, grad_expression


class RMSprop(Optimizer):
    r"""RMSprop: like Adagrad, but the squared gradients are averaged with decay α, so the rate holds.

    Algorithm (PyTorch's)::

        input: η (lr), α (alpha), ε, λ (weight_decay), μ (momentum), centered, maximize
        initialise: v ← 0, ḡ ← 0, b ← 0
        g ← ∇J(θ)                       (−∇J(θ) if maximize)
        g ← g + λθ                      if λ ≠ 0
        v ← α·v + (1 − α)·g²
        if centered: ḡ ← α·ḡ + (1 − α)·g;  d ← √(v − ḡ²) + ε
        else:        d ← √v + ε
        if μ > 0:    b ← μ·b + g/d;  θ ← θ − η·b
        else:        θ ← θ − η·g/d

    Args:
        lr: η (default 1e-2). alpha: α (default 0.99). eps: ε (default 1e-8). weight_decay: λ.
        momentum: μ. centered: normalise by the estimated variance instead of the raw second moment.
        maximize: ascend instead. fused: None uses the backend's single-pass kernel when there is one.

    State: ``step``, ``square_avg`` (v), ``momentum_buffer`` (b, when μ > 0), ``grad_avg`` (ḡ, when centered).

    Reference: Hinton, Srivastava & Swersky, Neural Networks for Machine Learning, lecture 6e (2012).
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False,
                 maximize=False, fused=None):
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                        centered=centered, maximize=maximize, fused=fused)
        super().__init__(params, defaults)

    def _validate(self, group):
        super()._validate(group)
        for name in ("eps", "momentum", "weight_decay", "alpha"):
            if group[name] < 0.0:
                raise ValueError(f"Invalid {name} value: {group[name]}")

    def state_buffers(self, group):
        names = [("square_avg", 0.0)]
        if group["momentum"] > 0:
            names.append(("momentum_buffer", 0.0))
        if group["centered"]:
            names.append(("grad_avg", 0.0))
        return tuple(names)

    def update(self, group, run):
        lr, alpha, eps, mu = group["lr"], group["alpha"], group["eps"], group["momentum"]
        if run.kernels is not None:
            g = grad_expression(group["maximize"], group["weight_decay"])
            statements = [f"square_avg = alpha * square_avg + one_minus_alpha * {g} * {g}"]
            if group["centered"]:
                statements.append(f"grad_avg = alpha * grad_avg + one_minus_alpha * {g}")
                d = "(sqrt(square_avg - grad_avg * grad_avg) + eps)"
            else:
                d = "(sqrt(square_avg) + eps)"
            if mu > 0:
                statements += [f"momentum_buffer = momentum * momentum_buffer + {g} / {d}",
                               "param = param - lr * momentum_buffer"]
            else:
                statements.append(f"param = param - lr * {g} / {d}")
            arrays = {"param": run.param, "grad": run.grad, **run.state}
            scalars = run.scalars(lr=lr, alpha=alpha, one_minus_alpha=1 - alpha, eps=eps, momentum=mu,
                                  weight_decay=group["weight_decay"])
            run.kernels.run(tuple(statements), arrays, scalars)
            return
        g = effective_grad(run, group["maximize"], group["weight_decay"])
        v, d = run.state["square_avg"], run.scratch[0]
        v *= alpha
        run.xp.multiply(g, g, out=d)
        d *= 1 - alpha
        v += d                                           # v ← α·v + (1 − α)·g²
        if group["centered"]:
            g_avg = run.state["grad_avg"]
            g_avg *= alpha
            g_avg += (1 - alpha) * g                     # ḡ ← α·ḡ + (1 − α)·g
            run.xp.multiply(g_avg, g_avg, out=d)
            run.xp.subtract(v, d, out=d)
            run.xp.sqrt(d, out=d)                        # d ← √(v − ḡ²) + ε
        else:
            run.xp.sqrt(v, out=d)                        # d ← √v + ε
        d += eps
        if mu > 0:
            b = run.state["momentum_buffer"]
            b *= mu
            b += g / d                                   # b ← μ·b + g/d
            run.param -= lr * b                          # θ ← θ − η·b
        else:
            run.xp.divide(g, d, out=d)
            d *= lr
            run.param -= d                               # θ ← θ − η·g/d

    def rate(self, group, run):
        xp, v = run.xp, run.state["square_avg"]
        if group["centered"]:
            v = v - run.state["grad_avg"] ** 2
        return group["lr"] / (xp.sqrt(v) + group["eps"])
