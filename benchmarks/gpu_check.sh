#!/usr/bin/env bash
# The device check: one script for a machine with an NVIDIA GPU that has NumPy, CuPy, PyTorch,
# pytest and hypothesis but no package index. In about 8 minutes it
#   1. installs minigrad's missing dependencies from a carried wheels folder (benchmarks/wheels),
#   2. runs the whole test suite with new tensors on cuda:0 (MINIGRAD_TEST_DEVICE=cuda:0),
#   3. trains end to end with `minigrad train --device cuda`,
#   4. times W2 and W4 against PyTorch CUDA, plain and fused, and checks that the fused kernel's losses
#      equal the plain path's (benchmarks/gpu.py),
# and writes every log and a summary (gpu_summary.txt) into $OUT (or a new temporary folder). The steps'
# limits add up to 8 minutes (330 + 60 + 90 s).
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
  if [ "$(type -t "$1")" = function ]; then
    LIMIT=$limit "$@" > "$out/$name.log" 2>&1       # a function applies the limit to what it starts
  else
    timeout "$limit" "$@" > "$out/$name.log" 2>&1
  fi
  local rc=$?
  [ $rc -ne 0 ] && status=1
  echo "$name: exit $rc in $((SECONDS - start)) s; $(grep -E 'passed|failed|error|ms/step|accuracy|fused kernel' "$out/$name.log" \
    | tail -6 | tr '\n' ';')" | tee -a "$summary"
  [ $rc -eq 124 ] && echo "$name: stopped at its limit of $limit s" | tee -a "$summary"
}

if [ $dry -eq 1 ]; then
  device=strict:1
  shards=("tests/backend tests/optim/test_kernels.py" "tests/optim/test_rules.py tests/optim/test_optimizer.py")
  quick=--quick
else
  device=cuda
  # the whole suite in four shards side by side (the GPU machines have 16 cores), to fit the time limit
  shards=("tests/ops" "tests/nn tests/autograd tests/backend" "tests/optim tests/utils tests/viz"
          "tests/cli tests/reliability $(ls tests/test_*.py | tr '\n' ' ')")
  quick=
  if ! python3 -c "import array_api_compat" 2>/dev/null && [ -d benchmarks/wheels ]; then
    python3 -m pip install --quiet --no-index --no-deps --find-links benchmarks/wheels \
      array-api-compat array-api-strict safetensors > "$out/install.log" 2>&1
  fi
fi
python3 -c "import numpy, minigrad; print('numpy', numpy.__version__, '| GPUs:', minigrad.cuda.device_count())" \
  2>&1 | tee -a "$summary"
test_device=$([ "$device" = cuda ] && echo cuda:0 || echo "$device")
run_shards() {                # every shard of the suite at once; fails if one fails
  local pids=() k=0 rc=0
  for shard in "${shards[@]}"; do
    # shellcheck disable=SC2086  (a shard is a list of paths)
    MINIGRAD_TEST_DEVICE="$test_device" timeout "$LIMIT" python3 -m pytest -q -p no:cacheprovider $shard \
      > "$out/tests_$k.log" 2>&1 &
    pids+=($!)
    k=$((k + 1))
  done
  for pid in "${pids[@]}"; do wait "$pid" || rc=$?; done
  tail -q -n 1 "$out"/tests_*.log
  return $rc
}
step tests 330 run_shards
step train 60 python3 -m minigrad train --device "$device" --epochs 3 --samples 300 --no-plots --force \
  --out "$out/train"
step bench 90 python3 benchmarks/gpu.py $quick --device "$device"
echo "summary: $summary"
exit $status
