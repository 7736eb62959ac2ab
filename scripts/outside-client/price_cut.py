#!/usr/bin/env python3
"""A client that is not ours (librdkafka via confluent-kafka, Confluent Avro serdes) against
a running forecast-stream: read the latest forecasts of some series from forecast-updated,
announce a price cut for them on the prices topic, and print how their p50 moved.

    pip install "confluent-kafka[avro]"
    python3 scripts/outside-client/price_cut.py --store-item CA_3:FOODS_3_090,TX_2:FOODS_3_252 \
        --price 0.75,1.50 --from 2014-07-01 --days 14

Exit status 1 when a series gets no new forecast within --timeout seconds.
"""
import argparse
import datetime as dt
import json
import sys
import time
import uuid
from pathlib import Path

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

ROOT = Path(__file__).resolve().parents[2]


def latest_forecasts(brokers: str, topic: str, deser, series: set[str]) -> dict:
    """Read the whole forecast topic once (keys = series ids): the last record per series."""
    c = Consumer({"bootstrap.servers": brokers, "group.id": f"outside-{uuid.uuid4()}", "enable.auto.commit": False})
    md = c.list_topics(topic, timeout=10)
    parts = [TopicPartition(topic, p, 0) for p in md.topics[topic].partitions]
    ends = {p.partition: c.get_watermark_offsets(p, timeout=10)[1] for p in parts}
    c.assign(parts)
    out, done = {}, {p for p, e in ends.items() if e == 0}
    while len(done) < len(parts):
        m = c.poll(2.0)
        if m is None:
            break
        if m.error():
            continue
        key = m.key().decode() if m.key() else None
        if key in series:
            out[key] = deser(m.value(), SerializationContext(topic, MessageField.VALUE))
        if m.offset() + 1 >= ends[m.partition()]:
            done.add(m.partition())
    c.close()
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--brokers", default="127.0.0.1:9092")
    ap.add_argument("--registry", default="http://127.0.0.1:8081/apis/ccompat/v7")
    ap.add_argument("--prices-topic", default="prices")
    ap.add_argument("--forecast-topic", default="forecast-updated")
    ap.add_argument("--store-item", required=True, help="store:item,... of the series to cut")
    ap.add_argument("--price", required=True, help="the cut price per series, same order")
    ap.add_argument("--regular", help="regular prices, same order (optional)")
    ap.add_argument("--from", dest="start", required=True, help="first day of the cut, YYYY-MM-DD")
    ap.add_argument("--days", type=int, default=14)
    ap.add_argument("--event-time", help="announcement time, ISO (default: the day before --from, 23:30 UTC)")
    ap.add_argument("--timeout", type=float, default=30)
    a = ap.parse_args()
    pairs = [s.split(":") for s in a.store_item.split(",")]
    prices = [float(p) for p in a.price.split(",")]
    regular = [float(p) for p in a.regular.split(",")] if a.regular else [None] * len(pairs)
    ids = {f"{st}-{it}" for st, it in pairs}
    registry = SchemaRegistryClient({"url": a.registry})
    ser = AvroSerializer(registry, (ROOT / "schemas/price.avsc").read_text())
    deser = AvroDeserializer(registry, (ROOT / "schemas/forecast-updated.avsc").read_text())

    before = latest_forecasts(a.brokers, a.forecast_topic, deser, ids)
    missing = ids - before.keys()
    if missing:
        print(f"no forecast yet for {sorted(missing)} on {a.forecast_topic}", file=sys.stderr)
        return 1
    start = dt.date.fromisoformat(a.start)
    ev = dt.datetime.fromisoformat(a.event_time) if a.event_time else dt.datetime.combine(start - dt.timedelta(days=1), dt.time(23, 30), dt.timezone.utc)
    ev_ms = int(ev.replace(tzinfo=ev.tzinfo or dt.timezone.utc).timestamp() * 1000)
    p = Producer({"bootstrap.servers": a.brokers, "enable.idempotence": True})
    run = uuid.uuid4().hex[:8]
    for (st, it), price, reg in zip(pairs, prices, regular):
        for eff, value in ((start, price), (start + dt.timedelta(days=a.days), reg)):
            if value is None:
                continue
            rec = {"eventId": f"outside-{run}-{st}-{it}-{eff}", "store": st, "item": it, "price": value,
                   "regularPrice": reg, "effectiveDate": eff.isoformat(), "eventTime": ev_ms}
            p.produce(a.prices_topic, key=f"{st}-{it}", value=ser(rec, SerializationContext(a.prices_topic, MessageField.VALUE)))
    p.flush(10)
    issued = {k: v["issuedAt"] for k, v in before.items()}
    deadline = time.time() + a.timeout
    after = {}
    while time.time() < deadline:
        now = latest_forecasts(a.brokers, a.forecast_topic, deser, ids)
        after = {k: v for k, v in now.items() if v["issuedAt"] > issued[k]}
        if after.keys() == ids:
            break
        time.sleep(0.5)
    rows = []
    for k in sorted(ids):
        b = before[k]
        f = after.get(k)
        if not f:
            rows.append({"series": k, "moved": None})
            continue
        cut = [h for h in f["horizons"] if a.start <= h["bucketDate"] < (start + dt.timedelta(days=a.days)).isoformat()]
        dates = {h["bucketDate"] for h in cut}
        b_cut = sum(h["p50"] for h in b["horizons"] if h["bucketDate"] in dates)
        a_cut = sum(h["p50"] for h in cut)
        rows.append({"series": k, "days": len(cut), "p50_before": round(b_cut, 2), "p50_after": round(a_cut, 2),
                     "change": round(a_cut / b_cut - 1, 4) if b_cut > 0 else None, "source": f["source"], "model": f"{f['modelName']}/{f['modelVersion']}"})
    print(json.dumps({"client": "confluent-kafka (librdkafka)", "rows": rows}, indent=2))
    return 0 if all(r.get("moved", True) is not None for r in rows) and all("change" in r for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
