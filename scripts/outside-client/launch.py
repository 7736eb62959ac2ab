#!/usr/bin/env python3
"""A client that is not ours (librdkafka via confluent-kafka, Confluent Avro serdes, plain HTTP)
against a running forecast-stream: announce a new item on the catalog topic, wait for its
cold-start forecast on forecast-updated (coldStart true), then ask the what-if endpoint what a
price cut would do to it and to an existing series, and print all of it as JSON.

    pip install "confluent-kafka[avro]"
    python3 scripts/outside-client/launch.py --store CA_3 --item NEW_FOODS_3_777 --dept FOODS_3 \
        --category FOODS --price 2.5 --listed 2014-07-05 --existing CA_3-FOODS_3_090

Exit status 1 when the item gets no cold-start forecast within --timeout seconds, or the
what-if answer is not a 200.
"""
import argparse
import json
import sys
import time
import urllib.request
import uuid
from pathlib import Path

from confluent_kafka import Consumer, Producer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

ROOT = Path(__file__).resolve().parents[2]


def what_if(url: str, body: dict) -> tuple[int, dict]:
    req = urllib.request.Request(f"{url}/v1/what-if", data=json.dumps(body).encode(), headers={"content-type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--brokers", default="127.0.0.1:9092")
    ap.add_argument("--registry", default="http://127.0.0.1:8081/apis/ccompat/v7")
    ap.add_argument("--http", default="http://127.0.0.1:9464", help="the processor's metrics/API port")
    ap.add_argument("--catalog-topic", default="catalog")
    ap.add_argument("--forecast-topic", default="forecast-updated")
    ap.add_argument("--store", required=True)
    ap.add_argument("--item", required=True)
    ap.add_argument("--category", required=True)
    ap.add_argument("--dept")
    ap.add_argument("--price", type=float, required=True, help="regular price")
    ap.add_argument("--listed", required=True, help="listing date YYYY-MM-DD")
    ap.add_argument("--existing", help="an existing series id to ask the same what-if about")
    ap.add_argument("--cut", type=float, default=0.2)
    ap.add_argument("--timeout", type=float, default=30)
    a = ap.parse_args()
    sid = f"{a.store}-{a.item}"
    registry = SchemaRegistryClient({"url": a.registry})
    ser = AvroSerializer(registry, (ROOT / "schemas/catalog.avsc").read_text())
    # no reader schema: read with the writer's, as any consumer that fetches it from the registry would
    deser = AvroDeserializer(registry)

    # watch the forecast topic from its end before announcing
    c = Consumer({"bootstrap.servers": a.brokers, "group.id": f"outside-{uuid.uuid4()}", "auto.offset.reset": "latest", "enable.auto.commit": False})
    c.subscribe([a.forecast_topic])
    deadline = time.time() + 15
    while not c.assignment() and time.time() < deadline:
        c.poll(0.2)
    p = Producer({"bootstrap.servers": a.brokers, "enable.idempotence": True})
    rec = {"store": a.store, "item": a.item, "category": a.category, "department": a.dept, "region": None,
           "regularPrice": a.price, "listedDate": a.listed, "eventTime": int(time.time() * 1000)}
    sent = time.time()
    p.produce(a.catalog_topic, key=sid, value=ser(rec, SerializationContext(a.catalog_topic, MessageField.VALUE)))
    p.flush(10)
    forecast = None
    deadline = time.time() + a.timeout
    while time.time() < deadline and forecast is None:
        m = c.poll(0.5)
        if m is None or m.error():
            continue
        if m.key() and m.key().decode() == sid:
            forecast = deser(m.value(), SerializationContext(a.forecast_topic, MessageField.VALUE))
    c.close()
    out: dict = {"client": "confluent-kafka (librdkafka) + urllib", "listed": rec}
    if forecast is None:
        out["forecast"] = None
        print(json.dumps(out, indent=2))
        return 1
    out["forecast"] = {"seconds_after_listing": round(time.time() - sent, 3), "source": forecast["source"], "coldStart": forecast.get("coldStart"),
                       "originDate": forecast["originDate"], "first_day": forecast["horizons"][0]["bucketDate"],
                       "p50_28_days": round(sum(h["p50"] for h in forecast["horizons"]), 2), "model": f"{forecast['modelName']}/{forecast['modelVersion']}"}
    first = forecast["horizons"][0]["bucketDate"]
    last = forecast["horizons"][13]["bucketDate"]
    ids = [sid] + ([a.existing] if a.existing else [])
    status, answer = what_if(a.http, {"series": ids, "priceCut": {"depth": a.cut, "from": first, "to": last}})
    out["what_if"] = {"status": status, "question": f"{round(a.cut * 100)}% off {first}..{last}"}
    if status == 200:
        out["what_if"]["series"] = [{"series": s["seriesId"], "source": s["source"]["scenario"],
                                     "p50_14_days_before": round(sum(h["p50"] for h in s["baseline"][:14]), 2),
                                     "p50_14_days_after": round(sum(h["p50"] for h in s["scenario"][:14]), 2)} for s in answer["series"]]
        out["what_if"]["elapsedMs"] = answer["elapsedMs"]
    else:
        out["what_if"]["error"] = answer.get("error")
    print(json.dumps(out, indent=2))
    return 0 if status == 200 and forecast.get("coldStart") else 1


if __name__ == "__main__":
    sys.exit(main())
