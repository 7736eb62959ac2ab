# The processor image the Helm chart runs: CPU inference (Dockerfile.gpu is the CUDA variant).
# What it holds and how to check it: docs/container.md. Not built in CI here (no Docker engine on
# the build machines; scripts/check-ops.sh lints this file offline). Where an engine exists:
#   docker build --check . && docker build -t forecast-stream:0.1.0 .
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
# onnxruntime-node's postinstall would download the CUDA provider libraries; the CPU image has
# no use for them (its CPU binaries are in the npm package itself)
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json .npmrc tsconfig.json tsconfig.build.json ./
COPY src ./src
# `npm ci` installs every dependency (TypeScript included) and then runs the package's `prepare`
# script, tsc -p tsconfig.build.json, which writes dist/. `npm prune` drops the dev
# dependencies. onnxruntime-node ships binaries for darwin, win32 and both Linux architectures
# (~200 MB): only this platform's are kept.
RUN npm ci --no-audit --no-fund \
 && test -f dist/cli/main.js \
 && npm prune --omit=dev --no-audit --no-fund \
 && ort=node_modules/onnxruntime-node/bin/napi-v6 \
 && keep="$ort/linux/$(node -p process.arch)" \
 && test -f "$keep/libonnxruntime.so.1" \
 && find "$ort" -mindepth 2 -maxdepth 2 ! -path "$keep" -exec rm -rf {} + \
 && find "$ort" -mindepth 1 -maxdepth 1 -empty -delete
# The runtime tree: what the processor reads at run time (compiled code, production
# node_modules, the Redis Lua scripts, the Avro schemas, the UI, the models in engines/).
# Owned by root, readable but not writable by the app's user.
COPY schemas /rootfs/app/schemas
COPY ui /rootfs/app/ui
COPY engines /rootfs/app/engines
RUN cp -a package.json dist node_modules /rootfs/app/ \
 && mkdir -p /rootfs/app/src/state \
 && cp -a src/state/lua /rootfs/app/src/state/ \
 && chown -R 0:0 /rootfs/app \
 && chmod -R u=rwX,go=rX /rootfs/app

FROM ${NODE_IMAGE}
LABEL org.opencontainers.image.title="forecast-stream" \
      org.opencontainers.image.description="Kafka -> Redis -> ONNX -> Kafka demand-forecast processor (CPU inference)"
# ORT_DISABLE_TELEMETRY: onnxruntime 1.30's Linux build carries Microsoft's 1DS telemetry. At
# each session start it writes /tmp/mat-debug-<pid>.log and ~/.cache/Microsoft/DeveloperTools/
# .onnxruntime/ (a device id, an event store), and it is built to send events to Microsoft's
# collector. Off: nothing to write into a read-only root filesystem, nothing leaving the cluster.
ENV NODE_ENV=production \
    ORT_DISABLE_TELEMETRY=1
COPY --from=build /rootfs/app /app
WORKDIR /app
# uid/gid 1000 (the base image's `node` user), numeric so that Kubernetes' runAsNonRoot can
# verify it; the chart runs it with runAsUser 1000 and a read-only root filesystem
USER 1000:1000
# the compiled CLI and onnxruntime's native binding load as that user
RUN node dist/cli/main.js --help >/dev/null && node -e "require('onnxruntime-node')"
EXPOSE 9464
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["run"]
