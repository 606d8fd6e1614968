#!/usr/bin/env python3
"""Writes a synthetic study folder and what `petlab study report` must find in it, computed here with
numpy and scipy.

    report_study.py --out DIR

DIR/study/         <cell>/seed-<k>/{spec.json,result.json,curve.jsonl} as the trainer writes them: two tasks
                   (glue/sst2 accuracy, glue/cola mcc), full / lora / bitfit, 2-5 seeds, fair and legacy
                   protocols, two train sizes, one diverged run, one failed run (written the way the runner
                   records a crashed worker: no metric, no scores), one started run without a result, a
                   plan.json that lists a cell nobody started, one curve with a torn last line.
DIR/expected.json  summary.csv columns and rows (sorted by task, method_label, train_size, protocol, seed),
                   per group (task x train_size x protocol) and method: n finished, mean, sample std (ddof=1),
                   diverged / failed counts, trainable %, scipy's Welch p-value against `full`; the legacy -
                   fair inflation; the pending folders and the warned-about files.

Method labels carry a comma and quotes on purpose (CSV quoting, HTML escaping).
"""
import argparse
import json
import math
import shutil
from pathlib import Path

import numpy as np
import scipy.stats

SEED = 20240612
STUDY = "synthetic"
BACKBONE_PARAMS = 22_713_216  # all-MiniLM-L6-v2
METHODS = {
    # id: (label, trainable params, learning rate, mean score shift, score sd, seconds, MB)
    "full": ("full", BACKBONE_PARAMS, 2e-5, 0.0, 0.008, 420.0, 1480.0),
    "lora": ("lora r=8, alpha=16", 147_456, 5e-4, -0.006, 0.010, 260.0, 990.0),
    "bitfit": ('bitfit "all biases"', 29_184, 1e-3, -0.04, 0.010, 230.0, 930.0),
}
TASKS = {"glue/sst2": ("accuracy", 0.90), "glue/cola": ("mcc", 0.52)}
# (task, train_size, protocol, {method: seeds}); the legacy protocol picks the best step on the evaluation
# set, so its scores come out higher.
GROUPS = [
    ("glue/sst2", 1000, "fair", {"full": 5, "lora": 5, "bitfit": 4}),
    ("glue/sst2", 1000, "legacy", {"full": 3, "lora": 3, "bitfit": 3}),
    ("glue/sst2", 200, "fair", {"lora": 3, "bitfit": 3}),
    ("glue/cola", None, "fair", {"full": 3, "lora": 4, "bitfit": 3}),
]
DIVERGED = ("glue/sst2", 1000, "fair", "lora", 3)
FAILED = ("glue/cola", None, "fair", "bitfit", 1)
STARTED = ("glue/sst2", 1000, "fair", "bitfit", 3)  # spec.json only: running or interrupted
TORN_CURVE = ("glue/sst2", 200, "fair", "lora", 0)


def cell_id(task, size, protocol, method):
    return f"{task.split('/')[1]}-{method}-{size if size is not None else 'all'}-{protocol}"


def number(v):
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else v


def make_curve(rng, final, steps, metric_scale, diverge_at=None):
    lines = []
    for step in range(50, steps + 1, 50):
        if diverge_at is not None and step > diverge_at:
            lines.append({"step": step, "loss": None, "lr": 5e-4, "dev": None, "elapsed": step * 0.2,
                          "tokens_per_s": 2000.0})
            break
        dev = final * (1 - 0.45 * math.exp(-step / 180)) + rng.normal(0, 0.006 * metric_scale)
        lines.append({"step": step, "loss": round(0.7 * math.exp(-step / 400) + 0.05, 5),
                      "lr": 5e-4 * (1 - step / steps), "dev": {"metric": round(float(dev), 5)},
                      "elapsed": round(step * 0.21, 3), "tokens_per_s": 2050.0})
    return lines


def write_run(root, rng, task, size, protocol, method, seed):
    metric, base = TASKS[task]
    label, params, lr, shift, sd, seconds, mb = METHODS[method]
    cell = cell_id(task, size, protocol, method)
    run_dir = root / cell / f"seed-{seed}"
    run_dir.mkdir(parents=True)
    spec = {"cell": cell, "task": task, "data": f"/data/{task}", "train_size": size, "protocol": protocol,
            "method_label": label, "methods": [{"id": method, "knobs": {}}], "study": STUDY, "seed": seed,
            "backbone": {"model": "/models/all-MiniLM-L6-v2", "dtype": "float32", "max_length": 128},
            "train": {"learning_rate": lr, "batch_size": 32, "max_steps": 1200, "patience": 5}}
    (run_dir / "spec.json").write_text(json.dumps(spec, indent=2))
    key = (task, size, protocol, method, seed)
    if key == STARTED:
        return None
    if key == FAILED:
        result = {"study": STUDY, "cell": cell, "seed": seed, "task": task, "method": method,
                  "method_label": label, "train_size": size, "protocol": protocol, "status": "failed",
                  "error": "the worker was killed by signal 9 (Killed); out of memory?\nstep 40 loss 0.61\nKilled"}
        (run_dir / "result.json").write_text(json.dumps(result, indent=2))
        return result
    inflation = 0.012 if protocol == "legacy" else 0.0
    small = 0.015 if size == 200 else 0.0
    score = round(float(rng.normal(base + shift + inflation - small, sd)), 4)
    dev = round(score + float(rng.normal(0.004, 0.003)), 4)
    diverged = key == DIVERGED
    steps = 1200 if not diverged else 350
    steps_to_best = int(rng.integers(6, 24)) * 50 if not diverged else 300
    wall = round(seconds * float(rng.uniform(0.9, 1.1)) * (steps / 1200), 2)
    rss = round(mb * float(rng.uniform(0.97, 1.03)), 1)
    result = {"study": STUDY, "cell": cell, "seed": seed, "task": task, "metric": metric, "method": method,
              "method_label": label, "knobs": {}, "methods": [{"id": method, "knobs": {}}],
              "train_size": size, "protocol": protocol, "status": "diverged" if diverged else "finished",
              "best_dev": {metric: dev, "loss": 0.3}, "test": None if diverged else {metric: score},
              "trainable_params": params, "percent_trainable": params / BACKBONE_PARAMS * 100,
              "steps": steps, "steps_to_best": steps_to_best, "wall_time_s": wall,
              "tokens_per_s": round(float(rng.uniform(1800, 2200)), 1), "peak_rss_mb": rss,
              "error": "loss became nan at step 350" if diverged else None}
    (run_dir / "result.json").write_text(json.dumps(result, indent=2))
    curve = make_curve(rng, score, steps, 1.0, diverge_at=300 if diverged else None)
    text = "".join(json.dumps(p).replace('"metric"', json.dumps(metric)) + "\n" for p in curve)
    if key == TORN_CURVE:
        text += '{"step": 1250, "loss": 0.0'  # a kill in the middle of a write
    (run_dir / "curve.jsonl").write_text(text)
    return result


def flatten(value, name, out):
    if isinstance(value, dict):
        for k, v in value.items():
            flatten(v, f"{name}.{k}", out)
    elif value is None:
        out[name] = ""
    elif isinstance(value, str):
        out[name] = value
    else:
        out[name] = json.dumps(value)


def summary(results, specs):
    fixed = ["study", "cell", "task", "method", "method_label", "train_size", "protocol", "seed", "status",
             "metric", "dev", "test", "trainable_params", "percent_trainable", "steps", "steps_to_best",
             "wall_time_s", "tokens_per_s", "peak_rss_mb"]
    settings = []
    for r in results:
        flat = {}
        for section in ("backbone", "train"):
            flatten(specs[(r["cell"], r["seed"])][section], section, flat)
        settings.append(flat)
    setting_names = sorted({k for s in settings for k in s})
    rows = []
    for r, flat in zip(results, settings):
        metric = r.get("metric")
        row = {k: r.get(k) for k in fixed}
        row["dev"] = (r.get("best_dev") or {}).get(metric) if metric else None
        row["test"] = (r.get("test") or {}).get(metric) if metric else None
        row["metric"] = metric
        for name in setting_names:
            row[name] = flat.get(name, "")
        rows.append({k: ("" if v is None else v) for k, v in row.items()})
    rows.sort(key=lambda x: (x["task"], x["method_label"], x["train_size"] == "",
                             x["train_size"] if x["train_size"] != "" else 0, x["protocol"], x["seed"], x["cell"]))
    return fixed + setting_names, rows


def group_stats(results):
    groups = []
    for task, size, protocol, methods in GROUPS:
        runs = [r for r in results if (r["task"], r["train_size"], r["protocol"]) == (task, size, protocol)]
        scores = {m: [r["test"][TASKS[task][0]] for r in sorted(runs, key=lambda r: r["seed"])
                      if r["method"] == m and r["status"] == "finished"] for m in methods}
        rows = []
        for m in methods:
            s = scores[m]
            mine = [r for r in runs if r["method"] == m]
            p = None
            if m != "full" and "full" in methods and len(s) >= 2 and len(scores["full"]) >= 2:
                p = float(scipy.stats.ttest_ind(s, scores["full"], equal_var=False).pvalue)
            percents = [r["percent_trainable"] for r in mine if "percent_trainable" in r]
            rows.append({"method": m, "label": METHODS[m][0], "n": len(s),
                         "mean": float(np.mean(s)) if s else None,
                         "std": float(np.std(s, ddof=1)) if len(s) > 1 else None,
                         "diverged": sum(r["status"] == "diverged" for r in mine),
                         "failed": sum(r["status"] == "failed" for r in mine),
                         "percent_trainable": float(np.mean(percents)) if percents else None,
                         "p": p, "baseline": m == "full"})
        groups.append({"task": task, "train_size": size, "protocol": protocol, "metric": TASKS[task][0],
                       "rows": rows})
    return groups


def inflation(groups):
    out = []
    for g in groups:
        if g["protocol"] != "legacy":
            continue
        fair = next(f for f in groups if (f["task"], f["train_size"], f["protocol"]) == (g["task"], g["train_size"], "fair"))
        for row in g["rows"]:
            twin = next((r for r in fair["rows"] if r["label"] == row["label"]), None)
            if twin and twin["n"] and row["n"]:
                out.append({"task": g["task"], "train_size": g["train_size"], "label": row["label"],
                            "fair": twin["mean"], "legacy": row["mean"], "inflation": row["mean"] - twin["mean"]})
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args()
    root = args.out / "study"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    rng = np.random.default_rng(SEED)
    results, specs, plan_cells = [], {}, []
    for task, size, protocol, methods in GROUPS:
        for method, seeds in methods.items():
            plan_cells.append({"cell": cell_id(task, size, protocol, method), "task": task, "train_size": size})
            for seed in range(seeds):
                r = write_run(root, rng, task, size, protocol, method, seed)
                specs[(cell_id(task, size, protocol, method), seed)] = json.loads(
                    (root / cell_id(task, size, protocol, method) / f"seed-{seed}" / "spec.json").read_text())
                if r is not None:
                    results.append(r)
    plan_cells.append({"cell": "cola-prefix-all-fair", "task": "glue/cola", "train_size": None})  # never started
    (root / "plan.json").write_text(json.dumps({"study": STUDY, "cells": plan_cells}, indent=2))

    columns, rows = summary(results, specs)
    groups = group_stats(results)
    started = "/".join([cell_id(*STARTED[:4]), f"seed-{STARTED[4]}"])
    torn = "/".join([cell_id(*TORN_CURVE[:4]), f"seed-{TORN_CURVE[4]}", "curve.jsonl"])
    expected = {"study": STUDY, "columns": columns, "rows": rows, "groups": groups, "inflation": inflation(groups),
                "pending": sorted([started, "cola-prefix-all-fair"]), "warnings": [torn],
                "runs": len(results)}
    (args.out / "expected.json").write_text(json.dumps(expected, indent=1))
    print(f"wrote {len(results)} runs into {root} and {args.out / 'expected.json'}")


if __name__ == "__main__":
    main()
