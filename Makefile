# forecast-stream: every entry point a person or CI needs. Each target installs what it
# needs (npm packages, Debian's redis-server, the Kafka and registry jars) and starts the
# local stack when it is not running; `with-stack.sh` stops only what it started.
SHELL := /bin/bash
export ONNXRUNTIME_NODE_INSTALL := skip
# @confluentinc/kafka-javascript (optional; the bench compares it) builds librdkafka from the
# source it ships; dynamic linking uses Debian's OpenSSL/zlib instead of downloading them
export CKJS_LINKING := dynamic
export npm_config_update_notifier := false
# STACK=external: use the Kafka/registry/Redis named by KAFKA_BROKERS, SCHEMA_REGISTRY_URL,
# REDIS_URL instead of starting the local stack.
WITH_STACK := $(if $(filter external,$(STACK)),,bash stack/with-stack.sh)

.PHONY: help install build up down status test test-unit test-integration test-py demo bench chaos train train-m5 helm-lint check-ops clean

help:
	@echo "make demo    - start the local stack and run the pipeline end to end on a synthetic stream (~1 min)"
	@echo "make test    - install what is missing, start the stack, run unit + integration + Python tests"
	@echo "make up | down | status - the local Kafka + schema registry + Redis stack"
	@echo "make bench   - benchmarks (results in bench/results/)"
	@echo "make chaos   - fault scenarios on the real stack (RUNS=3 for three in a row; results in bench/results/chaos-*)"
	@echo "make train   - retrain the weekly Walmart model into engines/ (Python venv in training/.venv)"
	@echo "make train-m5 - retrain the daily M5 model into engines/m5-daily-gbm/ (M5_DATA=dir, default ../shared/data/m5-daily)"
	@echo "make helm-lint - lint and render the Helm chart in helm/forecast-stream"
	@echo "make check-ops - the chart (lint, render, strict schema check), alert rules (promtool) and dashboard checks"

node_modules/.install-stamp: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

install: node_modules/.install-stamp

build: install
	npm run --silent build

up:
	bash stack/up.sh

down:
	bash stack/down.sh

status:
	bash stack/status.sh

test: build
	bash scripts/ensure-chromium.sh
	bash scripts/ensure-prometheus.sh
	bash scripts/check-ops.sh
	$(WITH_STACK) bash scripts/run-tests.sh all

test-unit: build
	bash scripts/run-tests.sh unit

test-integration: build
	bash scripts/ensure-chromium.sh
	bash scripts/ensure-prometheus.sh
	$(WITH_STACK) bash scripts/run-tests.sh integration

test-py:
	bash training/test.sh

demo: build
	$(WITH_STACK) node dist/cli/main.js demo

bench: build
	$(WITH_STACK) bash bench/run.sh

chaos: build
	$(WITH_STACK) bash bench/chaos/run.sh $(RUNS)

train:
	bash training/train.sh

train-m5:
	bash training/train-m5.sh

# helm, promtool and the schema validator come from the Go module proxy into .tools/ (the
# first build takes a few minutes); docs/helm.md says what is checked
helm-lint: check-ops

check-ops:
	bash scripts/check-ops.sh

clean:
	rm -rf dist node_modules/.install-stamp
