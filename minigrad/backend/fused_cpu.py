"""Single-pass optimizer updates on the CPU with numexpr (optional: ``pip install minigrad[fast]``).

An update rule is a short list of statements ``name = expression`` over arrays
and scalars (``+ - * /``, ``sqrt``, ``where``, comparisons). NumPy would run
each operator as its own pass over memory; numexpr runs each statement as one
multi-threaded, cache-blocked pass, writing in place into the named array.
"""

_kernels = None
_checked = False


def kernels():
    """The numexpr-backed runner, or None when numexpr is not installed."""
    global _kernels, _checked
    if not _checked:
        _checked = True
        try:
            import numexpr
        except ImportError:
            return None
        _kernels = NumexprKernels(numexpr)
    return _kernels


class NumexprKernels:
    """Runs statement lists with numexpr.

    ``preferred`` is False: on the machines measured, NumPy over cache-sized blocks
    was faster (numexpr's sqrt and division are not vectorised without Intel's VML),
    so optimizers use this path only when asked with ``fused=True``.
    """

    name = "numexpr"
    preferred = False

    def __init__(self, numexpr):
        self._ne = numexpr
        self._compiled = {}
        self._scratch = {}

    def run(self, statements, arrays, scalars):
        """Run ``statements`` in order; names assigned that are not in ``arrays`` are scratch arrays.

        Args:
            statements: tuple of "target = expression" strings.
            arrays: name -> array, all of one shape and dtype; targets among them are updated in place.
            scalars: name -> NumPy scalar of the arrays' dtype.
        """
        local = dict(scalars)
        local.update(arrays)
        like = next(iter(arrays.values()))
        for statement in statements:
            target, expression = (part.strip() for part in statement.split("=", 1))
            out = local.get(target)
            if out is None or target in scalars:
                out = self._scratch_for(target, like)
                local[target] = out
            self._ne.evaluate(expression, local_dict=local, out=out, casting="same_kind")
        return arrays

    def _scratch_for(self, name, like):
        key = (name, like.shape, like.dtype)
        buf = self._scratch.get(key)
        if buf is None:
            buf = self._scratch[key] = like.copy()
        return buf
