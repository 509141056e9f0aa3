#!/usr/bin/env bash
# The device check, as one script for a machine with an NVIDIA GPU: install, run the GPU
# half of the test suite, then the GPU benchmark. Writes logs into $OUT when set.
set -uo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-/tmp}"
python3 -m pip install --quiet -e ".[dev]" cupy-cuda12x 2>&1 | tail -2
python3 -c "import cupy; print('cupy', cupy.__version__, cupy.cuda.runtime.getDeviceCount(), 'GPU(s)')"
PYTHONUNBUFFERED=1 python3 -m pytest -q -m gpu -x 2>&1 | tee "$out/gpu_tests.log" | tail -15
PYTHONUNBUFFERED=1 python3 benchmarks/gpu.py 2>&1 | tee "$out/gpu_bench.log"
