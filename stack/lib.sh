# shellcheck shell=bash
# Shared helpers of stack/up.sh, down.sh, status.sh and with-stack.sh. Not for
# sourcing into an interactive shell (use stack/env.sh for that).

STACK_SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$STACK_SRC/.." && pwd)"
# shellcheck source=stack/env.sh
. "$STACK_SRC/env.sh"

STACK_DIR="${STACK_DIR:-$REPO_ROOT/.stack}"
mkdir -p "$STACK_DIR"
STACK_DIR="$(cd "$STACK_DIR" && pwd)"
export STACK_DIR
LIB_DIR="$STACK_DIR/lib"
LOG_DIR="$STACK_DIR/logs"
RUN_DIR="$STACK_DIR/run"

STACK_SERVERS=(kafka registry redis)

JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"

# --- output ---------------------------------------------------------------------

stack_say() { printf 'stack: %s\n' "$*"; }
stack_err() { printf 'stack: ERROR: %s\n' "$*" >&2; }

stack_is_server() {
  local s
  for s in "${STACK_SERVERS[@]}"; do [[ "$1" == "$s" ]] && return 0; done
  return 1
}

# --- ports ------------------------------------------------------------------------

# The port a server is configured for now (from the environment).
stack_port() {
  case "$1" in
    kafka) echo "$KAFKA_PORT" ;;
    registry) echo "$REGISTRY_PORT" ;;
    redis) echo "$REDIS_PORT" ;;
  esac
}

# The port a running server was started on (recorded by up.sh), else the configured one.
stack_started_port() {
  local f="$RUN_DIR/$1.port"
  if [[ -s "$f" ]]; then cat "$f"; else stack_port "$1"; fi
}

stack_port_open() { # port
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# HTTP status code of GET http://127.0.0.1:PORT/PATH (000 when nothing answers).
stack_http_status() { # port path
  timeout 5 bash -c '
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf "GET %s HTTP/1.0\r\nHost: 127.0.0.1:%s\r\nConnection: close\r\n\r\n" "$2" "$1" >&3
    IFS=" " read -r _ code _ <&3 && printf "%s" "$code"
  ' _ "$1" "$2" 2>/dev/null || printf '000'
}

# --- processes --------------------------------------------------------------------

stack_pid() { # server -> pid of our running process, or nothing (status 1)
  local f="$RUN_DIR/$1.pid" pid cmd
  [[ -s "$f" ]] || return 1
  pid="$(cat "$f")"
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  # guard against a recycled pid: the process must be the one we started
  cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)"
  case "$1" in
    redis) [[ "$cmd" == redis-server* || "$cmd" == */redis-server* ]] || return 1 ;;
    *) [[ "$cmd" == *"-Dlocal.stack.server=$1 "* && "$cmd" == *"-Dlocal.stack.dir=$STACK_DIR "* ]] || return 1 ;;
  esac
  echo "$pid"
}

stack_running() { stack_pid "$1" >/dev/null; }

# Liveness of the process up.sh just launched (its pid file only): right after the
# fork its command line is still the launching shell's, so stack_pid can't be used.
stack_alive() {
  local pid
  pid="$(cat "$RUN_DIR/$1.pid" 2>/dev/null)" && [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null
}

# Stop one server: SIGTERM, wait, then SIGKILL. Idempotent.
stack_stop() { # server [timeout_s]
  local s="$1" timeout="${2:-30}" pid i
  if ! pid="$(stack_pid "$s")"; then
    rm -f "$RUN_DIR/$s.pid" "$RUN_DIR/$s.port"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < timeout * 5; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    stack_say "$s (pid $pid) did not stop within ${timeout}s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 25; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  fi
  rm -f "$RUN_DIR/$s.pid" "$RUN_DIR/$s.port"
  stack_say "$s stopped (pid $pid)"
}
