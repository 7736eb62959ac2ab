#!/usr/bin/env bash
# Stop the local stack's servers: all of them, or those named (kafka, registry, redis).
# Graceful (SIGTERM), then SIGKILL after a timeout. Idempotent.
# Environment: STACK_DIR (<repo>/.stack), STACK_STOP_TIMEOUT (30 s per server).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

timeout="${STACK_STOP_TIMEOUT:-30}"
servers=("$@")
((${#servers[@]})) || servers=(registry kafka redis)
for s in "${servers[@]}"; do
  stack_is_server "$s" || { stack_err "unknown server '$s' (known: ${STACK_SERVERS[*]})"; exit 2; }
done

# stop in parallel: Kafka's controlled shutdown is the slow one
pids=()
for s in "${servers[@]}"; do
  if stack_running "$s"; then
    stack_stop "$s" "$timeout" &
    pids+=($!)
  else
    rm -f "$RUN_DIR/$s.pid" "$RUN_DIR/$s.port"
    stack_say "$s not running"
  fi
done
rc=0
for p in "${pids[@]}"; do wait "$p" || rc=1; done
exit "$rc"
