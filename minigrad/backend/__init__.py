"""The one seam between minigrad and its array libraries: NumPy, CuPy and array-api-strict."""

from minigrad.backend.devices import (  # noqa: F401
    as_device,
    cuda_device_count,
    device,
    get_default_device,
    is_cuda_available,
    set_default_device,
)
