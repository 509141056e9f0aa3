"""Every learning-rate schedule, previewed without training anything, and drawn side by side.

A schedule is a pure function of the step t; ``preview(n)`` lists η_0 … η_{n-1}
without touching an optimizer. Pass a bare learning rate where PyTorch wants
an optimizer. Add --plot to write runs/examples/schedules.png.

Run: python examples/05_schedules.py [--plot]
"""

import sys

from minigrad.optim import lr_scheduler as S

LR = 0.1
STEPS = 100

schedules = {
    "StepLR(step_size=25, γ=0.5)": S.StepLR(LR, step_size=25, gamma=0.5),
    "MultiStepLR([30, 60, 80])": S.MultiStepLR(LR, milestones=[30, 60, 80], gamma=0.3),
    "ExponentialLR(γ=0.97)": S.ExponentialLR(LR, gamma=0.97),
    "InverseTimeLR(k=0.1)": S.InverseTimeLR(LR, decay_rate=0.1),
    "PolynomialLR(power=2)": S.PolynomialLR(LR, total_iters=STEPS, power=2.0),
    "ConstantLR(factor=1/3, 20)": S.ConstantLR(LR, factor=1 / 3, total_iters=20),
    "LinearLR(0.1 → 1, 30)": S.LinearLR(LR, start_factor=0.1, total_iters=30),
    "CosineAnnealingLR(T_max=100)": S.CosineAnnealingLR(LR, T_max=STEPS),
    "WarmRestarts(T_0=10, T_mult=2)": S.CosineAnnealingWarmRestarts(LR, T_0=10, T_mult=2),
    "CyclicLR(0.01 ↔ 0.1, 10)": S.CyclicLR(LR, base_lr=0.01, max_lr=LR, step_size_up=10, cycle_momentum=False),
    "OneCycleLR(max 0.1)": S.OneCycleLR(LR, max_lr=LR, total_steps=STEPS, cycle_momentum=False),
    "LambdaLR(1/(1+t/10))": S.LambdaLR(LR, lambda t: 1 / (1 + t / 10)),
}
warm = S.LinearLR(LR, start_factor=0.01, total_iters=10)
schedules["WarmupLR(10) + cosine"] = S.WarmupLR(warm.optimizer, S.CosineAnnealingLR(warm.optimizer, T_max=90), 10)

previews = {name: s.preview(STEPS) for name, s in schedules.items()}
for name, lrs in previews.items():
    print(f"{name:<32} η_0 = {lrs[0]:.4f}   η_50 = {lrs[50]:.4f}   η_99 = {lrs[99]:.5f}")

if "--plot" in sys.argv:
    from minigrad.viz.plots import plot_schedules

    import os

    os.makedirs("runs/examples", exist_ok=True)
    print("wrote", plot_schedules(previews, "runs/examples/schedules.png"))
