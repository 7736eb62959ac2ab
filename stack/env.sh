# shellcheck shell=bash
# Source me (`. stack/env.sh`) to point the application and the tests at the local
# stack started by stack/up.sh. Ports are taken from the environment, with the same
# defaults as up.sh:
#   KAFKA_PORT=9092 KAFKA_CONTROLLER_PORT=9093 REGISTRY_PORT=8081 REDIS_PORT=6379
#   KAFKA_SECURE_PORT=9094 (the SASL_SSL listener; 0 = none)
# Exports:
#   KAFKA_BROKERS        127.0.0.1:$KAFKA_PORT
#   SCHEMA_REGISTRY_URL  http://127.0.0.1:$REGISTRY_PORT/apis/ccompat/v7  (Confluent API base)
#   REDIS_URL            redis://127.0.0.1:$REDIS_PORT
#   KAFKA_SECURE_BROKERS 127.0.0.1:$KAFKA_SECURE_PORT  (SASL SCRAM-SHA-512 over TLS), with
#   KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD_FILE and KAFKA_TLS_CA_FILE (under $STACK_DIR/secure)
# To use services that run elsewhere, don't source this: export those three yourself.
# Sets no shell options, so it is safe to source into an interactive shell.

export KAFKA_PORT="${KAFKA_PORT:-9092}"
export KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
export REGISTRY_PORT="${REGISTRY_PORT:-8081}"
export REDIS_PORT="${REDIS_PORT:-6379}"
export KAFKA_SECURE_PORT="${KAFKA_SECURE_PORT:-9094}"

export KAFKA_BROKERS="127.0.0.1:${KAFKA_PORT}"
export SCHEMA_REGISTRY_URL="http://127.0.0.1:${REGISTRY_PORT}/apis/ccompat/v7"
export REDIS_URL="redis://127.0.0.1:${REDIS_PORT}"

_fs_stack_dir="${STACK_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.stack}"
export KAFKA_SECURE_BROKERS="127.0.0.1:${KAFKA_SECURE_PORT}"
export KAFKA_SASL_USERNAME="forecast-stream"
export KAFKA_SASL_PASSWORD_FILE="${_fs_stack_dir}/secure/kafka-password"
export KAFKA_TLS_CA_FILE="${_fs_stack_dir}/secure/ca.crt"
unset _fs_stack_dir
