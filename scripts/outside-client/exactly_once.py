#!/usr/bin/env python3
"""A client that is not ours (librdkafka via confluent-kafka, Confluent Avro serdes) against a
real `forecast-stream run` process with FS_EXACTLY_ONCE on: the processor is SIGKILLed while
forecasts sit in an open transaction and restarted with the same transactional id, while Python
streams sales in; two Python consumers read forecast-updated, one read_committed, one
read_uncommitted, and count every sales trigger (partition:offset) they see.

Self-contained and re-runnable: it makes its own venv (default /tmp/fs-outside-client-venv,
`pip install "confluent-kafka[avro]"`) on its first run and re-executes itself there; every run
gets private topic names, consumer group, transactional id and Redis prefix (a random tag), a
temporary engines folder (walmart-mlp 3-2012-04-27 from test/fixtures/lifecycle) and its own
processor processes (node dist/cli/main.js run, FS_* settings built here; the caller's FS_*
variables are not passed on). Needs `npm run build` (dist/) and the local stack.

    . stack/env.sh && python3 scripts/outside-client/exactly_once.py

Steps, as test/integration/exactly-once.test.ts: `setup` and `catalog load` (40 series) under the
private names; the two consumers start on forecast-updated (AvroDeserializer, reader schema = the
latest of `<topic>-value`; isolation.level read_committed, the default, and read_uncommitted); 8
weeks of history per series (AvroSerializer, key = series id, partitioner murmur2_random); the
sales topic's high watermarks are recorded (`from`); the processor starts with FS_EXACTLY_ONCE=true,
FS_TRANSACTIONAL_ID=<tag>-tx, FS_TRIGGERS_PER_FORECAST=100, FS_KAFKA_SESSION_TIMEOUT_MS=6000; one
sale per series every 100 ms; after 20 rounds, as soon as the read_uncommitted consumer holds a
streamed sale the read_committed one does not have, the processor is SIGKILLed and restarted with
the same environment; 3 s of streaming after the restarted one logged "started"; the stream stops,
the high watermarks are recorded again (`to`); wait until the read_committed consumer holds every
sale in [from, to), then 2 s more.

Checks (exit status 1 when any fails): the kill found forecasts in an open transaction; every
streamed sale was delivered (to - from = rounds x series); read_committed: no sale lost, none
twice; read_uncommitted saw some sales twice (the aborted transaction); every record the
read_committed consumer got decodes with the registered schema (AvroDeserializer, no error) and its
wire-format schema id is a version of `<forecast topic>-value`; every key is the record's seriesId
and one of the catalog's ids; the restarted processor exits 0 on SIGTERM. The topics, subjects and
Redis keys of the run are left behind (the CLI has no command that deletes topics); the summary
names the tag.
"""
import argparse
import json
import os
import re
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_VENV = "/tmp/fs-outside-client-venv"


def ensure_venv() -> None:
    """Re-execute under a venv that has confluent-kafka[avro] (created on first use)."""
    try:
        import confluent_kafka  # noqa: F401
        import confluent_kafka.schema_registry.avro  # noqa: F401
        return
    except ImportError:
        pass
    venv = Path(os.environ.get("FS_OUTSIDE_VENV", DEFAULT_VENV))
    py = venv / "bin" / "python"
    if os.environ.get("FS_OUTSIDE_REEXEC") == "1":
        raise SystemExit(f"confluent-kafka[avro] is not importable from {py}")
    if not py.exists():
        print(f"creating {venv} (confluent-kafka[avro] from PyPI)", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(py), "-m", "pip", "install", "-q", "confluent-kafka[avro]"], check=True)
    os.environ["FS_OUTSIDE_REEXEC"] = "1"
    os.execv(str(py), [str(py), str(Path(__file__).resolve()), *sys.argv[1:]])


ensure_venv()

import confluent_kafka  # noqa: E402
from importlib import metadata  # noqa: E402
from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition  # noqa: E402
from confluent_kafka.schema_registry import SchemaRegistryClient  # noqa: E402
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer  # noqa: E402
from confluent_kafka.serialization import MessageField, SerializationContext  # noqa: E402

WEEK_MS = 7 * 86_400_000
V3 = "3-2012-04-27"
FIXTURES = ROOT / "test/fixtures/lifecycle/walmart-mlp"
CLI = ROOT / "dist/cli/main.js"


def series_id(store: str, item: str) -> str:
    """docs/topics.md: <store>-<item>, '%' and '-' inside either escaped."""
    esc = lambda s: s.replace("%", "%25").replace("-", "%2D")  # noqa: E731
    return f"{esc(store)}-{esc(item)}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def schema_id(value: bytes) -> int:
    return struct.unpack(">bI", value[:5])[1]


class TriggerCounter(threading.Thread):
    """Reads forecast-updated from the beginning (a private topic) with one isolation level and
    counts each sales trigger (partition:offset); keeps the first arrival time of each."""

    def __init__(self, name: str, brokers: str, topic: str, sales_topic: str, deser, tag: str, isolation: str | None):
        super().__init__(daemon=True)
        self.name_ = name
        self.topic, self.sales_topic, self.deser = topic, sales_topic, deser
        self.seen: dict = {}  # (partition, offset) -> count
        self.first_at: dict = {}  # (partition, offset) -> time.time() of the first copy
        self.records = 0
        self.bad_keys: list = []
        self.schema_ids: set = set()
        self.keys_seen: set = set()
        self.errors: list = []
        self.last_at = 0.0
        self.lock = threading.Lock()
        self.stop_flag = threading.Event()
        conf = {"bootstrap.servers": brokers, "group.id": f"{tag}-outside-{name}", "enable.auto.commit": False}
        if isolation is not None:  # None: librdkafka's default (read_committed)
            conf["isolation.level"] = isolation
        self.conf = conf
        self.c = Consumer(conf)
        md = self.c.list_topics(topic, timeout=10).topics[topic]
        if md.error:
            raise SystemExit(f"{topic}: {md.error}")
        self.c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in md.partitions])

    def run(self):
        while not self.stop_flag.is_set():
            m = self.c.poll(0.05)
            if m is None:
                continue
            if m.error():
                self.errors.append(str(m.error()))
                continue
            try:
                v = self.deser(m.value(), SerializationContext(m.topic(), MessageField.VALUE))
            except Exception as e:  # a record our client cannot read is a finding, not a crash
                self.errors.append(f"{m.partition()}:{m.offset()}: {e}")
                continue
            now = time.time()
            key = m.key().decode() if m.key() is not None else None
            with self.lock:
                self.records += 1
                self.last_at = now
                self.schema_ids.add(schema_id(m.value()))
                self.keys_seen.add(key)
                if key != v["seriesId"]:
                    self.bad_keys.append((key, v["seriesId"]))
                for t in v["triggers"]:
                    if t["topic"] == self.sales_topic:
                        k = (t["partition"], int(t["offset"]))
                        self.seen[k] = self.seen.get(k, 0) + 1
                        self.first_at.setdefault(k, now)
        self.c.close()

    def has(self, k) -> bool:
        with self.lock:
            return k in self.seen

    def keys(self) -> list:
        with self.lock:
            return list(self.seen)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--brokers", default=os.environ.get("KAFKA_BROKERS", "127.0.0.1:9092"))
    ap.add_argument("--registry", default=os.environ.get("SCHEMA_REGISTRY_URL", "http://127.0.0.1:8081/apis/ccompat/v7"))
    ap.add_argument("--redis", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379"))
    ap.add_argument("--stores", type=int, default=4)
    ap.add_argument("--items", type=int, default=10, help="series = stores x items (default 40)")
    ap.add_argument("--history-weeks", type=int, default=8)
    ap.add_argument("--interval", type=float, default=0.1, help="seconds between rounds of one sale per series")
    ap.add_argument("--min-rounds", type=int, default=20, help="rounds streamed before the kill may happen")
    ap.add_argument("--after-restart", type=float, default=3.0, help="seconds streamed after the restarted processor logged started")
    ap.add_argument("--timeout", type=float, default=90, help="seconds for each wait")
    ap.add_argument("--keep-tmp", action="store_true", help="keep the temporary folder (engines, processor logs)")
    a = ap.parse_args()

    tag = f"oc{secrets.token_hex(4)}"
    tmp = Path(tempfile.mkdtemp(prefix=f"fs-eos-{tag}-"))
    topics = {k: f"{tag}-{v}" for k, v in {"SALES": "sales", "PROMOTIONS": "promotions", "WEATHER": "weather", "PRICES": "prices", "CATALOG": "catalog",
                                           "FORECASTS": "forecast-updated", "ALERTS": "alerts", "DEAD_LETTER": "dead-letter"}.items()}
    port = free_port()
    settings = {
        "FS_KAFKA_BROKERS": a.brokers, "FS_SCHEMA_REGISTRY_URL": a.registry, "FS_REDIS_URL": a.redis,
        **{f"FS_TOPIC_{k}": v for k, v in topics.items()},
        "FS_GROUP_ID": f"{tag}-group", "FS_REDIS_PREFIX": tag, "FS_INPUT_PARTITIONS": "3", "FS_OUTPUT_PARTITIONS": "3",
        "FS_ENGINES_DIR": str(tmp / "engines"), "FS_MODEL": "walmart-mlp",
        # what this run is about (docs/configuration.md)
        "FS_EXACTLY_ONCE": "true", "FS_TRANSACTIONAL_ID": f"{tag}-tx", "FS_TRIGGERS_PER_FORECAST": "100", "FS_KAFKA_SESSION_TIMEOUT_MS": "6000",
        "FS_METRICS_PORT": str(port), "FS_HTTP_HOST": "127.0.0.1", "FS_LOG_LEVEL": "info",
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith("FS_") and k not in ("KAFKA_BROKERS", "SCHEMA_REGISTRY_URL", "REDIS_URL")}
    env.update(settings)
    out: dict = {"tag": tag, "client": {"confluent-kafka": metadata.version("confluent-kafka"), "librdkafka": confluent_kafka.libversion()[0],
                                        "fastavro": metadata.version("fastavro"), "python": sys.version.split()[0]},
                 "settings": {k: v for k, v in settings.items() if not k.startswith("FS_TOPIC_")}}

    def cli(*args: str) -> str:
        r = subprocess.run(["node", str(CLI), *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise SystemExit(f"node dist/cli/main.js {' '.join(args)} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
        return r.stdout.strip()

    # 1. topics and schemas, the catalog (`catalog load` reads the model: it needs the engines folder)
    shutil.copytree(FIXTURES / V3, tmp / "engines/walmart-mlp" / V3)
    out["setup"] = cli("setup").splitlines()[-3:]
    stores = [f"EOS{s}" for s in range(1, a.stores + 1)]
    series = [{"store": st, "item": f"I{i}", "category": "CA" if i <= a.items // 2 else "CB", "region": "R1" if n < len(stores) / 2 else "R2"}
              for n, st in enumerate(stores) for i in range(1, a.items + 1)]
    for s in series:
        s["id"] = series_id(s["store"], s["item"])
    (tmp / "catalog.csv").write_text("store,item,category,region\n" + "".join(f"{s['store']},{s['item']},{s['category']},{s['region']}\n" for s in series))
    out["catalog"] = cli("catalog", "load", str(tmp / "catalog.csv"))
    ids = {s["id"] for s in series}

    # 2. the two consumers on forecast-updated, reader schema = the latest registered version
    registry = SchemaRegistryClient({"url": a.registry})
    subject = f"{topics['FORECASTS']}-value"
    latest = registry.get_latest_version(subject)
    subject_ids = {registry.get_version(subject, v).schema_id for v in registry.get_versions(subject)}
    out["subject"] = {"name": subject, "latest_version": latest.version, "latest_id": latest.schema_id, "ids_of_all_versions": sorted(subject_ids)}
    committed = TriggerCounter("committed", a.brokers, topics["FORECASTS"], topics["SALES"], AvroDeserializer(registry, latest.schema.schema_str), tag, None)
    uncommitted = TriggerCounter("uncommitted", a.brokers, topics["FORECASTS"], topics["SALES"], AvroDeserializer(registry, latest.schema.schema_str), tag,
                                 "read_uncommitted")
    out["isolation"] = {"committed": "not set (librdkafka's default, read_committed)", "uncommitted": "read_uncommitted"}
    committed.start()
    uncommitted.start()

    # 3. 8 weeks of history per series, as test/scenarios/scenario-data.ts salesHistory()
    sales_ser = AvroSerializer(registry, (ROOT / "schemas/sales.avsc").read_text())
    sales_ctx = SerializationContext(topics["SALES"], MessageField.VALUE)
    p = Producer({"bootstrap.servers": a.brokers, "enable.idempotence": True, "partitioner": "murmur2_random", "linger.ms": 5})
    errors: list = []
    on_delivery = lambda err, _m: errors.append(str(err)) if err is not None else None  # noqa: E731
    now = int(time.time() * 1000)
    for w in range(a.history_weeks, 0, -1):
        for k, s in enumerate(series):
            v = {"eventId": f"hist-{tag}-{s['id']}-{w}", "store": s["store"], "item": s["item"], "eventTime": now - w * WEEK_MS,
                 "quantity": float(10 + (k * 7 + w * 3) % 13), "unitPrice": 2.5}
            p.produce(topics["SALES"], key=s["id"], value=sales_ser(v, sales_ctx), on_delivery=on_delivery)
            p.poll(0)
    if p.flush(30) != 0:
        raise SystemExit("history not delivered in 30 s")

    wm = Consumer({"bootstrap.servers": a.brokers, "group.id": f"{tag}-outside-watermarks"})
    sales_parts = sorted(wm.list_topics(topics["SALES"], timeout=10).topics[topics["SALES"]].partitions)
    highs = lambda: {q: wm.get_watermark_offsets(TopicPartition(topics["SALES"], q), timeout=10, cached=False)[1] for q in sales_parts}  # noqa: E731
    frm = highs()
    out["history"] = {"events": a.history_weeks * len(series), "from": frm}

    # 4. the processor, then the stream
    procs: list = []

    def start(n: int):
        log_path = tmp / f"processor-{n}.log"
        log_file = open(log_path, "w")
        t0 = time.time()
        proc = subprocess.Popen(["node", str(CLI), "run"], env=env, cwd=ROOT, stdout=log_file, stderr=subprocess.STDOUT)
        procs.append((proc, log_file, log_path))
        deadline = t0 + 60
        while "forecast-stream processor started" not in log_path.read_text():
            if proc.poll() is not None or time.time() > deadline:
                raise SystemExit(f"processor {n} did not start:\n{log_path.read_text()[-4000:]}")
            time.sleep(0.05)
        return proc, t0, time.time()

    sent = {"rounds": 0, "events": 0}
    streaming = threading.Event()
    sender = None
    checks: dict = {}
    ok = True
    t: dict = {}
    rc2 = None
    try:
        first, t["start1"], t["started1"] = start(1)

        def stream():
            r = 0
            while streaming.is_set():
                r += 1
                ts = int(time.time() * 1000)
                for k, s in enumerate(series):
                    v = {"eventId": f"eo-{tag}-{r}-{k}", "store": s["store"], "item": s["item"], "eventTime": ts - 3_600_000,
                         "quantity": float(1 + (r + k) % 5), "unitPrice": None}
                    p.produce(topics["SALES"], key=s["id"], value=sales_ser(v, sales_ctx), on_delivery=on_delivery)
                p.poll(0)
                sent["rounds"], sent["events"] = r, sent["events"] + len(series)
                time.sleep(a.interval)
            p.flush(30)

        streaming.set()
        t["stream_start"] = time.time()
        sender = threading.Thread(target=stream, daemon=True)
        sender.start()

        # kill it when forecasts are written but their transaction is not committed
        def open_tx() -> list:
            return [k for k in uncommitted.keys() if k[1] >= frm.get(k[0], 0) and not committed.has(k)]

        deadline = time.time() + 60
        while not (sent["rounds"] > a.min_rounds and open_tx()) and time.time() < deadline:
            time.sleep(0.005)
        pending = open_tx()
        checks["the kill found forecasts in an open transaction (read_uncommitted has sales read_committed lacks)"] = bool(pending)
        first.send_signal(signal.SIGKILL)
        t["kill"] = time.time()
        rc1 = first.wait(30)
        kill_round = sent["rounds"]
        at_kill = highs()
        out["kill"] = {"round": kill_round, "after_stream_start_s": round(t["kill"] - t["stream_start"], 2), "rc": rc1,
                       "uncommitted_only_sales_at_kill": len(pending), "sales_high_watermarks": at_kill}

        # the same environment, the same transactional id
        second, t["start2"], t["started2"] = start(2)
        out["restart"] = {"spawn_to_started_s": round(t["started2"] - t["start2"], 2)}
        time.sleep(a.after_restart)
        t["stream_stop"] = time.time()
        streaming.clear()
        sender.join(60)
        to = highs()
        out["sent"] = {**sent, "delivery_error_count": len(errors), "delivery_errors": errors[:5], "to": to}

        # 5. wait for the read_committed consumer to hold every streamed sale, then 2 s more
        expected = [(q, o) for q in sales_parts for o in range(frm[q], to[q])]
        before_kill = {(q, o) for q in sales_parts for o in range(frm[q], at_kill[q])}
        checks["every streamed sale was delivered (to - from = rounds x series)"] = len(expected) == sent["rounds"] * len(series) and not errors
        deadline = time.time() + a.timeout
        while any(not committed.has(k) for k in expected) and time.time() < deadline:
            time.sleep(0.05)
        t["all_committed"] = time.time()
        time.sleep(2)

        with committed.lock:
            c_seen, c_first = dict(committed.seen), dict(committed.first_at)
        with uncommitted.lock:
            u_seen = dict(uncommitted.seen)
        lost = [k for k in expected if k not in c_seen]
        twice = [k for k in expected if c_seen.get(k, 0) > 1]
        u_twice = [k for k in expected if u_seen.get(k, 0) > 1]
        u_lost = [k for k in expected if k not in u_seen]
        hist = [(q, o) for q in sales_parts for o in range(0, frm[q])]
        checks.update({
            "read_committed: no streamed sale lost": not lost,
            "read_committed: no streamed sale twice": not twice,
            "read_uncommitted saw some sales twice (the aborted transaction)": len(u_twice) > 0,
        })
        after_restart = [v for v in c_first.values() if v > t["kill"]]
        pre_kill_arrivals = [c_first[k] for k in before_kill if k in c_first]
        out["counts"] = {
            "streamed_sales": len(expected), "rounds": sent["rounds"], "series": len(series),
            "read_committed": {"lost": len(lost), "twice": len(twice), "records": committed.records, "lost_sample": lost[:5], "twice_sample": twice[:5]},
            "read_uncommitted": {"twice": len(u_twice), "lost": len(u_lost), "records": uncommitted.records,
                                 "max_copies": max(u_seen.values(), default=0)},
            "streamed_sales_before_the_kill": len(before_kill),
            "history_sales_read_committed": {"n": len(hist), "lost": sum(k not in c_seen for k in hist), "twice": sum(c_seen.get(k, 0) > 1 for k in hist)},
            "history_sales_read_uncommitted_twice": sum(u_seen.get(k, 0) > 1 for k in hist),
        }
        out["timing_s"] = {
            "kill_to_restarted_logged_started": round(t["started2"] - t["kill"], 2),
            "kill_to_first_new_sale_for_read_committed": round(min(after_restart) - t["kill"], 2) if after_restart else None,
            "restart_spawn_to_first_new_sale_for_read_committed": round(min(after_restart) - t["start2"], 2) if after_restart else None,
            "restart_spawn_to_read_committed_has_every_pre_kill_sale": round(max(pre_kill_arrivals) - t["start2"], 2) if len(pre_kill_arrivals) == len(before_kill) else None,
            "restart_spawn_to_read_committed_has_every_sale": round(max(c_first[k] for k in expected) - t["start2"], 2) if not lost else None,
            "stream_stop_to_read_committed_has_every_sale": round(max(c_first[k] for k in expected) - t["stream_stop"], 2) if not lost else None,
        }
        # a gap in what read_committed received: the longest pause between arrivals after the kill
        arr = sorted(v for v in c_first.values() if v >= t["kill"] - 1)
        out["timing_s"]["longest_gap_in_read_committed_arrivals_around_the_kill"] = round(max((b - x for x, b in zip(arr, arr[1:])), default=0), 2)
        try:
            out["metrics"] = [line for line in urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode().splitlines()
                              if re.match(r"forecast_stream_(transactions?|epoch|exactly|forecasts_total|commit)", line)][:20]
        except Exception as e:  # noqa: BLE001
            out["metrics"] = str(e)
    finally:
        streaming.clear()
        if sender is not None:
            sender.join(30)
        for n, (proc, log_file, log_path) in enumerate(procs, 1):
            if proc.poll() is None:
                t_term = time.time()
                proc.send_signal(signal.SIGTERM)
                try:
                    rc = proc.wait(60)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    rc = "killed after 60 s"
                if n == 2:
                    rc2 = rc
                    out["processor_exit"] = {"rc": rc, "seconds": round(time.time() - t_term, 2)}
            log_file.close()
        for n, (_proc, _f, log_path) in enumerate(procs, 1):
            log = log_path.read_text()
            out.setdefault("processor_logs", {})[n] = {
                "logged_stopped": "forecast-stream processor stopped" in log,
                "warnings_and_errors": sorted({m for m in re.findall(r'"msg":"([^"]+)"', "\n".join(
                    line for line in log.splitlines() if '"level":40' in line or '"level":50' in line or '"level":60' in line))})[:12],
                "non_json_lines": [line[:200] for line in log.splitlines() if line and not line.startswith("{")][:5]}
        checks["the restarted processor exits 0 on SIGTERM"] = rc2 == 0
        committed.stop_flag.set()
        uncommitted.stop_flag.set()
        committed.join(10)
        uncommitted.join(10)
        wm.close()

    # the records read_committed got: decoded with the registered schema, keys = series ids
    checks["read_committed records decode with the registered schema (no error, schema id of <topic>-value)"] = (
        committed.records > 0 and not committed.errors and committed.schema_ids <= subject_ids)
    checks["read_committed keys are the records' seriesId and catalog ids"] = committed.records > 0 and not committed.bad_keys and committed.keys_seen <= ids
    out["read_committed_records"] = {"schema_ids": sorted(committed.schema_ids), "errors": committed.errors[:5], "bad_keys": committed.bad_keys[:5],
                                     "keys": len(committed.keys_seen), "keys_not_in_catalog": sorted(map(str, committed.keys_seen - ids))[:5]}
    out["read_uncommitted_records"] = {"schema_ids": sorted(uncommitted.schema_ids), "errors": uncommitted.errors[:5], "bad_keys": uncommitted.bad_keys[:5]}
    ok = all(checks.values())
    out["checks"] = checks
    out["ok"] = ok
    out["left_behind"] = {"topics": sorted(topics.values()), "subjects": "<topic>-value for each but dead-letter", "redis_prefix": tag,
                          "transactional_id": f"{tag}-tx", "why": "forecast-stream's CLI has no command that deletes topics"}
    if a.keep_tmp:
        out["tmp"] = str(tmp)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(out, indent=2, default=str))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
