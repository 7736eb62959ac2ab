# The processor image the Helm chart runs. Not built in CI here (no Docker engine on the
# build machines); `docker build -t forecast-stream:0.1.0 .` where one exists.
FROM node:20-bookworm-slim AS build
WORKDIR /app
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json .npmrc tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm ci --no-audit --no-fund && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY src/state/lua ./src/state/lua
COPY schemas ./schemas
COPY ui ./ui
COPY engines ./engines
USER node
EXPOSE 9464
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["run"]
