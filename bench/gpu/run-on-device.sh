#!/usr/bin/env bash
# Runs on the GPU machine (through the `device` tool), from the repo root.
#
#   bench/gpu/run-on-device.sh probe          # what the machine has (cheap)
#   bench/gpu/run-on-device.sh stage pN       # keep part N of the payload in /tmp/fsgpu (warm machine)
#   bench/gpu/run-on-device.sh bench          # assemble, make models, then → $OUT:
#       bench.mjs (trained model from engines/ on real rows, prod-shape and heavy stand-ins; CPU vs GPU),
#       bench.mjs again for the trained model with NVIDIA_TF32_OVERRIDE=0 (strict FP32),
#       processor-path.mjs (dist/main/models.js loadPrimaryModel → worker → cuda, vs cpu)
#
# The CUDA provider needs CUDA 13 (libcublas/libcublasLt.so.13, libcudart.so.13, libcurand.so.10)
# and cuDNN 9: the machine's PyTorch (cu130) venv carries them as nvidia-* wheels, so their lib
# folders go on LD_LIBRARY_PATH. ORT loads libonnxruntime_providers_*.so from the folder of
# libonnxruntime.so.1 (onnxruntime-node/bin/napi-v6/linux/x64), so they are copied there.
set -uo pipefail
ROOT=/tmp/fsgpu
PAY=bench/gpu/.payload
OUT=${OUT:-/tmp/out}
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1

nvidia_libs() {
  local sp
  sp=$(python3 -c 'import site,sys; print(" ".join(site.getsitepackages()))' 2>/dev/null)
  for d in $sp; do [ -d "$d/nvidia" ] && find "$d/nvidia" -name 'lib*.so*' -printf '%h\n'; done | sort -u | paste -sd:
}

case "${1:-}" in
probe)
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  nproc; grep MemTotal /proc/meminfo; cat /etc/os-release | grep PRETTY; ldd --version | head -1
  python3 -c 'import torch,onnx,numpy; print("torch",torch.__version__,"cuda",torch.version.cuda,"onnx",onnx.__version__,"numpy",numpy.__version__)'
  echo "nvidia lib dirs: $(nvidia_libs)"
  for l in libcublas.so.13 libcublasLt.so.13 libcudart.so.13 libcurand.so.10 libcufft.so.12 libcudnn.so.9 libnvinfer.so.10 libcuda.so.1; do
    f=$(IFS=:; for d in $(nvidia_libs) /usr/lib/x86_64-linux-gnu /usr/local/nvidia/lib64 /usr/local/cuda/lib64; do ls "$d/$l" 2>/dev/null; done | head -1)
    echo "  $l: ${f:-$(ldconfig -p | grep -m1 "$l" | awk '{print $NF}')}"
  done
  find / -xdev \( -name 'libonnxruntime_providers_cuda.so' -o -name 'libnvinfer.so*' \) 2>/dev/null | head
  ;;
stage)
  mkdir -p "$ROOT/parts"
  cp "$PAY/$2"/* "$ROOT/parts/" && ls -la "$ROOT/parts" && df -h /tmp | tail -1
  ;;
bench)
  set -e
  mkdir -p "$OUT" "$ROOT/parts"
  [ -d "$PAY" ] && for p in "$PAY"/p*; do cp -n "$p"/* "$ROOT/parts/" 2>/dev/null || true; done
  ls -la "$ROOT/parts"
  xz -dc "$ROOT/parts/base.tar.xz" | tar -C "$ROOT" -xf -
  X64=$ROOT/node_modules/onnxruntime-node/bin/napi-v6/linux/x64
  if [ ! -f "$X64/libonnxruntime_providers_cuda.so" ]; then
    cat "$ROOT"/parts/cuda.so.xz.part* | xz -dc > "$X64/libonnxruntime_providers_cuda.so"
  fi
  echo "$(cat "$ROOT/parts/cuda.so.sha256")  $X64/libonnxruntime_providers_cuda.so" | sha256sum -c -
  export LD_LIBRARY_PATH="$(nvidia_libs)${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  "$ROOT/node" --version
  python3 bench/gpu/make_models.py "$ROOT/models"
  smoke() {
    "$ROOT/node" -e "require('$ROOT/node_modules/onnxruntime-node').InferenceSession.create('$ROOT/models/prod.onnx',
      {executionProviders:[{name:'${GPU_EP:-cuda}',deviceId:0}]}).then(()=>console.log('gpu smoke: ok'),
      e=>{console.log('gpu smoke: FAILED: '+e.message);process.exit(1)})"
  }
  if ! smoke && [ -f "$ROOT/parts/ort-wheel-lib.so.xz" ]; then
    echo "plan B: the onnxruntime-gpu wheel's libonnxruntime.so in place of the npm one"
    cp "$X64/libonnxruntime.so.1" "$X64/libonnxruntime.so.1.npm"
    xz -dc "$ROOT/parts/ort-wheel-lib.so.xz" > "$X64/libonnxruntime.so.1"
    smoke || true
  fi
  TRAINED=${TRAINED_MODEL:-$(ls -d "$PWD"/engines/*/*/model.onnx | sort | tail -1)}
  MACHINE="$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | head -1 | sed 's/, / driver /') + $(nproc) CPU cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs))"
  BENCH=("$ROOT/node" bench/gpu/bench.mjs --ort "$ROOT/node_modules/onnxruntime-node"
    --ep "$ROOT/proc/dist/inference/model/execution-providers.js" --models "$ROOT/models" --out "$OUT"
    --machine "$MACHINE" --gpu "${GPU_EP:-cuda}" --trained-model "$TRAINED" --trained-rows "$ROOT/trained/rows.f32")
  "${BENCH[@]}" --tag gpu-trained ${BENCH_ARGS:-} 2>&1 | tee "$OUT/bench.log"
  [ "${STRICT:-1}" = 1 ] && NVIDIA_TF32_OVERRIDE=0 "${BENCH[@]}" --only trained --tag gpu-trained-strictfp32 \
    --note "same machine, same session, NVIDIA_TF32_OVERRIDE=0 (strict FP32 GEMMs on the GPU)" 2>&1 | tee -a "$OUT/bench.log"
  set +e
  "$ROOT/node" bench/gpu/processor-path.mjs --dist "$ROOT/proc/dist" --engines "$(dirname "$(dirname "$(dirname "$TRAINED")")")" \
    --rows "$ROOT/trained/rows.f32" --out "$OUT" --gpu "${GPU_EP:-cuda}" --machine "$MACHINE" 2>&1 | tee -a "$OUT/bench.log"
  echo "processor-path exit: ${PIPESTATUS[0]}"
  ;;
*)
  echo "usage: $0 probe | stage pN | bench" >&2; exit 2 ;;
esac
