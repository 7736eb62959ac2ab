#!/usr/bin/env bash
# Start the local service stack: Kafka (KRaft, single node), Apicurio Registry
# (Confluent-compatible API) and Redis. Installs what is missing first (redis-server
# via apt-get, the jars via Maven into $STACK_DIR/lib). Idempotent: servers already
# running are left alone. Waits until each one answers; exits non-zero, naming the
# server and its log, if one does not.
#
# Kafka also listens on KAFKA_SECURE_PORT (9094) with SASL SCRAM-SHA-512 over TLS: a CA,
# the broker's certificate and the SCRAM user's password are generated once into
# $STACK_DIR/secure/ (KAFKA_SECURE_PORT=0: no secured listener).
#
# Environment (defaults): KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (9093), KAFKA_SECURE_PORT (9094),
# REGISTRY_PORT (8081), REDIS_PORT (6379), STACK_DIR (<repo>/.stack),
# STACK_START_TIMEOUT (90 s per server), KAFKA_HEAP_OPTS, REGISTRY_HEAP_OPTS.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

START_TIMEOUT="${STACK_START_TIMEOUT:-90}"
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms128m -Xmx512m}"
REGISTRY_HEAP_OPTS="${REGISTRY_HEAP_OPTS:--Xms64m -Xmx512m}"
# small, quick-starting JVMs: serial GC, C1 only (these serve tests, not load)
JVM_COMMON=(-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xss512k -XX:+ExitOnOutOfMemoryError
  -Djava.awt.headless=true -Dfile.encoding=UTF-8 -Djava.net.preferIPv4Stack=true)

mkdir -p "$LIB_DIR" "$LOG_DIR" "$RUN_DIR"

# --- install ------------------------------------------------------------------------

install_redis() {
  command -v redis-server >/dev/null && command -v redis-cli >/dev/null && return 0
  local log="$LOG_DIR/install-redis.log"
  stack_say "installing redis-server (apt-get; output in $log)"
  if [[ "$(id -u)" != 0 ]]; then
    stack_err "redis-server is not installed and this is not root: run 'apt-get install -y redis-server'"
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -q --no-install-recommends redis-server >"$log" 2>&1; then
    { apt-get update -q && apt-get install -y -q --no-install-recommends redis-server; } >>"$log" 2>&1 || {
      tail -n 20 "$log" >&2
      stack_err "could not install redis-server (log: $log)"
      exit 1
    }
  fi
  # Debian's package may start its own redis on 6379 where services can start; we
  # run our own, so stop that one if it did.
  if command -v service >/dev/null && service redis-server status >/dev/null 2>&1; then
    service redis-server stop >>"$log" 2>&1 || true
  fi
}

install_jars() {
  local stamp="$LIB_DIR/.stamp" want
  want="$(sha256sum "$STACK_SRC/pom.xml" | cut -d' ' -f1)"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]] &&
    compgen -G "$LIB_DIR/kafka/kafka_2.13-*.jar" >/dev/null &&
    compgen -G "$LIB_DIR/registry/apicurio-registry-app-*-runner.jar" >/dev/null; then
    return 0
  fi
  command -v mvn >/dev/null || { stack_err "mvn is not on PATH (needed once, to fetch the jars)"; exit 1; }
  local log="$LOG_DIR/install-jars.log"
  stack_say "fetching Kafka and Apicurio Registry from Maven Central into $LIB_DIR (output in $log)"
  rm -rf "$LIB_DIR/kafka" "$LIB_DIR/registry" "$LIB_DIR/.markers" "$stamp"
  if ! mvn -B -q -f "$STACK_SRC/pom.xml" -Dstack.dir="$STACK_DIR" generate-resources >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    stack_err "Maven could not fetch the stack's jars (log: $log)"
    exit 1
  fi
  echo "$want" >"$stamp"
}

# --- helpers ------------------------------------------------------------------------

# Refuse to start when something that is not ours holds the port.
check_port_free() { # server port
  if stack_port_open "$2"; then
    stack_err "$1: port $2 is already in use by another process (not started by this stack in $STACK_DIR)." \
      "Stop it, or pick other ports (KAFKA_PORT, KAFKA_CONTROLLER_PORT, REGISTRY_PORT, REDIS_PORT)."
    exit 1
  fi
}

rotate_log() { # server -> log path
  local log="$LOG_DIR/$1.log"
  [[ -f "$log" ]] && mv -f "$log" "$log.prev"
  echo "$log"
}

# Start a command detached (own session, no terminal), record pid and port.
launch() { # server port cmd...
  local s="$1" port="$2" log
  shift 2
  log="$(rotate_log "$s")"
  printf '=== %s: starting %s on port %s ===\n' "$(date -Is)" "$s" "$port" >"$log"
  setsid "$@" </dev/null >>"$log" 2>&1 &
  echo $! >"$RUN_DIR/$s.pid"
  echo "$port" >"$RUN_DIR/$s.port"
}

fail_start() { # server message
  local s="$1" log="$LOG_DIR/$1.log"
  if [[ -f "$log" ]]; then
    echo "----- last lines of $log -----" >&2
    tail -n 25 "$log" >&2
    echo "-----" >&2
  fi
  stack_err "$s $2 (log: $log)"
  local pid
  if pid="$(cat "$RUN_DIR/$s.pid" 2>/dev/null)" && stack_alive "$s"; then
    kill -TERM "$pid" 2>/dev/null || true
    sleep 2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$RUN_DIR/$s.pid" "$RUN_DIR/$s.port"
  exit 1
}

# --- servers ------------------------------------------------------------------------

KAFKA_CP="$LIB_DIR/kafka/*"
kafka_java() { # extra args...
  "$JAVA" "${JVM_COMMON[@]}" -Dlog4j2.configurationFile="$STACK_SRC/kafka/log4j2.properties" \
    -cp "$KAFKA_CP" "$@"
}

SECURE_DIR="$STACK_DIR/secure"
# A private CA, the broker's certificate (localhost, 127.0.0.1) in a PKCS12 keystore, and
# the SCRAM user's password: made once, kept (clients keep trusting ca.crt across restarts);
# remade when a file is missing or the certificate expires within a day.
ensure_secure_material() {
  local d="$SECURE_DIR" log="$LOG_DIR/secure-material.log"
  if [[ -s $d/ca.crt && -s $d/broker.p12 && -s $d/keystore-password && -s $d/kafka-password ]] &&
    openssl x509 -checkend 86400 -noout -in "$d/broker.crt" >/dev/null 2>&1; then
    return 0
  fi
  command -v openssl >/dev/null || { stack_err "openssl is not on PATH (needed once, for the secured Kafka listener; KAFKA_SECURE_PORT=0 skips it)"; exit 1; }
  rm -rf "$d"
  mkdir -p "$d"
  chmod 700 "$d"
  (
    cd "$d"
    set -e
    openssl rand -hex 16 >keystore-password
    [[ -s kafka-password ]] || openssl rand -hex 16 >kafka-password
    openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj "/CN=forecast-stream local stack CA" -keyout ca.key -out ca.crt
    openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout broker.key -out broker.csr
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >san.ext
    openssl x509 -req -in broker.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 825 -extfile san.ext -out broker.crt
    openssl pkcs12 -export -in broker.crt -inkey broker.key -certfile ca.crt -name broker \
      -passout "pass:$(cat keystore-password)" -out broker.p12
    chmod 600 ./*
  ) >"$log" 2>&1 || { tail -n 20 "$log" >&2; stack_err "kafka: could not make the TLS material for the secured listener (log: $log)"; exit 1; }
  stack_say "kafka: generated a CA and the broker certificate for the SASL_SSL listener in $d"
}

start_kafka() {
  check_port_free kafka "$KAFKA_PORT"
  check_port_free kafka "$KAFKA_CONTROLLER_PORT"
  local dir="$STACK_DIR/kafka" conf secure_listener=""
  mkdir -p "$dir/data"
  conf="$dir/server.properties"
  if [[ $KAFKA_SECURE_PORT != 0 ]]; then
    check_port_free kafka "$KAFKA_SECURE_PORT"
    ensure_secure_material
    secure_listener=",SASL_SSL://127.0.0.1:$KAFKA_SECURE_PORT"
  fi
  sed -e "s|@KAFKA_PORT@|$KAFKA_PORT|g" -e "s|@KAFKA_CONTROLLER_PORT@|$KAFKA_CONTROLLER_PORT|g" \
    -e "s|@SECURE_LISTENER@|$secure_listener|g" \
    -e "s|@DATA_DIR@|$dir/data|g" "$STACK_SRC/kafka/server.properties" >"$conf"
  if [[ -n $secure_listener ]]; then
    sed -e "s|@SECURE_DIR@|$SECURE_DIR|g" -e "s|@KEYSTORE_PASSWORD@|$(cat "$SECURE_DIR/keystore-password")|g" \
      "$STACK_SRC/kafka/secure.properties" >>"$conf"
  fi
  if [[ ! -f "$dir/data/meta.properties" ]]; then
    local id flog="$LOG_DIR/kafka-format.log"
    if ! id="$(kafka_java -Xmx128m kafka.tools.StorageTool random-uuid 2>"$flog")" || [[ -z "$id" ]]; then
      tail -n 20 "$flog" >&2
      stack_err "kafka: the storage tool failed to make a cluster id (log: $flog)"
      exit 1
    fi
    if ! kafka_java -Xmx128m kafka.tools.StorageTool format --cluster-id "$id" --config "$conf" --ignore-formatted >>"$flog" 2>&1; then
      tail -n 20 "$flog" >&2
      stack_err "kafka: formatting storage failed (log: $flog)"
      exit 1
    fi
    stack_say "kafka: formatted storage in $dir/data (cluster id $id)"
  fi
  # shellcheck disable=SC2086
  launch kafka "$KAFKA_PORT" "$JAVA" -Dlocal.stack.server=kafka -Dlocal.stack.dir="$STACK_DIR" \
    $KAFKA_HEAP_OPTS "${JVM_COMMON[@]}" \
    -Dlog4j2.configurationFile="$STACK_SRC/kafka/log4j2.properties" \
    -Dkafka.logs.dir="$LOG_DIR" \
    -cp "$KAFKA_CP" kafka.Kafka "$conf"
}

wait_kafka() {
  local deadline=$((SECONDS + START_TIMEOUT)) log="$LOG_DIR/kafka.log"
  while :; do
    stack_alive kafka || fail_start kafka "exited during startup"
    if stack_port_open "$KAFKA_PORT" && grep -q 'Kafka Server started' "$log"; then break; fi
    ((SECONDS < deadline)) || fail_start kafka "did not open port $KAFKA_PORT within ${START_TIMEOUT}s"
    sleep 0.3
  done
  # a real protocol round trip: the broker answers ApiVersions and is unfenced
  while :; do
    local out
    out="$(timeout 30 "$JAVA" -Xmx128m "${JVM_COMMON[@]}" \
      -Dlog4j2.configurationFile="$STACK_SRC/kafka/log4j2.properties" -cp "$KAFKA_CP" \
      org.apache.kafka.tools.BrokerApiVersionsCommand --bootstrap-server "127.0.0.1:$KAFKA_PORT" \
      2>/dev/null || true)"
    [[ "$out" == *"isFenced: false"* ]] && break
    stack_alive kafka || fail_start kafka "exited during startup"
    ((SECONDS < deadline)) || fail_start kafka "did not answer an ApiVersions request within ${START_TIMEOUT}s"
    sleep 1
  done
  [[ $KAFKA_SECURE_PORT == 0 ]] || secure_kafka_user
}

# The SCRAM-SHA-512 user of the secured listener (idempotent: re-setting the same password),
# then a round trip through that listener as that user, so "up" means it works.
secure_kafka_user() {
  local log="$LOG_DIR/kafka-secure.log" client="$SECURE_DIR/client.properties"
  if ! kafka_java -Xmx128m kafka.admin.ConfigCommand --bootstrap-server "127.0.0.1:$KAFKA_PORT" --alter \
    --add-config "SCRAM-SHA-512=[password=$(cat "$SECURE_DIR/kafka-password")]" \
    --entity-type users --entity-name "$KAFKA_SASL_USERNAME" >"$log" 2>&1; then
    fail_start kafka "could not create the SCRAM user $KAFKA_SASL_USERNAME (log: $log)"
  fi
  cat >"$client" <<PROPS
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="$KAFKA_SASL_USERNAME" password="$(cat "$SECURE_DIR/kafka-password")";
ssl.truststore.type=PEM
ssl.truststore.location=$SECURE_DIR/ca.crt
PROPS
  chmod 600 "$client"
  local out
  out="$(timeout 30 "$JAVA" -Xmx128m "${JVM_COMMON[@]}" \
    -Dlog4j2.configurationFile="$STACK_SRC/kafka/log4j2.properties" -cp "$KAFKA_CP" \
    org.apache.kafka.tools.BrokerApiVersionsCommand --bootstrap-server "127.0.0.1:$KAFKA_SECURE_PORT" \
    --command-config "$client" 2>>"$log" || true)"
  [[ "$out" == *"isFenced: false"* ]] || fail_start kafka "the SASL_SSL listener on $KAFKA_SECURE_PORT did not answer as $KAFKA_SASL_USERNAME (log: $log)"
}

REGISTRY_PATH=/apis/ccompat/v7
start_registry() {
  check_port_free registry "$REGISTRY_PORT"
  local dir="$STACK_DIR/registry" jar
  mkdir -p "$dir/tmp" "$dir/db"
  jar="$(compgen -G "$LIB_DIR/registry/apicurio-registry-app-*-runner.jar" | head -n1)"
  # storage: H2 in a file under $STACK_DIR/registry/db (Apicurio's default is H2 in
  # memory); persisted like Kafka's log dirs, so schema ids in stored records stay valid
  # across restarts
  # shellcheck disable=SC2086
  (cd "$dir" && launch registry "$REGISTRY_PORT" "$JAVA" -Dlocal.stack.server=registry -Dlocal.stack.dir="$STACK_DIR" \
    $REGISTRY_HEAP_OPTS "${JVM_COMMON[@]}" \
    -Djava.io.tmpdir="$dir/tmp" \
    -Dquarkus.http.host=127.0.0.1 \
    -Dquarkus.http.port="$REGISTRY_PORT" \
    -Dquarkus.http.access-log.enabled=false \
    -Dapicurio.ccompat.use-canonical-hash=true \
    -Dapicurio.rest.deletion.artifact.enabled=true \
    -Dapicurio.rest.deletion.artifact-version.enabled=true \
    -Dapicurio.rest.deletion.group.enabled=true \
    -Dapicurio.datasource.url="jdbc:h2:file:$dir/db/registry" \
    -Dapicurio.datasource.jdbc.initial-size=2 \
    -Dapicurio.datasource.jdbc.min-size=2 \
    -Dapicurio.datasource.jdbc.max-size=20 \
    -Dapicurio.import.work-dir="$dir/tmp" \
    -Dapicurio.storage.snapshot.location="$dir/tmp" \
    -jar "$jar")
}

wait_registry() {
  local deadline=$((SECONDS + START_TIMEOUT)) code
  while :; do
    stack_alive registry || fail_start registry "exited during startup"
    code="$(stack_http_status "$REGISTRY_PORT" "$REGISTRY_PATH/subjects")"
    [[ "$code" == 200 ]] && return 0
    ((SECONDS < deadline)) || fail_start registry "GET $REGISTRY_PATH/subjects did not return 200 within ${START_TIMEOUT}s (last: $code)"
    sleep 0.3
  done
}

start_redis() {
  check_port_free redis "$REDIS_PORT"
  local dir="$STACK_DIR/redis"
  mkdir -p "$dir"
  launch redis "$REDIS_PORT" redis-server --bind 127.0.0.1 --port "$REDIS_PORT" \
    --daemonize no --supervised no --dir "$dir" --logfile "" --loglevel notice \
    --save "" --appendonly no --protected-mode yes --databases 16
}

wait_redis() {
  local deadline=$((SECONDS + START_TIMEOUT))
  while :; do
    stack_alive redis || fail_start redis "exited during startup"
    [[ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" == PONG ]] && return 0
    ((SECONDS < deadline)) || fail_start redis "did not answer PING within ${START_TIMEOUT}s"
    sleep 0.2
  done
}

# --- main ---------------------------------------------------------------------------

t0=$SECONDS
command -v "$JAVA" >/dev/null || { stack_err "java is not on PATH (Java 17+ needed)"; exit 1; }

to_start=()
for s in "${STACK_SERVERS[@]}"; do
  if pid="$(stack_pid "$s")"; then
    stack_say "$s already running (pid $pid, port $(stack_started_port "$s"))"
  else
    rm -f "$RUN_DIR/$s.pid" "$RUN_DIR/$s.port"
    to_start+=("$s")
  fi
done
((${#to_start[@]})) || exit 0

needs() { local s; for s in "${to_start[@]}"; do [[ "$s" == "$1" ]] && return 0; done; return 1; }

# fail fast, before any download, when a port is taken by something else
for s in "${to_start[@]}"; do
  case "$s" in
    kafka) check_port_free kafka "$KAFKA_PORT"; check_port_free kafka "$KAFKA_CONTROLLER_PORT"
      [[ $KAFKA_SECURE_PORT == 0 ]] || check_port_free kafka "$KAFKA_SECURE_PORT" ;;
    *) check_port_free "$s" "$(stack_port "$s")" ;;
  esac
done

needs redis && install_redis
if needs kafka || needs registry; then install_jars; fi

# launch everything first (the JVMs start in parallel), then wait for each
needs registry && start_registry
needs redis && start_redis
needs kafka && start_kafka

for s in "${to_start[@]}"; do
  "wait_$s"
  stack_say "$s up (pid $(stack_pid "$s"), port $(stack_port "$s"))"
done
secure_note=""
[[ $KAFKA_SECURE_PORT == 0 ]] || secure_note=" KAFKA_SECURE_BROKERS=127.0.0.1:$KAFKA_SECURE_PORT (SASL_SSL)"
stack_say "ready in $((SECONDS - t0))s: KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT$secure_note SCHEMA_REGISTRY_URL=http://127.0.0.1:$REGISTRY_PORT$REGISTRY_PATH REDIS_URL=redis://127.0.0.1:$REDIS_PORT"
