#!/usr/bin/env python3
"""A client that is not ours (librdkafka via confluent-kafka, Confluent Avro serdes) against a
real `forecast-stream run` process with the shadow topic on (FS_TOPIC_SHADOW): the new version
v4 of walmart-mlp (v3's graph x 1.03, test/fixtures/lifecycle/) is dropped into the engines folder
while sales stream in, and what it publishes in shadow is read back and checked against what v3
served on forecast-updated for the same series and batch.

Self-contained and re-runnable: it makes its own venv (default /tmp/fs-outside-client-venv,
`pip install "confluent-kafka[avro]"`) on its first run and re-executes itself there; every run
gets private topic names, consumer group and Redis prefix (a random tag), a temporary engines
folder and its own processor process (node dist/cli/main.js run, FS_* settings built here; the
caller's FS_* variables are not passed on). Needs `npm run build` (dist/) and the local stack.

    . stack/env.sh && python3 scripts/outside-client/shadow_topic.py

Steps: `setup` (topics + schemas, the shadow topic included) and `catalog load` (40 series) under
the private names; the processor starts on v3 (policy shadow, FS_SHADOW_SERIES=200, 70-week
window); 60 weeks of history per series (AvroSerializer on the sales topic, key = series id,
partitioner murmur2_random); once every series has a forecast, one sale per series every 250 ms;
v4 copied into the engines folder; forecast-updated and the shadow topic read (AvroDeserializer,
reader schemas = the latest of `<topic>-value`) until v4 is live and has served every series.

Checks (exit status 1 when any fails): shadow records exist; each is modelVersion 4-2012-04-27;
each has a forecast-updated twin (same seriesId and issuedAt) from 3-2012-04-27 whose horizon-1
p50 times 1.03 is the shadow's within 1e-4 (ratio); no forecast-updated record from v4 was issued
before the last shadow record's issuedAt; v4 did go on to serve on forecast-updated (else the
previous check says nothing); every message key (both topics) is the record's seriesId; the shadow
records' schema id is filed under `<shadow topic>-value`; the
processor exits 0 on SIGTERM. The topics, subjects and Redis keys of the run are left behind
(the CLI has no command that deletes topics); the summary names the tag.
"""
import argparse
import shutil
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # outside_common, also once re-executed in the venv
import outside_common as oc  # noqa: E402

oc.ensure_venv(__file__)

from confluent_kafka.schema_registry import SchemaRegistryClient  # noqa: E402
from confluent_kafka.schema_registry.avro import AvroDeserializer  # noqa: E402

V3, V4 = oc.V3, oc.V4


class Reader(oc.BeginningReader):
    """Reads the given topics from their beginning (private topics) into a list, until stopped."""

    def __init__(self, brokers: str, topics: dict, tag: str):
        super().__init__(brokers, f"{tag}-outside-reader", topics, 0.2)
        self.records: list = []

    def on_record(self, m, v):
        rec = {"topic": m.topic(), "partition": m.partition(), "offset": m.offset(), "key": m.key().decode() if m.key() is not None else None,
               "schemaId": oc.schema_id(m.value()), "at": time.time(), "v": v}
        with self.lock:
            self.records.append(rec)

    def snapshot(self, topic: str | None = None) -> list:
        with self.lock:
            return [r for r in self.records if topic is None or r["topic"] == topic]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    oc.add_stack_args(ap)
    ap.add_argument("--history-weeks", type=int, default=60)
    ap.add_argument("--shadow-series", type=int, default=200)
    ap.add_argument("--interval", type=float, default=0.25, help="seconds between rounds of one sale per series")
    ap.add_argument("--timeout", type=float, default=120, help="seconds for each wait")
    ap.add_argument("--keep-tmp", action="store_true", help="keep the temporary folder (engines, processor log)")
    a = ap.parse_args()

    tag, tmp, topics = oc.private_run("fs-shadow", SHADOW="forecast-shadow")
    port = oc.free_port()
    settings = oc.processor_settings(a, tag, topics, tmp, port, {
        "FS_MODEL_WATCH_MS": "300", "FS_ROLLOUT_POLICY": "shadow", "FS_SHADOW_SERIES": str(a.shadow_series), "FS_WINDOW_BUCKETS": "70",
        # as test/integration/model-lifecycle.test.ts: a short canary, latency rule loose enough for a shared machine
        "FS_CANARY_SERIES": "60", "FS_CANARY_PERCENT": "30", "FS_ROLLOUT_LATENCY_RATIO": "10", "FS_DRIFT_WINDOW": "400",
    })
    env = oc.child_env(settings)
    out: dict = {"tag": tag, "client": oc.client_versions(),
                 "settings": {k: v for k, v in settings.items() if not k.startswith("FS_TOPIC_") or k == "FS_TOPIC_SHADOW"}}

    # 1. topics and schemas (the shadow topic and its subject included), the catalog; v3 only for now
    series, ids = oc.setup_and_catalog(oc.make_cli(env), tmp, a.stores, a.items, "OCS", out)

    # 2. the processor, on v3
    registry = SchemaRegistryClient({"url": a.registry})
    readers = {}
    for t in (topics["FORECASTS"], topics["SHADOW"]):
        try:
            latest = registry.get_latest_version(f"{t}-value")
        except Exception as e:  # noqa: BLE001
            raise SystemExit(f"`setup` did not register {t}-value ({e}); a dist/ built before FS_TOPIC_SHADOW existed ignores the setting: npm run build")
        readers[t] = AvroDeserializer(registry, latest.schema.schema_str)
        out.setdefault("subjects", {})[f"{t}-value"] = {"version": latest.version, "id": latest.schema_id}
    reader = Reader(a.brokers, readers, tag)
    reader.start()
    log_path = tmp / "processor.log"
    proc, log_file = oc.spawn_processor(env, log_path)
    checks: dict = {}
    streaming = threading.Event()
    sender = None
    try:
        oc.wait_started(proc, log_path)
        status = lambda: oc.http_json(f"http://127.0.0.1:{port}/status")  # noqa: E731
        out["started_on"] = status()["lifecycle"]["live"]["version"]

        # 3. 60 weeks of history per series
        sales = oc.SalesProducer(registry, a.brokers, topics["SALES"])
        errors: list = []
        on_delivery = lambda err, _m: errors.append(str(err)) if err is not None else None  # noqa: E731
        before = reader.snapshot(topics["FORECASTS"])
        last_hist: dict = {}  # series id -> (partition, offset) of its newest history sale

        def on_hist(err, m):
            if err is not None:
                errors.append(str(err))
            else:
                last_hist[m.key().decode()] = max(last_hist.get(m.key().decode(), (-1, -1)), (m.partition(), m.offset()))

        sales.history(series, tag, a.history_weeks, on_hist)
        t_hist = time.time()
        deadline = t_hist + a.timeout

        def history_done() -> set:
            done = set()
            for r in reader.snapshot(topics["FORECASTS"]):
                want = last_hist.get(r["key"])
                if want and any(t["topic"] == topics["SALES"] and (t["partition"], int(t["offset"])) == want for t in r["v"]["triggers"]):
                    done.add(r["key"])
            return done

        while history_done() < ids:
            if time.time() > deadline:
                raise SystemExit(f"not every series got a forecast of its whole history in {a.timeout} s ({len(history_done())} of {len(ids)})")
            time.sleep(0.2)
        out["history"] = {"events": a.history_weeks * len(series), "forecasts_before_history": len(before),
                          "their_sources": sorted({f"{r['v']['source']}/coldStart={r['v'].get('coldStart')}" for r in before}),
                          "seconds_to_every_series_forecast_of_its_last_history_sale": round(time.time() - t_hist, 2)}
        # quiet: no new forecast for 1.5 s
        n, quiet = -1, time.time()
        while time.time() - quiet < 1.5:
            m = len(reader.snapshot(topics["FORECASTS"]))
            if m != n:
                n, quiet = m, time.time()
            time.sleep(0.1)
        out["history"]["forecasts"] = n

        # 4. the steady stream, as the lifecycle test: one sale per series every 250 ms
        sent = {"rounds": 0, "events": 0}
        streaming.set()
        sender = threading.Thread(target=sales.stream, daemon=True, args=(series, streaming, sent, a.interval, lambda r, k: f"{tag}-{r}-{k}",
                                                                           lambda r, k: 5 + (r + k) % 9, on_delivery))
        sender.start()
        time.sleep(3)  # v3 serves the stream for a while first

        # v4 dropped into the engines folder as a deployment would copy it
        t_drop = time.time()
        shutil.copytree(oc.FIXTURES / V4, tmp / "engines/walmart-mlp" / V4)
        phases, last = [], None
        deadline = t_drop + a.timeout
        while True:
            lc = status()["lifecycle"]
            cur = (lc["live"]["version"], (lc.get("candidate") or {}).get("version"), (lc.get("candidate") or {}).get("phase"))
            if cur != last:
                phases.append({"after_drop_s": round(time.time() - t_drop, 2), "live": cur[0], "candidate": cur[1], "phase": cur[2]})
                last = cur
            if lc["live"]["version"] == V4 or any(r["version"] == V4 for r in lc.get("rejected", [])) or time.time() > deadline:
                break
            time.sleep(0.1)
        out["lifecycle"] = {"phases": phases, "rejected": lc.get("rejected", []), "timeline": [e for e in lc.get("timeline", []) if e.get("version") == V4]}
        # v4 live: let it serve every series once, then stop the stream and let the last forecasts land
        deadline = time.time() + 30
        while time.time() < deadline and not ids <= {r["key"] for r in reader.snapshot(topics["FORECASTS"]) if r["v"]["modelVersion"] == V4}:
            time.sleep(0.2)
        streaming.clear()
        sender.join(30)
        n, quiet = -1, time.time()
        while time.time() - quiet < 2:
            m = len(reader.snapshot())
            if m != n:
                n, quiet = m, time.time()
            time.sleep(0.1)
        out["sent"] = {**sent, "delivery_errors": errors[:5], "delivery_error_count": len(errors)}
        out["shadow_metric"] = oc.metrics_lines(port, "forecast_stream_shadow_forecasts_total")
    finally:
        streaming.clear()
        if sender is not None:
            sender.join(30)
        # stop the processor cleanly
        t_term = time.time()
        rc = oc.stop_processor(proc)
        log_file.close()
        reader.stop_flag.set()
        reader.join(10)
        log = log_path.read_text()
        out["processor_exit"] = {"rc": rc, "seconds": round(time.time() - t_term, 2), "logged_stopped": oc.STOPPED in log,
                                 "warnings": oc.logged_messages(log, (40, 50))[:10]}
        checks["processor exits 0 on SIGTERM"] = rc == 0


    # 5. the checks
    fc = reader.snapshot(topics["FORECASTS"])
    sh = reader.snapshot(topics["SHADOW"])
    live_by = {}
    for r in fc:
        live_by.setdefault((r["v"]["seriesId"], r["v"]["issuedAt"]), []).append(r)
    ratios, unmatched, not_v3, zero, same_origin, same_triggers = [], [], 0, 0, 0, 0
    for r in sh:
        twins = live_by.get((r["v"]["seriesId"], r["v"]["issuedAt"]), [])
        twin = next((t for t in twins if t["v"]["modelVersion"] == V3), None)
        if twin is None:
            unmatched.append({"seriesId": r["v"]["seriesId"], "issuedAt": r["v"]["issuedAt"], "twins": [t["v"]["modelVersion"] for t in twins]})
            not_v3 += bool(twins)
            continue
        lp, sp = twin["v"]["horizons"][0]["p50"], r["v"]["horizons"][0]["p50"]
        if lp == 0:
            zero += 1
            if sp != 0:
                ratios.append(float("inf"))
        else:
            ratios.append(sp / lp)
        same_origin += twin["v"]["originDate"] == r["v"]["originDate"]
        same_triggers += twin["v"]["triggers"] == r["v"]["triggers"]
    v4_served = [r for r in fc if r["v"]["modelVersion"] == V4]
    last_shadow = max((r["v"]["issuedAt"] for r in sh), default=None)
    first_v4 = min((r["v"]["issuedAt"] for r in v4_served), default=None)
    bad_keys = [(r["topic"], r["key"], r["v"]["seriesId"]) for r in fc + sh if r["key"] != r["v"]["seriesId"]]
    off = [x for x in ratios if abs(x - 1.03) > 1e-4]
    checks.update({
        "shadow records exist": len(sh) > 0,
        "every shadow record is modelVersion 4-2012-04-27": len(sh) > 0 and all(r["v"]["modelVersion"] == V4 for r in sh),
        "every shadow record has a v3 forecast-updated twin (seriesId + issuedAt)": len(sh) > 0 and not unmatched,
        "horizon-1 p50 shadow/live = 1.03 within 1e-4": len(ratios) > 0 and not off,
        "no v4 forecast-updated record issued before the last shadow record": last_shadow is not None and (first_v4 is None or first_v4 > last_shadow),
        "v4 went on to serve on forecast-updated (the ordering check is not empty)": first_v4 is not None,
        "every key is the record's seriesId (both topics)": not bad_keys,
    })
    out["counts"] = {
        "forecast_updated_records": len(fc), "forecast_updated_by_version": {v: sum(r["v"]["modelVersion"] == v for r in fc) for v in sorted({r["v"]["modelVersion"] for r in fc})},
        "shadow_records": len(sh), "shadow_by_version": {v: sum(r["v"]["modelVersion"] == v for r in sh) for v in sorted({r["v"]["modelVersion"] for r in sh})},
        "shadow_series": len({r["v"]["seriesId"] for r in sh}), "shadow_batches": len({r["v"]["issuedAt"] for r in sh}),
        "shadow_with_v3_twin": len(sh) - len(unmatched), "unmatched": unmatched[:5], "unmatched_with_other_version_twin": not_v3, "live_p50_zero": zero,
        "same_originDate": same_origin, "same_triggers": same_triggers,
        "shadow_sources": sorted({r["v"]["source"] for r in sh}), "shadow_schema_ids": sorted({r["schemaId"] for r in sh}),
        "forecast_schema_ids": sorted({r["schemaId"] for r in fc}), "bad_keys": bad_keys[:5], "read_errors": reader.errors[:5],
    }
    # the registry files one id under every subject with the same schema text: say whether the shadow subject is one
    out["shadow_schema_subjects"] = {}
    for i in out["counts"]["shadow_schema_ids"]:
        subs = [x["subject"] for x in oc.http_json(f"{a.registry}/schemas/ids/{i}/versions")]
        out["shadow_schema_subjects"][i] = {"subjects_sharing_the_id": len(subs), "includes": [x for x in subs if x.startswith(tag)]}
    checks["the shadow records' schema id is filed under <shadow topic>-value"] = bool(sh) and all(
        f"{topics['SHADOW']}-value" in v["includes"] for v in out["shadow_schema_subjects"].values())
    if ratios:
        out["ratio_h1_p50"] = {"n": len(ratios), "min": min(ratios), "max": max(ratios), "off_by_more_than_1e-4": len(off)}
    all_h = [r["v"]["horizons"][k]["p50"] / t["v"]["horizons"][k]["p50"] for r in sh for t in live_by.get((r["v"]["seriesId"], r["v"]["issuedAt"]), [])
             if t["v"]["modelVersion"] == V3 for k in range(len(r["v"]["horizons"])) if t["v"]["horizons"][k]["p50"]]
    if all_h:
        out["ratio_all_horizons_p50"] = {"n": len(all_h), "min": min(all_h), "max": max(all_h)}
    if sh:
        first = min(sh, key=lambda r: r["at"])
        out["timing"] = {"drop_to_first_shadow_record_received_s": round(first["at"] - t_drop, 3),
                         "drop_to_first_shadow_issuedAt_s": round(min(r["v"]["issuedAt"] for r in sh) / 1000 - t_drop, 3),
                         "shadow_span_s": round((last_shadow - min(r["v"]["issuedAt"] for r in sh)) / 1000, 3),
                         "last_shadow_issuedAt_to_first_v4_served_s": round((first_v4 - last_shadow) / 1000, 3) if first_v4 else None}
    return oc.finish(out, checks, topics, tag, tmp, a.keep_tmp)


if __name__ == "__main__":
    sys.exit(main())
