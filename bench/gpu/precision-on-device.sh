#!/usr/bin/env bash
# The FP32 / FP16 / INT8 benchmark (bench/gpu/precision-bench.mjs) on the GPU machine, through the
# `device` tool, with the payload of prepare-payload.sh re-cut so that each call carries under
# ~45 MiB next to the working tree (which is ~7.5 MiB now; a call carries 64 MiB in all).
#
# Here, once (after bench/gpu/prepare-payload.sh; needs the held-back rows of
# `make_precision_variants.py --dump-rows /tmp/pv-rows`):
#   bench/gpu/precision-on-device.sh pack /tmp/pv-rows     # → bench/gpu/.payload/prec/c1 … c5
# Then five `device` calls back to back (a warm machine keeps what was staged; it goes cold 30 s
# after a call):
#   1. carry [bench/gpu/.payload/prec/c1]: bash bench/gpu/run-on-device.sh stage prec/c1
#   2.–4. the same with c2, c3, c4
#   5. carry [bench/gpu/.payload/prec/c5]: bash bench/gpu/run-on-device.sh stage prec/c5 && bash bench/gpu/precision-on-device.sh run
# `run` assembles node + onnxruntime-node + the CUDA provider as run-on-device.sh does, then runs
# precision-bench.mjs on cpu1, cpu (all cores) and cuda for the FP32 model and its two variants,
# with ORT profiling (where each node ran), and writes the tables to $OUT.
set -uo pipefail
ROOT=/tmp/fsgpu
PAY=bench/gpu/.payload
OUT=${OUT:-/tmp/out}
MODEL=${MODEL:-engines/walmart-mlp/3-2012-04-27}
VARIANTS=${VARIANTS:-test/fixtures/precision/walmart-mlp}
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1

nvidia_libs() {
  local sp
  sp=$(python3 -c 'import site,sys; print(" ".join(site.getsitepackages()))' 2>/dev/null)
  for d in $sp; do [ -d "$d/nvidia" ] && find "$d/nvidia" -name 'lib*.so*' -printf '%h\n'; done | sort -u | paste -sd:
}

case "${1:-}" in
pack)
  set -e
  rows=${2:?rows folder from make_precision_variants.py --dump-rows}
  [ -s "$PAY/p1/base.tar.xz" ] && [ -s "$PAY/cache/cuda.so.xz" ] || { echo "run bench/gpu/prepare-payload.sh first" >&2; exit 1; }
  rm -rf "$PAY/prec" && mkdir -p "$PAY/prec/c1"
  cp "$PAY/p1/base.tar.xz" "$PAY/p1/cuda.so.sha256" "$PAY/prec/c1/"
  tar -C "$rows" -cf - heldback.f32 heldback-actual.f32 heldback.json | xz -6 -T0 > "$PAY/prec/c1/rows.tar.xz"
  split -n 4 -d -a 2 "$PAY/cache/cuda.so.xz" "$PAY/prec/cuda.so.xz.part"
  n=2
  for f in "$PAY"/prec/cuda.so.xz.part*; do mkdir -p "$PAY/prec/c$n" && mv "$f" "$PAY/prec/c$n/"; n=$((n + 1)); done
  du -sh "$PAY"/prec/c*
  ;;
run)
  set -e
  mkdir -p "$OUT"
  ls -la "$ROOT/parts"
  xz -dc "$ROOT/parts/base.tar.xz" | tar -C "$ROOT" -xf -
  mkdir -p "$ROOT/rows" && xz -dc "$ROOT/parts/rows.tar.xz" | tar -C "$ROOT/rows" -xf -
  X64=$ROOT/node_modules/onnxruntime-node/bin/napi-v6/linux/x64
  if [ ! -f "$X64/libonnxruntime_providers_cuda.so" ]; then
    cat "$ROOT"/parts/cuda.so.xz.part* | xz -dc > "$X64/libonnxruntime_providers_cuda.so"
  fi
  echo "$(cat "$ROOT/parts/cuda.so.sha256")  $X64/libonnxruntime_providers_cuda.so" | sha256sum -c -
  export LD_LIBRARY_PATH="$(nvidia_libs)${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.mem --format=csv | tee "$OUT/machine.txt"
  { nproc; grep -m1 'model name' /proc/cpuinfo; "$ROOT/node" --version; } | tee -a "$OUT/machine.txt"
  MACHINE="$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | head -1 | sed 's/, / driver /') + $(nproc) CPU cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs))"
  set +e
  "$ROOT/node" bench/gpu/precision-bench.mjs --ort "$ROOT/node_modules/onnxruntime-node" \
    --ep "$ROOT/proc/dist/inference/model/execution-providers.js" \
    --models "fp32=$MODEL,fp16=$VARIANTS/$(basename "$MODEL")-fp16,int8=$VARIANTS/$(basename "$MODEL")-int8" \
    --rows "$ROOT/rows" --out "$OUT" --providers "${PROVIDERS:-cpu1,cpu,cuda}" --profile --machine "$MACHINE" \
    --tag precision-gpu 2> "$OUT/stderr.log" | tee "$OUT/bench.log"
  echo "bench exit: ${PIPESTATUS[0]}"
  grep -v '^$' "$OUT/stderr.log" | grep -v -i 'verbose' | sort | uniq -c | sort -rn | head -20
  ;;
*)
  echo "usage: $0 pack ROWS_DIR | run" >&2; exit 2 ;;
esac
