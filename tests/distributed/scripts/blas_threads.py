"""Prints how many threads this rank runs after importing minigrad and multiplying two matrices."""

import os

import minigrad  # noqa: F401  (first, as a program using minigrad does)
import numpy as np

a = np.ones((300, 300))
a @ a
print(f"threads={len(os.listdir('/proc/self/task')) if os.path.isdir('/proc/self/task') else '?'}", flush=True)
