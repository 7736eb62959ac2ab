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
import signal
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # outside_common, also once re-executed in the venv
import outside_common as oc  # noqa: E402

oc.ensure_venv(__file__)

from confluent_kafka import Consumer, TopicPartition  # noqa: E402
from confluent_kafka.schema_registry import SchemaRegistryClient  # noqa: E402
from confluent_kafka.schema_registry.avro import AvroDeserializer  # noqa: E402


class TriggerCounter(oc.BeginningReader):
    """Reads forecast-updated from the beginning (a private topic) with one isolation level and
    counts each sales trigger (partition:offset); keeps the first arrival time of each."""

    def __init__(self, name: str, brokers: str, topic: str, sales_topic: str, deser, tag: str, isolation: str | None):
        # isolation None: librdkafka's default (read_committed)
        super().__init__(brokers, f"{tag}-outside-{name}", {topic: deser}, 0.05, None if isolation is None else {"isolation.level": isolation})
        self.name_ = name
        self.topic, self.sales_topic, self.deser = topic, sales_topic, deser
        self.seen: dict = {}  # (partition, offset) -> count
        self.first_at: dict = {}  # (partition, offset) -> time.time() of the first copy
        self.records = 0
        self.bad_keys: list = []
        self.schema_ids: set = set()
        self.keys_seen: set = set()
        self.last_at = 0.0

    def where(self, m) -> str:
        return f"{m.partition()}:{m.offset()}"

    def on_record(self, m, v):
        now = time.time()
        key = m.key().decode() if m.key() is not None else None
        with self.lock:
            self.records += 1
            self.last_at = now
            self.schema_ids.add(oc.schema_id(m.value()))
            self.keys_seen.add(key)
            if key != v["seriesId"]:
                self.bad_keys.append((key, v["seriesId"]))
            for t in v["triggers"]:
                if t["topic"] == self.sales_topic:
                    k = (t["partition"], int(t["offset"]))
                    self.seen[k] = self.seen.get(k, 0) + 1
                    self.first_at.setdefault(k, now)

    def has(self, k) -> bool:
        with self.lock:
            return k in self.seen

    def keys(self) -> list:
        with self.lock:
            return list(self.seen)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    oc.add_stack_args(ap)
    ap.add_argument("--history-weeks", type=int, default=8)
    ap.add_argument("--interval", type=float, default=0.1, help="seconds between rounds of one sale per series")
    ap.add_argument("--min-rounds", type=int, default=20, help="rounds streamed before the kill may happen")
    ap.add_argument("--after-restart", type=float, default=3.0, help="seconds streamed after the restarted processor logged started")
    ap.add_argument("--timeout", type=float, default=90, help="seconds for each wait")
    ap.add_argument("--keep-tmp", action="store_true", help="keep the temporary folder (engines, processor logs)")
    a = ap.parse_args()

    tag, tmp, topics = oc.private_run("fs-eos")
    port = oc.free_port()
    settings = oc.processor_settings(a, tag, topics, tmp, port, {
        # what this run is about (docs/configuration.md)
        "FS_EXACTLY_ONCE": "true", "FS_TRANSACTIONAL_ID": f"{tag}-tx", "FS_TRIGGERS_PER_FORECAST": "100", "FS_KAFKA_SESSION_TIMEOUT_MS": "6000",
    })
    env = oc.child_env(settings)
    out: dict = {"tag": tag, "client": oc.client_versions(), "settings": {k: v for k, v in settings.items() if not k.startswith("FS_TOPIC_")}}

    # 1. topics and schemas, the catalog
    series, ids = oc.setup_and_catalog(oc.make_cli(env), tmp, a.stores, a.items, "EOS", out)

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

    # 3. 8 weeks of history per series
    sales = oc.SalesProducer(registry, a.brokers, topics["SALES"])
    errors: list = []
    on_delivery = lambda err, _m: errors.append(str(err)) if err is not None else None  # noqa: E731
    if sales.history(series, tag, a.history_weeks, on_delivery) != 0:
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
        t0 = time.time()
        proc, log_file = oc.spawn_processor(env, log_path)
        procs.append((proc, log_file, log_path))
        return proc, t0, oc.wait_started(proc, log_path, f"processor {n}", 0.05)

    sent = {"rounds": 0, "events": 0}
    streaming = threading.Event()
    sender = None
    checks: dict = {}
    t: dict = {}
    rc2 = None
    try:
        first, t["start1"], t["started1"] = start(1)

        streaming.set()
        t["stream_start"] = time.time()
        sender = threading.Thread(target=sales.stream, daemon=True, args=(series, streaming, sent, a.interval, lambda r, k: f"eo-{tag}-{r}-{k}",
                                                                           lambda r, k: 1 + (r + k) % 5, on_delivery))
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
        out["metrics"] = oc.metrics_lines(port, r"forecast_stream_(transactions?|epoch|exactly|forecasts_total|commit)", 20)
    finally:
        streaming.clear()
        if sender is not None:
            sender.join(30)
        for n, (proc, log_file, log_path) in enumerate(procs, 1):
            if proc.poll() is None:
                t_term = time.time()
                rc = oc.stop_processor(proc)
                if n == 2:
                    rc2 = rc
                    out["processor_exit"] = {"rc": rc, "seconds": round(time.time() - t_term, 2)}
            log_file.close()
        for n, (_proc, _f, log_path) in enumerate(procs, 1):
            log = log_path.read_text()
            out.setdefault("processor_logs", {})[n] = {
                "logged_stopped": oc.STOPPED in log,
                "warnings_and_errors": oc.logged_messages(log, (40, 50, 60))[:12],
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
    return oc.finish(out, checks, topics, tag, tmp, a.keep_tmp, transactional_id=f"{tag}-tx")


if __name__ == "__main__":
    sys.exit(main())
