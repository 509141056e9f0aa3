"""Draw the computation graph of a small network's loss: every op, every parameter, every shape.

Writes runs/examples/graph.dot and runs/examples/graph.svg (drawn by Graphviz's ``dot`` program
when it is installed, else with matplotlib).

Run: python examples/08_draw_graph.py
"""

import os

import minigrad
from minigrad import nn, viz

minigrad.manual_seed(0)
model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
x = minigrad.randn(4, 2)
target = minigrad.randn(4, 1)
loss = nn.functional.mse_loss(model(x), target)

names = dict(model.named_parameters())            # label the leaves "0.weight", "0.bias", …
print(viz.to_dot(loss, names))
os.makedirs("runs/examples", exist_ok=True)
path, message = viz.render_graph(loss, "runs/examples/graph", names, format="svg")
print("wrote", path)
if message:
    print(message)
