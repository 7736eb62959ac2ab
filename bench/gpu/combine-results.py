#!/usr/bin/env python3
"""Combine the outputs of one or more `run-on-device.sh bench` calls into one results file pair.

    combine-results.py OUT_BASE [--note TEXT] DIR [DIR ...]
      e.g. combine-results.py bench/results/gpu-h100-trained-2026-11-27 /tmp/o1 /tmp/o2

Each DIR is a `$OUT` of run-on-device.sh (gpu-trained*.json/.md from bench.mjs,
gpu-processor-path*.json/.md from processor-path.mjs). The first DIR must hold the full run
(trained + stand-ins) and should hold the strict-FP32 run; its trained model is the one the
summary rests on. Later DIRs are reruns; runs of another model version are listed as such.
Writes OUT_BASE.json (every run, unchanged) and OUT_BASE.md (summary + every table).
Only the standard library is needed.
"""
import glob
import json
import os
import sys


def load_dir(d):
    runs = []
    for f in sorted(glob.glob(os.path.join(d, "gpu-trained*.json"))):
        runs.append(("bench", f, json.load(open(f))))
    for f in sorted(glob.glob(os.path.join(d, "gpu-processor-path*.json"))):
        runs.append(("processor-path", f, json.load(open(f))))
    return runs


def trained(r):
    return next((m for m in r["models"] if m["name"] == "trained"), None)


def version(m):
    # desc: "trained production model NAME/VERSION (...)"
    return m["desc"].split("model ", 1)[1].split(" ", 1)[0]


def fmt_rate(x):
    return f"{x / 1e6:.2f}M" if x >= 1e6 else f"{x / 1e3:.0f}k" if x >= 1e3 else f"{x:.0f}"


def main():
    out_base, rest = sys.argv[1], sys.argv[2:]
    note = None
    if rest[:1] == ["--note"]:
        note, rest = rest[1], rest[2:]
    dirs = rest
    all_runs = [(d, kind, f, r) for d in dirs for kind, f, r in load_dir(d)]
    benches = [(d, f, r) for d, kind, f, r in all_runs if kind == "bench" and trained(r)]
    paths = [(d, f, r) for d, kind, f, r in all_runs if kind == "processor-path"]
    main_run = next(r for d, f, r in benches if d == dirs[0] and len(r["models"]) > 1)
    strict = next((r for d, f, r in benches if d == dirs[0] and r.get("tf32Override") == "0"), None)
    tm = trained(main_run)
    ver = version(tm)

    json.dump(
        {
            "about": "bench/gpu/run-on-device.sh bench outputs, combined by bench/gpu/combine-results.py",
            "machine": main_run["machine"],
            "primaryModel": ver,
            "bench": [dict(file=os.path.relpath(f), **r) for d, f, r in benches],
            "processorPath": [dict(file=os.path.relpath(f), **r) for d, f, r in paths],
        },
        open(out_base + ".json", "w"),
        indent=1,
    )

    L = []
    L += [f"# GPU inference, trained production model {ver}: CPU vs CUDA, each run on one machine", ""]
    L += [f"- machine: {main_run['machine']}; node {main_run['node']}, onnxruntime-node {main_run['onnxruntimeNode']}, CUDA provider from the onnxruntime-gpu wheel of the same version"]
    L += [f"- trained rows: {tm['rows']['rows']} real feature rows ({tm['rows']['source']}, {tm['rows']['series']} series x {tm['rows']['origins']} weekly origins, built by bench/gpu/make-trained-rows.ts), tiled for larger batches"]
    L += ["- made by `bench/gpu/prepare-payload.sh` (here), `bench/gpu/run-on-device.sh bench` (GPU machine), `bench/gpu/combine-results.py`; docs/gpu.md has the steps and the reading"]
    if note:
        L += [f"- {note}"]
    L += [""]

    L += ["## Runs", "", "| run | started | model | GEMMs | crossover vs CPU 16 thr / 1 thr | max rel. L2 | max per-row rel. L2 | all checks pass |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for d, f, r in benches:
        m = trained(r)
        checks = [c for p in m["points"] for c in p["check"].values()]
        L.append(
            f"| {os.path.basename(f)} ({os.path.basename(d.rstrip('/'))}) | {r['date'][:19]}Z | {version(m)} | "
            f"{'strict FP32' if r.get('tf32Override') == '0' else 'TF32 (default)'} | "
            f"{m['crossover'].get('cuda_vs_cpu')} / {m['crossover'].get('cuda_vs_cpu1')} | "
            f"{max(c['relL2'] for c in checks):.1e} | {max(c['maxRowRelL2'] for c in checks):.1e} | {r['allChecksPass']} |"
        )
    L += ["", "| processor-path run | started | model | provider (GPU config) | batches < gpuMinBatch bit-identical | max rel. L2 (batches >= gpuMinBatch) | max per-row rel. L2 | all checks pass |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for d, f, r in paths:
        big = [c for c in r["checks"] if not c["identical"] or c["batch"] >= r["config"]["gpu"]["gpuMinBatch"]]
        small = [c for c in r["checks"] if c["batch"] < r["config"]["gpu"]["gpuMinBatch"]]
        L.append(
            f"| {os.path.basename(d.rstrip('/'))} | {r['date'][:19]}Z | {r['models']['gpu']['name']}/{r['models']['gpu']['version']} | "
            f"{r['models']['gpu']['provider']} ({r['models']['gpu']['precision']}) | {all(c['identical'] for c in small)} | "
            f"{max(c['relL2'] for c in big):.1e} | {max(c['maxRowRelL2'] for c in big):.1e} | {r['allChecksPass']} |"
        )

    # Summary table of the primary run: trained model, CPU vs CUDA (TF32), strict FP32 beside it.
    L += ["", f"## Trained model {ver}: CPU vs CUDA, same machine, same process", ""]
    L += ["µs/row = median run time / batch; rows/s = batch / median run time; host input in, host output out (copies to and from the GPU counted).", ""]
    sm = trained(strict) if strict else None
    sp = {p["batch"]: p for p in sm["points"]} if sm else {}
    head = ["batch", "CPU 16 thr µs/row (rows/s)", "CPU 1 thr µs/row (rows/s)", "CUDA TF32 µs/row (rows/s)", "CUDA ms/call"]
    if sm:
        head.append("CUDA strict FP32 µs/row")
    head += ["speed-up vs 16 thr / 1 thr", "rel. L2 (TF32)"]
    L += ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for p in tm["points"]:
        R = p["results"]
        cell = lambda k: f"{R[k]['usPerRow']:.3g} ({fmt_rate(R[k]['rowsPerS'])})" if k in R else "–"
        row = [str(p["batch"]), cell("cpu"), cell("cpu1"), cell("cuda"), f"{R['cuda']['medianS'] * 1e3:.3f}"]
        if sm:
            row.append(f"{sp[p['batch']]['results']['cuda']['usPerRow']:.3g}" if p["batch"] in sp else "–")
        s1 = f"{R['cpu1']['usPerRow'] / R['cuda']['usPerRow']:.1f}×" if "cpu1" in R else "–"
        row += [f"{R['cpu']['usPerRow'] / R['cuda']['usPerRow']:.1f}× / {s1}", f"{p['check']['cuda']['relL2']:.1e}"]
        L.append("| " + " | ".join(row) + " |")
    L += ["", f"Crossover (smallest batch from which CUDA is faster per row at every larger batch): {tm['crossover']}", ""]

    L += ["## Full tables", ""]
    for d in dirs:
        for f in sorted(glob.glob(os.path.join(d, "gpu-*.md"))):
            L += [f"### {os.path.basename(d.rstrip('/'))}/{os.path.basename(f)}", ""]
            for line in open(f).read().splitlines():
                L.append("#" * 2 + line if line.startswith("#") else line)
            L.append("")
    open(out_base + ".md", "w").write("\n".join(L) + "\n")
    print(f"wrote {out_base}.json and {out_base}.md")


if __name__ == "__main__":
    main()
