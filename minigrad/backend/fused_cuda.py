"""Single-kernel optimizer updates on the GPU with ``cupy.ElementwiseKernel``.

The same statement lists that Numba compiles for the CPU are compiled into one CUDA
kernel: each element is read once, updated through every statement in
registers, and written once. Names assigned that are not arrays become local
variables of the kernel.
"""

import re

_PREAMBLE = """
template <typename T> __device__ T where(bool c, T a, T b) { return c ? a : b; }
"""

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def kernels(cupy):
    return CupyKernels(cupy)


class CupyKernels:
    """One compiled kernel per statement list; ``preferred``: optimizers use it unless told not to."""

    name = "cupy.ElementwiseKernel"
    preferred = True
    dtypes = ("float32", "float64")  # float16 parameters take the plain path

    def __init__(self, cupy):
        self._cp = cupy
        self._compiled = {}

    def run(self, statements, arrays, scalars):
        """Run ``statements`` as one kernel over ``arrays`` (updated in place), with ``scalars``."""
        array_names = tuple(arrays)
        scalar_names = tuple(scalars)
        key = (statements, array_names, scalar_names)
        kernel = self._compiled.get(key)
        if kernel is None:
            kernel = self._compiled[key] = self._compile(statements, array_names, scalar_names)
        kernel(*(scalars[n] for n in scalar_names), *(arrays[n] for n in array_names))
        return arrays

    def _compile(self, statements, array_names, scalar_names):
        locals_declared = set()
        body = []
        for statement in statements:
            target, expression = (part.strip() for part in statement.split("=", 1))
            if target in array_names:
                body.append(f"{target} = {expression};")
            elif target in locals_declared:
                body.append(f"{target} = {expression};")
            else:
                locals_declared.add(target)
                body.append(f"T {target} = {expression};")
        in_params = ", ".join(f"T {n}" for n in scalar_names)
        out_params = ", ".join(f"T {n}" for n in array_names)
        return self._cp.ElementwiseKernel(
            in_params, out_params, "\n".join(body), "minigrad_fused_update", preamble=_PREAMBLE
        )
