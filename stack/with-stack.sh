#!/usr/bin/env bash
# stack/with-stack.sh CMD [ARGS...]
# Starts the local stack (stack/up.sh), runs CMD with KAFKA_BROKERS,
# SCHEMA_REGISTRY_URL and REDIS_URL exported (stack/env.sh), then stops only the
# servers that were not already running before, so a running dev stack stays up.
# Exits with CMD's exit status (or up.sh's, if the stack could not start).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if (($# == 0)); then
  echo "usage: $0 CMD [ARGS...]" >&2
  exit 2
fi

started=()
for s in "${STACK_SERVERS[@]}"; do
  stack_running "$s" || started+=("$s")
done

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if ((${#started[@]})); then
    bash "$STACK_SRC/down.sh" "${started[@]}" || true
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bash "$STACK_SRC/up.sh"

set +e
"$@"
rc=$?
set -e
exit "$rc"
