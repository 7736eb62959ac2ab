#!/usr/bin/env bash
# Optional stack profile: a local Redis Cluster of three masters (no replicas) on loopback,
# for the state store on a cluster (FS_REDIS_CLUSTER=true FS_REDIS_URL=redis://127.0.0.1:7001).
#   bash stack/redis-cluster.sh up | down | status
# Environment: REDIS_CLUSTER_PORTS ("7001 7002 7003"), STACK_DIR (<repo>/.stack). Needs Debian's
# redis-server and redis-cli (stack/up.sh installs them). Data lives in memory only. Idempotent:
# "up" on a running cluster only checks it; "down" stops the three servers and forgets the cluster.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

read -r -a ports <<<"${REDIS_CLUSTER_PORTS:-7001 7002 7003}"
dir="$STACK_DIR/redis-cluster"
mkdir -p "$dir"

node_up() { [[ "$(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" == PONG ]]; }
cluster_ok() { redis-cli -h 127.0.0.1 -p "${ports[0]}" cluster info 2>/dev/null | grep -q '^cluster_state:ok'; }

up() {
  command -v redis-server >/dev/null && command -v redis-cli >/dev/null || { stack_err "redis-server / redis-cli missing: run bash stack/up.sh (installs them) or apt-get install -y redis-server"; exit 1; }
  local t0=$SECONDS p
  for p in "${ports[@]}"; do
    node_up "$p" && continue
    check_free "$p"
    rm -f "$dir/nodes-$p.conf"
    redis-server --bind 127.0.0.1 --port "$p" --cluster-enabled yes --cluster-config-file "$dir/nodes-$p.conf" \
      --cluster-node-timeout 5000 --daemonize yes --pidfile "$dir/redis-$p.pid" --logfile "$dir/redis-$p.log" \
      --dir "$dir" --save "" --appendonly no --protected-mode yes
  done
  local deadline=$((SECONDS + 30))
  for p in "${ports[@]}"; do
    until node_up "$p"; do ((SECONDS < deadline)) || { stack_err "redis on $p did not answer PING (log: $dir/redis-$p.log)"; exit 1; }; sleep 0.1; done
  done
  if ! cluster_ok; then
    local nodes=() keys
    for p in "${ports[@]}"; do nodes+=("127.0.0.1:$p"); done
    keys=$(redis-cli -h 127.0.0.1 -p "${ports[0]}" cluster info | sed -n 's/^cluster_slots_assigned:\([0-9]*\).*/\1/p')
    if [[ "${keys:-0}" == 0 ]]; then
      redis-cli --cluster create "${nodes[@]}" --cluster-replicas 0 --cluster-yes >"$dir/create.log" 2>&1 || { cat "$dir/create.log" >&2; stack_err "redis-cli --cluster create failed"; exit 1; }
    fi
    until cluster_ok; do ((SECONDS < deadline)) || { stack_err "the cluster did not reach cluster_state:ok (redis-cli -p ${ports[0]} cluster info)"; exit 1; }; sleep 0.2; done
  fi
  stack_say "redis cluster up in $((SECONDS - t0))s: FS_REDIS_CLUSTER=true FS_REDIS_URL=redis://127.0.0.1:${ports[0]} (masters: ${ports[*]})"
}

check_free() {
  if stack_port_open "$1"; then stack_err "port $1 is taken by something that is not a Redis answering PING: set REDIS_CLUSTER_PORTS"; exit 1; fi
}

down() {
  local p pid
  for p in "${ports[@]}"; do
    if node_up "$p"; then redis-cli -h 127.0.0.1 -p "$p" shutdown nosave >/dev/null 2>&1 || true; fi
    pid=$(cat "$dir/redis-$p.pid" 2>/dev/null || true)
    local deadline=$((SECONDS + 10))
    while [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; do ((SECONDS < deadline)) || { kill -9 "$pid" 2>/dev/null || true; break; }; sleep 0.1; done
    rm -f "$dir/redis-$p.pid" "$dir/nodes-$p.conf"
  done
  stack_say "redis cluster down"
}

status() {
  if cluster_ok; then stack_say "redis cluster ok (masters: ${ports[*]})"; else stack_say "redis cluster not running"; return 1; fi
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
