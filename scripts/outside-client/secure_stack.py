#!/usr/bin/env python3
"""A client that is not ours (librdkafka via confluent-kafka, Confluent Avro serdes, plain HTTP)
against a forecast-stream that runs on authenticated connections: Kafka SASL (SCRAM-SHA-512 by
default) over TLS, and a schema registry that requires HTTP basic auth.

It checks that the servers refuse what they should (the registry answers 401 without
credentials and with a wrong password; a librdkafka client with a wrong SASL password gets an
authentication error), then writes sales events (schemas/sales.avsc, AvroSerializer with
basic.auth.user.info, keyed by series id) over SASL_SSL: the series' last --history-days days of
units from data/m5-sample (shifted to end yesterday), then one live sale per series. It reads
forecast-updated over SASL_SSL (AvroDeserializer, the writer's schema fetched from the
authenticated registry) until each series has a forecast whose triggers name its live sale's
offset, and prints a JSON summary. librdkafka's default partitioner is not Java's: with
--partitioner murmur2_random the sales land on the partitions that the processor's own (kafkajs)
producers and Java clients pick for the same keys; the summary shows both.

    pip install "confluent-kafka[avro]"
    . stack/env.sh
    python3 scripts/outside-client/secure_stack.py --brokers "$KAFKA_SECURE_BROKERS" \
        --username "$KAFKA_SASL_USERNAME" --password-file "$KAFKA_SASL_PASSWORD_FILE" \
        --ca-file "$KAFKA_TLS_CA_FILE" --registry http://127.0.0.1:18081/apis/ccompat/v7 \
        --registry-user fs-registry --registry-password-file /tmp/registry-password \
        --store-item CA_1:FOODS_3_219,TX_2:FOODS_3_383 --sales-topic sales --forecast-topic forecast-updated

Exit status 1 when a check fails: the registry lets an anonymous or wrong-password call in, the
broker accepts a wrong password, or a series gets no forecast for its live sale within --timeout
seconds.
"""
import argparse
import base64
import csv
import datetime as dt
import gzip
import json
import logging
import os
import struct
import sys
import time
import urllib.error
import urllib.request
import uuid
from importlib import metadata
from pathlib import Path

import confluent_kafka
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

ROOT = Path(__file__).resolve().parents[2]
DAY = dt.timedelta(days=1)


def http_get(url: str, auth: str | None = None) -> tuple[int, object]:
    headers = {"accept": "application/json"}
    if auth is not None:
        headers["authorization"] = "Basic " + base64.b64encode(auth.encode()).decode()
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, None


def kafka_conf(a, password: str, **extra) -> dict:
    return {"bootstrap.servers": a.brokers, "security.protocol": "SASL_SSL", "sasl.mechanism": a.mechanism,
            "sasl.username": a.username, "sasl.password": password, "ssl.ca.location": a.ca_file, **extra}


def wrong_password(a) -> dict:
    """A librdkafka client with a wrong password: what the broker answers (errors and logs captured)."""
    errors, logs = [], []

    class Logs(logging.Handler):
        def emit(self, record):
            logs.append(record.getMessage())

    log = logging.getLogger("wrong-password")
    log.propagate = False
    log.addHandler(Logs())
    p = Producer(kafka_conf(a, "not-the-" + uuid.uuid4().hex[:6], error_cb=errors.append, logger=log))
    deadline = time.time() + 15
    while time.time() < deadline and not any(e.code() == confluent_kafka.KafkaError._AUTHENTICATION for e in errors):
        p.poll(0.2)
    listed = True
    try:
        p.list_topics(timeout=2)
    except KafkaException:
        listed = False
    auth = [e for e in errors if e.code() == confluent_kafka.KafkaError._AUTHENTICATION]
    first = auth[0] if auth else (errors[0] if errors else None)
    return {"refused": bool(auth) and not listed, "metadata_listed": listed,
            "error_code": first.name() if first else None, "error": first.str() if first else None,
            "log": next((m for m in logs if "SASL" in m), None)}


def history(store: str, item: str, days: int, end: dt.date) -> list[tuple[dt.date, float]]:
    """The series' last `days` days of units in data/m5-sample, shifted so the last is `end`."""
    rows = []
    with gzip.open(ROOT / "data/m5-sample/sales.csv.gz", "rt") as f:
        for r in csv.DictReader(f):
            if r["store"] == store and r["item"] == item:
                rows.append((dt.date.fromisoformat(r["date"]), float(r["sales"])))
    if not rows:
        raise SystemExit(f"{store}:{item} is not in data/m5-sample/sales.csv.gz")
    rows = sorted(rows)[-days:] if days > 0 else []
    if not rows:
        return []
    shift = end - rows[-1][0]
    return [(d + shift, q) for d, q in rows]


def murmur2_partition(key: bytes, partitions: int) -> int:
    """The partition Java's (and kafkajs') default partitioner picks for a key: murmur2."""
    m, h = 0x5BD1E995, (0x9747B28C ^ len(key)) & 0xFFFFFFFF
    for i in range(0, len(key) - len(key) % 4, 4):
        k = (int.from_bytes(key[i:i + 4], "little") * m) & 0xFFFFFFFF
        k = ((k ^ (k >> 24)) * m) & 0xFFFFFFFF
        h = ((h * m) & 0xFFFFFFFF) ^ k
    tail = key[len(key) - len(key) % 4:]
    if len(tail) == 3:
        h ^= tail[2] << 16
    if len(tail) >= 2:
        h ^= tail[1] << 8
    if tail:
        h = ((h ^ tail[0]) * m) & 0xFFFFFFFF
    h = ((h ^ (h >> 13)) * m) & 0xFFFFFFFF
    h ^= h >> 15
    return (h & 0x7FFFFFFF) % partitions


def schema_id(value: bytes) -> int:
    return struct.unpack(">bI", value[:5])[1]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--brokers", default=os.environ.get("KAFKA_SECURE_BROKERS", "127.0.0.1:9094"))
    ap.add_argument("--mechanism", default="SCRAM-SHA-512")
    ap.add_argument("--username", default=os.environ.get("KAFKA_SASL_USERNAME", "forecast-stream"))
    ap.add_argument("--password-file", default=os.environ.get("KAFKA_SASL_PASSWORD_FILE", str(ROOT / ".stack/secure/kafka-password")))
    ap.add_argument("--ca-file", default=os.environ.get("KAFKA_TLS_CA_FILE", str(ROOT / ".stack/secure/ca.crt")))
    ap.add_argument("--registry", required=True, help="Confluent API base of a registry that requires basic auth")
    ap.add_argument("--registry-user", required=True)
    ap.add_argument("--registry-password-file", required=True)
    ap.add_argument("--sales-topic", default="sales")
    ap.add_argument("--forecast-topic", default="forecast-updated")
    ap.add_argument("--store-item", required=True, help="store:item,... of series in data/m5-sample (and in the processor's catalog)")
    ap.add_argument("--partitioner", default="", help="librdkafka's partitioner (default: its own, consistent_random); murmur2_random = Java's and kafkajs'")
    ap.add_argument("--history-days", type=int, default=90, help="days of M5 history sent before the live sale (0: none, for a series already there)")
    ap.add_argument("--timeout", type=float, default=60)
    a = ap.parse_args()
    password = Path(a.password_file).read_text().strip()
    reg_auth = f"{a.registry_user}:{Path(a.registry_password_file).read_text().strip()}"
    pairs = [s.split(":") for s in a.store_item.split(",")]
    ids = {f"{st}-{it}": (st, it) for st, it in pairs}
    out: dict = {"client": {"confluent-kafka": metadata.version("confluent-kafka"), "librdkafka": confluent_kafka.libversion()[0],
                            "fastavro": metadata.version("fastavro")},
                 "kafka": {"brokers": a.brokers, "security.protocol": "SASL_SSL", "sasl.mechanism": a.mechanism, "sasl.username": a.username,
                           "partitioner": a.partitioner or "consistent_random (librdkafka's default)"},
                 "registry": {"url": a.registry, "user": a.registry_user}}
    ok = True

    # the servers demand the credentials
    anon, _ = http_get(f"{a.registry}/subjects")
    wrong, _ = http_get(f"{a.registry}/subjects", f"{a.registry_user}:wrong")
    authed, _ = http_get(f"{a.registry}/subjects", reg_auth)
    out["registry"].update({"anonymous_status": anon, "wrong_password_status": wrong, "authenticated_status": authed})
    ok &= anon == 401 and wrong == 401 and authed == 200
    out["kafka"]["wrong_password"] = wp = wrong_password(a)
    ok &= wp["refused"]

    registry = SchemaRegistryClient({"url": a.registry, "basic.auth.user.info": reg_auth})
    ser = AvroSerializer(registry, (ROOT / "schemas/sales.avsc").read_text())
    # no reader schema: the writer's, fetched from the authenticated registry by id
    deser = AvroDeserializer(registry)

    # read the forecast topic from its current end (offsets taken before anything is sent)
    c = Consumer(kafka_conf(a, password, **{"group.id": f"outside-secure-{uuid.uuid4()}", "enable.auto.commit": False}))
    md = c.list_topics(a.forecast_topic, timeout=10)
    if md.topics[a.forecast_topic].error:
        print(f"{a.forecast_topic}: {md.topics[a.forecast_topic].error}", file=sys.stderr)
        return 1
    parts = [TopicPartition(a.forecast_topic, p, c.get_watermark_offsets(TopicPartition(a.forecast_topic, p), timeout=10)[1])
             for p in md.topics[a.forecast_topic].partitions]
    c.assign(parts)

    delivered: dict = {}

    def on_delivery(err, msg):
        if err is not None:
            delivered.setdefault("errors", []).append(str(err))
        else:
            delivered[(msg.key().decode(), msg.offset())] = (msg.topic(), msg.partition(), msg.offset(), time.time())

    p = Producer(kafka_conf(a, password, **{"enable.idempotence": True}, **({"partitioner": a.partitioner} if a.partitioner else {})))
    sales_parts = len(p.list_topics(a.sales_topic, timeout=10).topics[a.sales_topic].partitions)
    run = uuid.uuid4().hex[:8]
    yesterday = dt.datetime.now(dt.timezone.utc).date() - DAY
    sales_ctx = SerializationContext(a.sales_topic, MessageField.VALUE)
    sent_ids = set()
    n_hist = 0
    for sid, (st, it) in ids.items():
        for d, q in history(st, it, a.history_days, yesterday):
            if q == 0:
                continue
            ms = int(dt.datetime.combine(d, dt.time(12), dt.timezone.utc).timestamp() * 1000)
            value = ser({"eventId": f"outside-{run}-{sid}-{d}", "store": st, "item": it, "eventTime": ms, "quantity": q, "unitPrice": None}, sales_ctx)
            sent_ids.add(schema_id(value))
            p.produce(a.sales_topic, key=sid, value=value, on_delivery=on_delivery)
            n_hist += 1
    p.flush(30)
    time.sleep(1.0)  # let the history be forecast first, so the live sale's forecast is its own
    live = {}
    for sid, (st, it) in ids.items():
        value = ser({"eventId": f"outside-{run}-{sid}-live", "store": st, "item": it, "eventTime": int(time.time() * 1000) - 60_000, "quantity": 3.0, "unitPrice": None}, sales_ctx)
        sent_ids.add(schema_id(value))
        p.produce(a.sales_topic, key=sid, value=value, on_delivery=lambda err, msg, sid=sid: live.__setitem__(sid, (err, msg.partition(), msg.offset(), time.time())))
    p.flush(30)
    out["sent"] = {"topic": a.sales_topic, "history_events": n_hist, "live_events": len(live),
                   "delivery_errors": delivered.get("errors", []) + [str(v[0]) for v in live.values() if v[0] is not None],
                   "schema_ids": sorted(sent_ids)}
    ok &= not out["sent"]["delivery_errors"] and len(live) == len(ids)

    got: dict = {}
    seen = 0
    deadline = time.time() + a.timeout
    fc_ctx = SerializationContext(a.forecast_topic, MessageField.VALUE)
    while time.time() < deadline and got.keys() != ids.keys():
        m = c.poll(0.5)
        if m is None or m.error():
            continue
        seen += 1
        key = m.key().decode() if m.key() else None
        if key not in ids or key in got or live.get(key) is None:
            continue
        f = deser(m.value(), fc_ctx)
        _, part, off, at = live[key]
        if any(t["topic"] == a.sales_topic and t["partition"] == part and int(t["offset"]) == off for t in f["triggers"]):
            got[key] = (f, time.time() - at, schema_id(m.value()), m.partition())
    c.close()

    fc_ids = sorted({g[2] for g in got.values()})
    out["registry"]["subjects"] = http_get(f"{a.registry}/subjects", reg_auth)[1]
    out["registry"]["forecast_schema"] = {i: http_get(f"{a.registry}/schemas/ids/{i}/versions", reg_auth)[1] for i in fc_ids}
    out["registry"]["sales_schema"] = {i: http_get(f"{a.registry}/schemas/ids/{i}/versions", reg_auth)[1] for i in sorted(sent_ids)}
    out["forecasts"] = {"topic": a.forecast_topic, "records_read": seen, "series_sent": len(ids), "series_with_forecast": len(got), "rows": []}
    for sid in sorted(ids):
        if sid not in got:
            out["forecasts"]["rows"].append({"series": sid, "forecast": None})
            continue
        f, latency, sch, part = got[sid]
        out["forecasts"]["rows"].append({
            "series": sid, "key": sid, "latency_s": round(latency, 3), "schema_id": sch,
            "sale_partition": live[sid][1], "sale_partition_murmur2": murmur2_partition(sid.encode(), sales_parts),
            "forecast_partition": part, "forecast_partition_murmur2": murmur2_partition(sid.encode(), len(parts)),
            "source": f["source"], "model": f"{f['modelName']}/{f['modelVersion']}", "coldStart": f.get("coldStart"),
            "originDate": f["originDate"], "bucketSize": f["bucketSize"], "horizons": len(f["horizons"]),
            "p50_first_7": [round(h["p50"], 2) for h in f["horizons"][:7]],
            "featureAgeMs": f["featureAgeMs"], "triggers": len(f["triggers"])})
    lat = sorted(r["latency_s"] for r in out["forecasts"]["rows"] if r.get("latency_s") is not None)
    if lat:
        out["forecasts"]["latency_s"] = {"min": lat[0], "max": lat[-1]}
    ok &= got.keys() == ids.keys()
    out["ok"] = bool(ok)
    print(json.dumps(out, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
