#!/usr/bin/env bash
# The device check: one script for a machine with an NVIDIA GPU that has NumPy, CuPy, PyTorch,
# pytest and hypothesis but no package index. In about 8 minutes it
#   1. installs minigrad's missing dependencies from a carried wheels folder (benchmarks/wheels),
#   2. runs the whole test suite with new tensors on cuda:0 (MINIGRAD_TEST_DEVICE=cuda:0),
#   3. trains end to end with `minigrad train --device cuda`,
#   4. times W2 and W4 against PyTorch CUDA, plain and fused (benchmarks/gpu.py),
# and writes every log and a summary (gpu_summary.txt) into $OUT (or a new temporary folder).
#
# Before the run, fetch the pure-Python wheels here and carry the folder along (git ignores it):
#   pip download --no-deps -d benchmarks/wheels array-api-compat array-api-strict==2.6.1 safetensors
#
# --dry-run runs the same steps on the strict CPU stand-in (strict:1) with a small part of the
# suite and quick benchmarks: CI runs it, so the script itself is tested without a GPU.
set -uo pipefail
cd "$(dirname "$0")/.."
dry=0
[ "${1:-}" = "--dry-run" ] && dry=1
out="${OUT:-$(mktemp -d)}"
mkdir -p "$out"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
summary="$out/gpu_summary.txt"
: > "$summary"
status=0
step() {                      # step NAME SECONDS COMMAND...: run with a time limit, log, one summary line
  local name=$1 limit=$2
  shift 2
  local start=$SECONDS
  timeout "$limit" "$@" > "$out/$name.log" 2>&1
  local rc=$?
  [ $rc -ne 0 ] && status=1
  echo "$name: exit $rc in $((SECONDS - start)) s; $(grep -E 'passed|failed|error|ms/step|accuracy' "$out/$name.log" \
    | tail -4 | tr '\n' ';')" | tee -a "$summary"
}

if [ $dry -eq 1 ]; then
  device=strict:1
  tests=(tests/backend tests/optim/test_kernels.py tests/optim/test_rules.py -k "not compiled and not multi_threaded")
  quick=--quick
else
  device=cuda
  tests=(tests)
  quick=
  if ! python3 -c "import array_api_compat" 2>/dev/null && [ -d benchmarks/wheels ]; then
    python3 -m pip install --quiet --no-index --no-deps --find-links benchmarks/wheels \
      array-api-compat array-api-strict safetensors > "$out/install.log" 2>&1
  fi
fi
python3 -c "import numpy, minigrad; print('numpy', numpy.__version__, '| GPUs:', minigrad.cuda.device_count())" \
  2>&1 | tee -a "$summary"
test_device=$([ "$device" = cuda ] && echo cuda:0 || echo "$device")
step tests 300 env MINIGRAD_TEST_DEVICE="$test_device" python3 -m pytest -q -p no:cacheprovider "${tests[@]}"
step train 120 python3 -m minigrad train --device "$device" --epochs 3 --samples 300 --no-plots --force \
  --out "$out/train"
step bench 240 python3 benchmarks/gpu.py $quick --device "$device"
echo "summary: $summary"
exit $status
