"""Adam and AdamW: momentum on the gradient and on its square, with bias correction."""

import math

from minigrad.optim.optimizer import Optimizer, effective_grad, grad_expression


class Adam(Optimizer):
    r"""Adam: a step along the averaged gradient m, scaled per element by 1/√v.

    Algorithm (PyTorch's; t counts a parameter's steps from 1)::

        input: η (lr), β1, β2 (betas), ε, λ (weight_decay), amsgrad, maximize
        initialise: m ← 0, v ← 0, v_max ← 0
        g ← ∇J(θ)                       (−∇J(θ) if maximize)
        g ← g + λθ                      if λ ≠ 0   (AdamW decays θ directly instead)
        m ← β1·m + (1 − β1)·g
        v ← β2·v + (1 − β2)·g²
        if amsgrad: v_max ← max(v_max, v); use v_max as v below
        m̂ = m / (1 − β1ᵗ),  v̂ = v / (1 − β2ᵗ)
        θ ← θ − η·m̂ / (√v̂ + ε)

    The code applies the corrections as PyTorch does, step_size = η/(1 − β1ᵗ) and
    denom = √v/√(1 − β2ᵗ) + ε, which is the same update.

    Args:
        lr: η (default 1e-3). betas: (β1, β2) (default (0.9, 0.999)). eps: ε (default 1e-8).
        weight_decay: λ. amsgrad: use the running maximum of v. maximize: ascend instead.
        fused: None uses the backend's single-pass kernel when there is one; False never; True requires it.

    State: ``step``, ``exp_avg`` (m), ``exp_avg_sq`` (v), ``max_exp_avg_sq`` (v_max, with amsgrad).

    Reference: Kingma & Ba, "Adam: A Method for Stochastic Optimization" (ICLR 2015);
    Reddi, Kale & Kumar, "On the Convergence of Adam and Beyond" (ICLR 2018) for AMSGrad.
    """

    decoupled_weight_decay = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
                 maximize=False, fused=None):
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, fused=fused)
        super().__init__(params, defaults)

    def _validate(self, group):
        super()._validate(group)
        if group["eps"] < 0.0:
            raise ValueError(f"Invalid epsilon value: {group['eps']}")
        beta1, beta2 = group["betas"]
        if not 0.0 <= beta1 < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {beta1}")
        if not 0.0 <= beta2 < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {beta2}")
        if group["weight_decay"] < 0.0:
            raise ValueError(f"Invalid weight_decay value: {group['weight_decay']}")

    def state_buffers(self, group):
        names = [("exp_avg", 0.0), ("exp_avg_sq", 0.0)]
        if group["amsgrad"]:
            names.append(("max_exp_avg_sq", 0.0))
        return tuple(names)

    def _corrections(self, group, run):
        beta1, beta2 = group["betas"]
        step_size = group["lr"] / (1 - beta1 ** run.step)              # η / (1 − β1ᵗ)
        bias_correction2_sqrt = math.sqrt(1 - beta2 ** run.step)       # √(1 − β2ᵗ)
        return step_size, bias_correction2_sqrt

    def update(self, group, run):
        beta1, beta2 = group["betas"]
        lr, eps, wd = group["lr"], group["eps"], group["weight_decay"]
        step_size, bias_correction2_sqrt = self._corrections(group, run)
        coupled_wd = 0.0 if self.decoupled_weight_decay else wd
        if run.kernels is not None:
            g = grad_expression(group["maximize"], coupled_wd)
            statements = []
            if self.decoupled_weight_decay and wd:
                statements.append("param = param * one_minus_lr_wd")
            statements += [f"exp_avg = beta1 * exp_avg + one_minus_beta1 * {g}",
                           f"exp_avg_sq = beta2 * exp_avg_sq + one_minus_beta2 * {g} * {g}"]
            v = "exp_avg_sq"
            if group["amsgrad"]:
                statements.append("max_exp_avg_sq = where(max_exp_avg_sq > exp_avg_sq, max_exp_avg_sq, exp_avg_sq)")
                v = "max_exp_avg_sq"
            statements.append(f"param = param - step_size * exp_avg / (sqrt({v}) / bias_correction2_sqrt + eps)")
            arrays = {"param": run.param, "grad": run.grad, **run.state}
            scalars = run.scalars(beta1=beta1, beta2=beta2, one_minus_beta1=1 - beta1, one_minus_beta2=1 - beta2,
                                  step_size=step_size, bias_correction2_sqrt=bias_correction2_sqrt, eps=eps,
                                  weight_decay=coupled_wd, one_minus_lr_wd=1 - lr * wd)
            run.kernels.run(tuple(statements), arrays, scalars)
            return
        xp = run.xp
        if self.decoupled_weight_decay and wd:
            run.param *= 1 - lr * wd                                   # θ ← θ(1 − ηλ)   (AdamW)
        g = effective_grad(run, group["maximize"], coupled_wd)
        m, v, work = run.state["exp_avg"], run.state["exp_avg_sq"], run.scratch[0]
        m *= beta1
        xp.multiply(g, 1 - beta1, out=work)
        m += work                                                      # m ← β1·m + (1 − β1)·g
        v *= beta2
        xp.multiply(g, g, out=work)
        work *= 1 - beta2
        v += work                                                      # v ← β2·v + (1 − β2)·g²
        if group["amsgrad"]:
            v_max = run.state["max_exp_avg_sq"]
            xp.maximum(v_max, v, out=v_max)                            # v_max ← max(v_max, v)
            v = v_max
        xp.sqrt(v, out=work)
        work /= bias_correction2_sqrt
        work += eps                                                    # denom = √v/√(1 − β2ᵗ) + ε
        xp.divide(m, work, out=work)
        work *= step_size
        run.param -= work                                              # θ ← θ − step_size·m/denom

    def rate(self, group, run):
        step_size, bias_correction2_sqrt = self._corrections(group, run)
        v = run.state["max_exp_avg_sq" if group["amsgrad"] else "exp_avg_sq"]
        return step_size / (run.xp.sqrt(v) / bias_correction2_sqrt + group["eps"])


class AdamW(Adam):
    r"""Adam with decoupled weight decay: θ ← θ(1 − ηλ) first, then the Adam step without λθ in g.

    Same arguments as ``Adam``, except weight_decay defaults to 1e-2.

    Reference: Loshchilov & Hutter, "Decoupled Weight Decay Regularization" (ICLR 2019).
    """

    decoupled_weight_decay = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False,
                 maximize=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize, fused)
