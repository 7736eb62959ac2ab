#!/usr/bin/env bash
# One line per server of the local stack (running/stopped, port, pid).
# Exits 0 only if all of them are running and listening.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rc=0
for s in "${STACK_SERVERS[@]}"; do
  if pid="$(stack_pid "$s")"; then
    port="$(stack_started_port "$s")"
    if stack_port_open "$port"; then
      printf '%-9s running   port %-5s pid %s\n' "$s" "$port" "$pid"
    else
      printf '%-9s starting  port %-5s pid %s (port not open yet)\n' "$s" "$port" "$pid"
      rc=1
    fi
  else
    port="$(stack_port "$s")"
    if stack_port_open "$port"; then
      printf '%-9s stopped   port %-5s (port in use by a process not started by this stack)\n' "$s" "$port"
    else
      printf '%-9s stopped   port %s\n' "$s" "$port"
    fi
    rc=1
  fi
done
printf 'logs: %s\n' "$LOG_DIR"
exit "$rc"
