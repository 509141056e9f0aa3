"""Tools on top of the library: the training loop, sweeps, and the learning-rate instruments.

``trainer`` (``Trainer``, ``TrainConfig``: the loop behind ``minigrad train``),
``sweep`` (η × optimizer × schedule grids, resumable), ``summary`` (what a run's
history says), ``guard`` (stop a diverging run), ``lr_finder`` (the range test),
``insight`` (the step size an optimizer applies) and ``surfaces`` (the 2-D loss
surfaces of the learning-rate guide). Nothing below this folder imports it.
"""
