#!/usr/bin/env bash
# Prepare what the GPU machine needs to run the processor's inference path, in parts that each
# fit one `device` call (64 MiB per call, working tree included). Run here, from the repo root:
#
#   bench/gpu/prepare-payload.sh            # → bench/gpu/.payload/p1 … pN (gitignored)
#
# p1 holds a stripped Node binary, onnxruntime-node (linux/x64 only) + onnxruntime-common + zod,
# the compiled processor (tsc -p tsconfig.build.json → proc/dist, what `npm run build` writes to
# dist/), real feature rows for the trained model (trained/rows.f32, from
# bench/gpu/make-trained-rows.ts over $WALMART_DATA, default ../shared/data/walmart2014, else
# test/fixtures/walmart-mini) and the two small provider libraries; p2 … pN hold
# libonnxruntime_providers_cuda.so (xz, split). Then send p1 … pN one call each, back to back
# (a warm machine keeps earlier parts; it goes cold 30 s after a call) and run
# bench/gpu/run-on-device.sh in the last one. docs/gpu.md has the whole sequence.
#
# Why the onnxruntime-gpu wheel: onnxruntime-node's postinstall downloads the CUDA/TensorRT
# provider libraries from NuGet, which is not reachable; the PyPI wheel of the same ORT version
# carries the same libraries (built for CUDA 13, cuDNN 9, TensorRT 10: its METADATA requires
# nvidia-cuda-runtime~=13.0, and readelf shows libcublas.so.13 / libcudart.so.13 / libnvinfer.so.10).
set -euo pipefail
cd "$(dirname "$0")/../.."
ORT_VERSION=$(node -p "require('./node_modules/onnxruntime-node/package.json').version")
PAY=bench/gpu/.payload
CACHE=$PAY/cache
BUILD=$PAY/build
PART_MIB=${PART_MIB:-60}
mkdir -p "$CACHE" "$BUILD"

# 1. The provider libraries from the onnxruntime-gpu wheel of the same version.
WHL=$(ls "$CACHE"/onnxruntime_gpu-"$ORT_VERSION"-*.whl 2>/dev/null | head -1 || true)
if [ -z "$WHL" ]; then
  python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 -d "$CACHE" "onnxruntime-gpu==$ORT_VERSION"
  WHL=$(ls "$CACHE"/onnxruntime_gpu-"$ORT_VERSION"-*.whl | head -1)
fi
unzip -o -q -j "$WHL" 'onnxruntime/capi/libonnxruntime_providers_*.so' -d "$BUILD/providers"
unzip -p "$WHL" '*/METADATA' | grep -E '^Requires-Dist: nvidia' | sed 's/^/  wheel needs: /'

# 2. The base: node, onnxruntime-node (linux/x64 binaries only), the compiled processor and the
#    packages its model path imports (dist/main/models.js + dist/ops/config.js pull only
#    onnxruntime-node, onnxruntime-common and zod), real feature rows, small providers.
rm -rf "$BUILD/root" && mkdir -p "$BUILD/root/node_modules"
cp "$(command -v node)" "$BUILD/root/node" && strip "$BUILD/root/node" || true
cp -r node_modules/zod "$BUILD/root/node_modules/"
for pkg in onnxruntime-node onnxruntime-common; do
  mkdir -p "$BUILD/root/node_modules/$pkg"
  cp -r node_modules/$pkg/package.json node_modules/$pkg/dist "$BUILD/root/node_modules/$pkg/"
done
mkdir -p "$BUILD/root/node_modules/onnxruntime-node/bin/napi-v6/linux"
cp -r node_modules/onnxruntime-node/bin/napi-v6/linux/x64 "$BUILD/root/node_modules/onnxruntime-node/bin/napi-v6/linux/"
cp "$BUILD/providers/libonnxruntime_providers_shared.so" "$BUILD/providers/libonnxruntime_providers_tensorrt.so" \
  "$BUILD/root/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/"
npx tsc -p tsconfig.build.json --outDir "$BUILD/root/proc/dist"
echo '{"type":"module"}' > "$BUILD/root/proc/package.json"
DATA=${WALMART_DATA:-../shared/data/walmart2014}
[ -f "$DATA/train.csv" ] || DATA=test/fixtures/walmart-mini
mkdir -p "$BUILD/root/trained"
npx vite-node bench/gpu/make-trained-rows.ts -- "$DATA" "$BUILD/root/trained/rows.f32" "${TRAINED_ROWS:-65536}"

rm -rf "$PAY"/p[0-9]*
mkdir -p "$PAY/p1"
tar -C "$BUILD/root" -cf - . | xz -9 -T0 > "$PAY/p1/base.tar.xz"

# 3. The CUDA provider (272 MB; its kernels are already compressed, xz saves ~20%), split.
if [ ! -s "$CACHE/cuda.so.xz" ] || [ "$CACHE/cuda.so.xz" -ot "$WHL" ]; then
  xz -9 -T0 -c "$BUILD/providers/libonnxruntime_providers_cuda.so" > "$CACHE/cuda.so.xz.tmp"
  mv "$CACHE/cuda.so.xz.tmp" "$CACHE/cuda.so.xz"
fi
sha256sum "$BUILD/providers/libonnxruntime_providers_cuda.so" | awk '{print $1}' > "$PAY/p1/cuda.so.sha256"
split -b "${PART_MIB}M" -d -a 2 "$CACHE/cuda.so.xz" "$BUILD/cuda.so.xz.part"
n=2
for f in "$BUILD"/cuda.so.xz.part*; do
  mkdir -p "$PAY/p$n" && mv "$f" "$PAY/p$n/"
  n=$((n + 1))
done
# Plan B, in the last part: the wheel's own libonnxruntime.so (same version), used by
# run-on-device.sh only if the npm build of libonnxruntime.so.1 will not take the wheel's CUDA provider.
unzip -p "$WHL" "onnxruntime/capi/libonnxruntime.so.$ORT_VERSION" | xz -9 -T0 > "$PAY/p$((n - 1))/ort-wheel-lib.so.xz"
du -sh "$PAY"/p*
echo "parts: $(ls -d "$PAY"/p* | wc -l); send each with carry [bench/gpu/.payload/pN] and 'bench/gpu/run-on-device.sh stage pN'"
