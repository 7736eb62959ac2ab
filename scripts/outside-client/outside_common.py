"""What the outside-client scenarios that run their own processor share (shadow_topic.py,
exactly_once.py): the venv they re-execute in, private topic names and FS_* settings, the CLI's
`setup` and `catalog load`, a sales producer (history and a steady stream), readers of private
topics from their beginning, starting and stopping `node dist/cli/main.js run`, and the summary.

Only the standard library is imported at the top: a script imports this module and calls
ensure_venv(__file__) before confluent-kafka can be imported, so whatever needs confluent-kafka
imports it inside the function that uses it.
"""
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
WEEK_MS = 7 * 86_400_000
V3, V4 = "3-2012-04-27", "4-2012-04-27"
FIXTURES = ROOT / "test/fixtures/lifecycle/walmart-mlp"
CLI = ROOT / "dist/cli/main.js"
STARTED, STOPPED = "forecast-stream processor started", "forecast-stream processor stopped"


def ensure_venv(script: str) -> None:
    """Re-execute `script` under a venv that has confluent-kafka[avro] (created on first use)."""
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
    os.execv(str(py), [str(py), str(Path(script).resolve()), *sys.argv[1:]])


def series_id(store: str, item: str) -> str:
    """docs/topics.md: <store>-<item>, '%' and '-' inside either escaped."""
    esc = lambda s: s.replace("%", "%25").replace("-", "%2D")  # noqa: E731
    return f"{esc(store)}-{esc(item)}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_json(url: str):
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.loads(r.read())


def schema_id(value: bytes) -> int:
    return struct.unpack(">bI", value[:5])[1]


def add_stack_args(ap) -> None:
    """--brokers, --registry, --redis (from stack/env.sh's variables), --stores, --items."""
    ap.add_argument("--brokers", default=os.environ.get("KAFKA_BROKERS", "127.0.0.1:9092"))
    ap.add_argument("--registry", default=os.environ.get("SCHEMA_REGISTRY_URL", "http://127.0.0.1:8081/apis/ccompat/v7"))
    ap.add_argument("--redis", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379"))
    ap.add_argument("--stores", type=int, default=4)
    ap.add_argument("--items", type=int, default=10, help="series = stores x items (default 40)")


def private_run(tmp_prefix: str, **extra_topics: str):
    """A random tag, a temporary folder and the tag's topic names (FS_TOPIC_<KEY> -> name)."""
    tag = f"oc{secrets.token_hex(4)}"
    tmp = Path(tempfile.mkdtemp(prefix=f"{tmp_prefix}-{tag}-"))
    names = {"SALES": "sales", "PROMOTIONS": "promotions", "WEATHER": "weather", "PRICES": "prices", "CATALOG": "catalog",
             "FORECASTS": "forecast-updated", "ALERTS": "alerts", "DEAD_LETTER": "dead-letter", **extra_topics}
    return tag, tmp, {k: f"{tag}-{v}" for k, v in names.items()}


def processor_settings(a, tag: str, topics: dict, tmp: Path, port: int, specific: dict) -> dict:
    """The FS_* settings of a private processor: stack, topics, group, Redis prefix, engines folder,
    walmart-mlp, then the scenario's own settings, then the HTTP port and the log level."""
    return {
        "FS_KAFKA_BROKERS": a.brokers, "FS_SCHEMA_REGISTRY_URL": a.registry, "FS_REDIS_URL": a.redis,
        **{f"FS_TOPIC_{k}": v for k, v in topics.items()},
        "FS_GROUP_ID": f"{tag}-group", "FS_REDIS_PREFIX": tag, "FS_INPUT_PARTITIONS": "3", "FS_OUTPUT_PARTITIONS": "3",
        "FS_ENGINES_DIR": str(tmp / "engines"), "FS_MODEL": "walmart-mlp",
        **specific,
        "FS_METRICS_PORT": str(port), "FS_HTTP_HOST": "127.0.0.1", "FS_LOG_LEVEL": "info",
    }


def child_env(settings: dict) -> dict:
    """This environment without the caller's FS_* and stack variables, plus `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FS_") and k not in ("KAFKA_BROKERS", "SCHEMA_REGISTRY_URL", "REDIS_URL")}
    env.update(settings)
    return env


def client_versions() -> dict:
    import confluent_kafka
    from importlib import metadata
    return {"confluent-kafka": metadata.version("confluent-kafka"), "librdkafka": confluent_kafka.libversion()[0],
            "fastavro": metadata.version("fastavro"), "python": sys.version.split()[0]}


def make_cli(env: dict):
    """cli(*args): `node dist/cli/main.js <args>` under `env`, its stdout; SystemExit when it fails."""
    def cli(*args: str) -> str:
        r = subprocess.run(["node", str(CLI), *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise SystemExit(f"node dist/cli/main.js {' '.join(args)} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
        return r.stdout.strip()
    return cli


def setup_and_catalog(cli, tmp: Path, n_stores: int, n_items: int, store_prefix: str, out: dict):
    """v3 into the engines folder (`catalog load` reads the model: it fails without one), `setup`
    (topics + schemas), then `catalog load` of stores x items series; returns (series, ids)."""
    shutil.copytree(FIXTURES / V3, tmp / "engines/walmart-mlp" / V3)
    out["setup"] = cli("setup").splitlines()[-3:]
    stores = [f"{store_prefix}{s}" for s in range(1, n_stores + 1)]
    series = [{"store": st, "item": f"I{i}", "category": "CA" if i <= n_items // 2 else "CB", "region": "R1" if n < len(stores) / 2 else "R2"}
              for n, st in enumerate(stores) for i in range(1, n_items + 1)]
    for s in series:
        s["id"] = series_id(s["store"], s["item"])
    (tmp / "catalog.csv").write_text("store,item,category,region\n" + "".join(f"{s['store']},{s['item']},{s['category']},{s['region']}\n" for s in series))
    out["catalog"] = cli("catalog", "load", str(tmp / "catalog.csv"))
    return series, {s["id"] for s in series}


class SalesProducer:
    """Sales on the (private) sales topic: AvroSerializer with schemas/sales.avsc, key = series id,
    idempotent, partitioner murmur2_random."""

    def __init__(self, registry, brokers: str, topic: str):
        from confluent_kafka import Producer
        from confluent_kafka.schema_registry.avro import AvroSerializer
        from confluent_kafka.serialization import MessageField, SerializationContext
        self.topic = topic
        self.ser = AvroSerializer(registry, (ROOT / "schemas/sales.avsc").read_text())
        self.ctx = SerializationContext(topic, MessageField.VALUE)
        self.p = Producer({"bootstrap.servers": brokers, "enable.idempotence": True, "partitioner": "murmur2_random", "linger.ms": 5})

    def send(self, s: dict, v: dict, on_delivery) -> None:
        self.p.produce(self.topic, key=s["id"], value=self.ser(v, self.ctx), on_delivery=on_delivery)

    def history(self, series: list, tag: str, weeks: int, on_delivery) -> int:
        """`weeks` weekly sales per series up to a week ago, as test/scenarios/scenario-data.ts
        salesHistory(); returns what flush(30) left undelivered."""
        now = int(time.time() * 1000)
        for w in range(weeks, 0, -1):
            for k, s in enumerate(series):
                self.send(s, {"eventId": f"hist-{tag}-{s['id']}-{w}", "store": s["store"], "item": s["item"], "eventTime": now - w * WEEK_MS,
                              "quantity": float(10 + (k * 7 + w * 3) % 13), "unitPrice": 2.5}, on_delivery)
                self.p.poll(0)
        return self.p.flush(30)

    def stream(self, series: list, running: threading.Event, sent: dict, interval: float, event_id, quantity, on_delivery) -> None:
        """While `running` is set: one sale per series (eventTime an hour back, no unit price) every
        `interval` s, eventId event_id(round, k), quantity quantity(round, k); `sent` counts them."""
        r = 0
        while running.is_set():
            r += 1
            ts = int(time.time() * 1000)
            for k, s in enumerate(series):
                self.send(s, {"eventId": event_id(r, k), "store": s["store"], "item": s["item"], "eventTime": ts - 3_600_000,
                              "quantity": float(quantity(r, k)), "unitPrice": None}, on_delivery)
            self.p.poll(0)
            sent["rounds"], sent["events"] = r, sent["events"] + len(series)
            time.sleep(interval)
        self.p.flush(30)


class BeginningReader(threading.Thread):
    """Reads the given (private) topics from their beginning until stopped, each value decoded with
    its deserializer; a record that does not decode goes to `errors`, the others to on_record()."""

    def __init__(self, brokers: str, group: str, topics: dict, poll_s: float, extra_conf: dict | None = None):
        super().__init__(daemon=True)
        from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
        self.topics = topics  # topic -> AvroDeserializer
        self.poll_s = poll_s
        self.errors: list = []
        self.lock = threading.Lock()
        self.stop_flag = threading.Event()
        self.conf = {"bootstrap.servers": brokers, "group.id": group, "enable.auto.commit": False, **(extra_conf or {})}
        self.c = Consumer(self.conf)
        parts = []
        for t in topics:
            md = self.c.list_topics(t, timeout=10).topics[t]
            if md.error:
                raise SystemExit(f"{t}: {md.error}")
            parts += [TopicPartition(t, p, OFFSET_BEGINNING) for p in md.partitions]
        self.c.assign(parts)

    def where(self, m) -> str:
        return f"{m.topic()}@{m.partition()}:{m.offset()}"

    def on_record(self, m, v) -> None:
        raise NotImplementedError

    def run(self):
        from confluent_kafka.serialization import MessageField, SerializationContext
        while not self.stop_flag.is_set():
            m = self.c.poll(self.poll_s)
            if m is None:
                continue
            if m.error():
                self.errors.append(str(m.error()))
                continue
            try:
                v = self.topics[m.topic()](m.value(), SerializationContext(m.topic(), MessageField.VALUE))
            except Exception as e:  # a record our client cannot read is a finding, not a crash
                self.errors.append(f"{self.where(m)}: {e}")
                continue
            self.on_record(m, v)
        self.c.close()


def spawn_processor(env: dict, log_path: Path):
    """`node dist/cli/main.js run` under `env`, stdout and stderr into log_path; (proc, log file)."""
    log_file = open(log_path, "w")
    return subprocess.Popen(["node", str(CLI), "run"], env=env, cwd=ROOT, stdout=log_file, stderr=subprocess.STDOUT), log_file


def wait_started(proc, log_path: Path, what: str = "processor", poll_s: float = 0.2, timeout: float = 60) -> float:
    """Until the processor logged that it started (SystemExit when it exits or takes over `timeout` s)."""
    deadline = time.time() + timeout
    while STARTED not in log_path.read_text():
        if proc.poll() is not None or time.time() > deadline:
            raise SystemExit(f"{what} did not start:\n{log_path.read_text()[-4000:]}")
        time.sleep(poll_s)
    return time.time()


def stop_processor(proc, timeout: float = 60):
    """SIGTERM, then its exit status (SIGKILL and a note when it takes over `timeout` s)."""
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        return f"killed after {timeout:g} s"


def logged_messages(log: str, levels=(40, 50)) -> list:
    """The distinct "msg" of the log's JSON lines at the given pino levels, sorted."""
    lines = "\n".join(line for line in log.splitlines() if any(f'"level":{n}' in line for n in levels))
    return sorted(set(re.findall(r'"msg":"([^"]+)"', lines)))


def metrics_lines(port: int, pattern: str, most: int | None = None):
    """The processor's /metrics lines that match `pattern` (re.match), or the error as a string."""
    try:
        lines = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode().splitlines()
        return [line for line in lines if re.match(pattern, line)][:most]
    except Exception as e:  # noqa: BLE001
        return str(e)


def finish(out: dict, checks: dict, topics: dict, tag: str, tmp: Path, keep_tmp: bool, **left_behind) -> int:
    """checks, ok and what the run leaves behind into `out`, the temporary folder removed (unless
    kept), `out` printed as JSON; the exit status (1 when a check failed)."""
    ok = all(checks.values())
    out["checks"] = checks
    out["ok"] = ok
    out["left_behind"] = {"topics": sorted(topics.values()), "subjects": "<topic>-value for each but dead-letter", "redis_prefix": tag,
                          **left_behind, "why": "forecast-stream's CLI has no command that deletes topics"}
    if keep_tmp:
        out["tmp"] = str(tmp)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(out, indent=2, default=str))
    return 0 if ok else 1
