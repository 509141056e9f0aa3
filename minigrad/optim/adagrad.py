"""Adagrad: a per-element learning rate that shrinks with the sum of squared gradients."""

from minigrad.optim.optimizer import Optimizer, effective_grad, grad_expression


class Adagrad(Optimizer):
    r"""Adagrad: each element's step is η_t / (√s + ε), s the running sum of its squared gradients.

    Algorithm (PyTorch's; t counts a parameter's steps from 1)::

        input: η (lr), η_decay (lr_decay), λ (weight_decay), s₀ (initial_accumulator_value), ε, maximize
        initialise: s ← s₀
        g ← ∇J(θ)                       (−∇J(θ) if maximize)
        g ← g + λθ                      if λ ≠ 0
        η_t ← η / (1 + (t − 1)·η_decay)
        s ← s + g²
        θ ← θ − η_t · g / (√s + ε)

    s only grows, so the effective rate η_t/(√s + ε) never increases: quick progress
    on rarely-updated elements, and an ever slower crawl on busy ones.

    Args:
        lr: η (default 1e-2). lr_decay: η_decay. weight_decay: λ.
        initial_accumulator_value: s₀. eps: ε (default 1e-10). maximize: ascend instead.
        fused: None uses the backend's single-pass kernel when there is one; False never; True requires it.

    State: ``step`` (t) and ``sum`` (s), created for every parameter at construction, as in PyTorch.

    Reference: Duchi, Hazan & Singer, "Adaptive Subgradient Methods for Online Learning and
    Stochastic Optimization" (JMLR 2011).
    """

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10,
                 maximize=False, fused=None):
        defaults = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, eps=eps, maximize=maximize, fused=fused)
        super().__init__(params, defaults)
        for index, group in enumerate(self.param_groups):
            for bucket in self._group_buckets(index):
                for i in range(len(bucket.params)):
                    self._register_state(group, bucket, i)

    def _validate(self, group):
        super()._validate(group)
        for name in ("lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            if group[name] < 0.0:
                raise ValueError(f"Invalid {name} value: {group[name]}")

    def state_buffers(self, group):
        return (("sum", group["initial_accumulator_value"]),)

    def _clr(self, group, run):
        return group["lr"] / (1 + (run.step - 1) * group["lr_decay"])   # η_t

    def update(self, group, run):
        clr, eps = self._clr(group, run), group["eps"]
        if run.kernels is not None:
            g = grad_expression(group["maximize"], group["weight_decay"])
            statements = (f"s = s + {g} * {g}",
                          f"param = param - clr * {g} / (sqrt(s) + eps)")
            arrays = {"param": run.param, "grad": run.grad, "s": run.state["sum"]}  # "sum" would shadow a builtin
            run.kernels.run(statements, arrays, run.scalars(clr=clr, eps=eps, weight_decay=group["weight_decay"]))
            return
        g = effective_grad(run, group["maximize"], group["weight_decay"])
        s, work = run.state["sum"], run.scratch[0]
        run.xp.multiply(g, g, out=work)
        s += work                                        # s ← s + g²
        run.xp.sqrt(s, out=work)
        work += eps                                      # √s + ε
        run.xp.divide(g, work, out=work)
        work *= clr
        run.param -= work                                # θ ← θ − η_t·g/(√s + ε)

    def rate(self, group, run):
        return self._clr(group, run) / (run.xp.sqrt(run.state["sum"]) + group["eps"])
