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
    g = -g if maximize else g
    if decoupled:
        theta = theta * (1 - lr * weight_decay)
    else:
        g = g + weight_decay * theta
    state.setdefault("m", np.zeros_like(theta))
    state.setdefault("v", np.zeros_like(theta))
    state["m"] = beta1 * state["m"] + (1 - beta1) * g
    state["v"] = beta2 * state["v"] + (1 - beta2) * g * g
    v = state["v"]
    if amsgrad:
        state["vmax"] = np.maximum(state.get("vmax", np.zeros_like(theta)), v)
        v = state["vmax"]
    return theta - (lr / (1 - beta1 ** t)) * state["m"] / (np.sqrt(v) / np.sqrt(1 - beta2 ** t) + eps)


def adamw(theta, g, state, t, weight_decay=1e-2, **kwargs):
    return adam(theta, g, state, t, weight_decay=weight_decay, decoupled=True, **kwargs)
