"""``minigrad.jit``: record a training step once, replay its array operations on later calls.

``jit`` (function.py) runs the step eagerly, records it (record.py: the traced
arrays, seams.py: the doors they come through), compares two recordings, compiles
the list into a Python function (program.py) and replays it while the guards
(guards.py) hold. Nothing in the core imports this package. See docs/jit.md.
"""

from minigrad.jit.function import JitError, JitFunction, jit  # noqa: F401
from minigrad.jit.record import ReadInStep, RecordingError  # noqa: F401
