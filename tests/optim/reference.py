"""Optimizer update rules written straight from their documented formulas, in NumPy float64.

These are deliberately independent of minigrad's code: one function per rule,
taking the parameter, the gradient and a dict of state, updated in place.
"""

import numpy as np


def sgd(theta, g, state, t, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False):
    g = -g if maximize else g
    g = g + weight_decay * theta
    if momentum:
        if t == 1:
            state["b"] = g.copy()
        else:
            state["b"] = momentum * state["b"] + (1 - dampening) * g
        g = g + momentum * state["b"] if nesterov else state["b"]
    return theta - lr * g


def adagrad(theta, g, state, t, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10,
            maximize=False):
    g = -g if maximize else g
    g = g + weight_decay * theta
    lr_t = lr / (1 + (t - 1) * lr_decay)
    state.setdefault("s", np.full_like(theta, initial_accumulator_value))
    state["s"] = state["s"] + g * g
    return theta - lr_t * g / (np.sqrt(state["s"]) + eps)


def rmsprop(theta, g, state, t, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False,
            maximize=False):
    g = -g if maximize else g
    g = g + weight_decay * theta
    state.setdefault("v", np.zeros_like(theta))
    state["v"] = alpha * state["v"] + (1 - alpha) * g * g
    if centered:
        state.setdefault("gbar", np.zeros_like(theta))
        state["gbar"] = alpha * state["gbar"] + (1 - alpha) * g
        d = np.sqrt(state["v"] - state["gbar"] ** 2) + eps
    else:
        d = np.sqrt(state["v"]) + eps
    if momentum > 0:
        state.setdefault("b", np.zeros_like(theta))
        state["b"] = momentum * state["b"] + g / d
        return theta - lr * state["b"]
    return theta - lr * g / d


def adam(theta, g, state, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, maximize=False,
         decoupled=False):
    beta1, beta2 = betas
    theta, g = _decayed(theta, g, lr, weight_decay, decoupled, maximize)
    _moments(state, g, beta1, beta2)
    v = state["v"]
    if amsgrad:
        state["vmax"] = np.maximum(state.get("vmax", np.zeros_like(theta)), v)
        v = state["vmax"]
    return theta - (lr / (1 - beta1 ** t)) * state["m"] / (np.sqrt(v) / np.sqrt(1 - beta2 ** t) + eps)


def adamw(theta, g, state, t, weight_decay=1e-2, **kwargs):
    return adam(theta, g, state, t, weight_decay=weight_decay, decoupled=True, **kwargs)


def adadelta(theta, g, state, t, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, maximize=False):
    """v ← ρv + (1−ρ)g²;  Δ ← √(u+ε)/√(v+ε)·g;  u ← ρu + (1−ρ)Δ²;  θ ← θ − γΔ"""
    g = -g if maximize else g
    g = g + weight_decay * theta
    state.setdefault("v", np.zeros_like(theta))
    state.setdefault("u", np.zeros_like(theta))
    state["v"] = rho * state["v"] + (1 - rho) * g * g
    delta = np.sqrt(state["u"] + eps) / np.sqrt(state["v"] + eps) * g
    state["u"] = rho * state["u"] + (1 - rho) * delta * delta
    return theta - lr * delta


def adamax(theta, g, state, t, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, maximize=False):
    """m ← β1m + (1−β1)g;  u ← max(β2u, |g| + ε);  θ ← θ − γ/(1−β1ᵗ)·m/u"""
    beta1, beta2 = betas
    g = -g if maximize else g
    g = g + weight_decay * theta
    state.setdefault("m", np.zeros_like(theta))
    state.setdefault("u", np.zeros_like(theta))
    state["m"] = beta1 * state["m"] + (1 - beta1) * g
    state["u"] = np.maximum(beta2 * state["u"], np.abs(g) + eps)
    return theta - lr / (1 - beta1 ** t) * state["m"] / state["u"]


def nadam(theta, g, state, t, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, momentum_decay=4e-3,
          decoupled_weight_decay=False, maximize=False):
    """μ_t = β1(1 − ½·0.96^(tψ));  m̂ = μ_{t+1}m/(1 − Π_{i≤t+1}μ_i) + (1−μ_t)g/(1 − Π_{i≤t}μ_i);  θ ← θ − γm̂/(√v̂+ε)"""
    beta1, beta2 = betas
    theta, g = _decayed(theta, g, lr, weight_decay, decoupled_weight_decay, maximize)
    mu = [beta1 * (1 - 0.5 * 0.96 ** (i * momentum_decay)) for i in range(1, t + 2)]    # μ_1 … μ_{t+1}
    product_t, product_next = float(np.prod(mu[:t])), float(np.prod(mu[:t + 1]))
    _moments(state, g, beta1, beta2)
    m_hat = mu[t] * state["m"] / (1 - product_next) + (1 - mu[t - 1]) * g / (1 - product_t)
    v_hat = state["v"] / (1 - beta2 ** t)
    return theta - lr * m_hat / (np.sqrt(v_hat) + eps)


def radam(theta, g, state, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled_weight_decay=False,
          maximize=False):
    """m̂ = m/(1−β1ᵗ); ρ_t = ρ∞ − 2tβ2ᵗ/(1−β2ᵗ); if ρ_t > 5: θ ← θ − γ m̂ r_t √(1−β2ᵗ)/(√v+ε), else θ ← θ − γ m̂"""
    beta1, beta2 = betas
    theta, g = _decayed(theta, g, lr, weight_decay, decoupled_weight_decay, maximize)
    _moments(state, g, beta1, beta2)
    m_hat = state["m"] / (1 - beta1 ** t)
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * t * beta2 ** t / (1 - beta2 ** t)
    if rho_t <= 5:
        return theta - lr * m_hat
    r_t = np.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
    return theta - lr * m_hat * r_t * np.sqrt(1 - beta2 ** t) / (np.sqrt(state["v"]) + eps)


def _decayed(theta, g, lr, weight_decay, decoupled, maximize):
    """(θ, g) after maximize and weight decay: θ ← θ(1 − γλ) when decoupled (AdamW), else g ← g + λθ."""
    g = -g if maximize else g
    if decoupled:
        return theta * (1 - lr * weight_decay), g
    return theta, g + weight_decay * theta


def _moments(state, g, beta1, beta2):
    """m ← β1·m + (1 − β1)·g;  v ← β2·v + (1 − β2)·g²  (both start at 0)."""
    state.setdefault("m", np.zeros_like(g))
    state.setdefault("v", np.zeros_like(g))
    state["m"] = beta1 * state["m"] + (1 - beta1) * g
    state["v"] = beta2 * state["v"] + (1 - beta2) * g * g
