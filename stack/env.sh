# shellcheck shell=bash
# Source me (`. stack/env.sh`) to point the application and the tests at the local
# stack started by stack/up.sh. Ports are taken from the environment, with the same
# defaults as up.sh:
#   KAFKA_PORT=9092 KAFKA_CONTROLLER_PORT=9093 REGISTRY_PORT=8081 REDIS_PORT=6379
# Exports:
#   KAFKA_BROKERS        127.0.0.1:$KAFKA_PORT
#   SCHEMA_REGISTRY_URL  http://127.0.0.1:$REGISTRY_PORT/apis/ccompat/v7  (Confluent API base)
#   REDIS_URL            redis://127.0.0.1:$REDIS_PORT
# To use services that run elsewhere, don't source this: export those three yourself.
# Sets no shell options, so it is safe to source into an interactive shell.

export KAFKA_PORT="${KAFKA_PORT:-9092}"
export KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
export REGISTRY_PORT="${REGISTRY_PORT:-8081}"
export REDIS_PORT="${REDIS_PORT:-6379}"

export KAFKA_BROKERS="127.0.0.1:${KAFKA_PORT}"
export SCHEMA_REGISTRY_URL="http://127.0.0.1:${REGISTRY_PORT}/apis/ccompat/v7"
export REDIS_URL="redis://127.0.0.1:${REDIS_PORT}"
