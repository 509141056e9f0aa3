"""Tools on top of the library: the training loop and sweeps.

``trainer`` (``Trainer``, ``TrainConfig``: the loop behind ``minigrad train``),
``sweep`` (η × optimizer × schedule grids, resumable) and ``summary`` (what a
run's history says). Nothing below this folder imports it.
"""
