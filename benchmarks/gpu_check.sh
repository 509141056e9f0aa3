#!/usr/bin/env bash
# The device check, as one script for a machine with an NVIDIA GPU that already has
# NumPy, CuPy, pytest, hypothesis and PyTorch (the lent H200 machines have them and
# cannot reach a package index): run the GPU half of the test suite, then the GPU
# benchmark (W2 and W4 against PyTorch CUDA). Writes logs into $OUT when set.
#
# minigrad needs array-api-compat (pure Python), which such a machine may lack. Before the
# run, download it here and carry the folder along (it is ignored by git):
#   pip download --no-deps -d benchmarks/wheels array-api-compat array-api-strict
# and the script installs it from there, without an index.
set -uo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-/tmp}"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
if ! python3 -c "import array_api_compat" 2>/dev/null && [ -d benchmarks/wheels ]; then
  python3 -m pip install --quiet --no-index --find-links benchmarks/wheels array-api-compat array-api-strict \
    2>&1 | tee "$out/gpu_install.log"
fi
python3 -c "import cupy, numpy; print('numpy', numpy.__version__, 'cupy', cupy.__version__,
cupy.cuda.runtime.getDeviceCount(), 'GPU(s)')" 2>&1 | tee "$out/gpu_env.log"
python3 -m pytest -q -p no:cacheprovider -m gpu -x 2>&1 | tee "$out/gpu_tests.log" | tail -25
python3 benchmarks/gpu.py 2>&1 | tee "$out/gpu_bench.log"
