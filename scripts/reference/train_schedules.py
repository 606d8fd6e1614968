#!/usr/bin/env python3
"""Learning rates of transformers' warmup schedules, step by step, for the schedule parity test.

    train_schedules.py --out DIR

DIR/schedules.json: a list of cases
    {"name", "kind": linear|polynomial|constant, "base_lr", "total_steps", "warmup_steps", "warmup_ratio",
     "power", "end_lr", "resolved_warmup", "lrs": [lr of optimiser step 0, 1, ..., total_steps + 2]}
The rate of step s is what the optimiser uses for its (s+1)-th update: get_last_lr() after s scheduler steps.
Warmup from a ratio goes through TrainingArguments.get_warmup_steps, as the Trainer resolves it.
"""
import argparse
import json
import pathlib
import tempfile
import warnings

import torch
import transformers as tf

CASES = [
    # name, kind, base_lr, total, warmup_steps, warmup_ratio, power, end_lr
    ("linear-no-warmup", "linear", 1e-3, 50, 0, 0.0, 1.0, 1e-7),
    ("linear-warmup-steps", "linear", 3e-4, 97, 10, 0.0, 1.0, 1e-7),
    ("linear-warmup-ratio", "linear", 5e-5, 1003, 0, 0.06, 1.0, 1e-7),
    ("linear-warmup-all", "linear", 1e-2, 8, 8, 0.0, 1.0, 1e-7),
    ("constant-no-warmup", "constant", 1e-3, 40, 0, 0.0, 1.0, 1e-7),
    ("constant-warmup-ratio", "constant", 2e-4, 333, 0, 0.1, 1.0, 1e-7),
    ("polynomial-power1", "polynomial", 1e-3, 120, 7, 0.0, 1.0, 1e-7),
    ("polynomial-power2", "polynomial", 5e-4, 211, 0, 0.05, 2.0, 1e-6),
    ("polynomial-power-half", "polynomial", 3e-3, 64, 3, 0.0, 0.5, 0.0),
]


def resolved_warmup(total, warmup_steps, warmup_ratio):
    with tempfile.TemporaryDirectory() as tmp:
        args = tf.TrainingArguments(output_dir=tmp, warmup_steps=warmup_steps, warmup_ratio=warmup_ratio,
                                    report_to=[])
        return args.get_warmup_steps(total)


def scheduler_for(kind, optimizer, warmup, total, power, end_lr):
    if kind == "linear":
        return tf.get_linear_schedule_with_warmup(optimizer, warmup, total)
    if kind == "constant":
        return tf.get_constant_schedule_with_warmup(optimizer, warmup)
    return tf.get_polynomial_decay_schedule_with_warmup(optimizer, warmup, total, lr_end=end_lr, power=power)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, type=pathlib.Path)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")  # scheduler.step() before optimizer.step() is intended here
    cases = []
    for name, kind, base_lr, total, warmup_steps, warmup_ratio, power, end_lr in CASES:
        warmup = resolved_warmup(total, warmup_steps, warmup_ratio)
        optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=base_lr)
        scheduler = scheduler_for(kind, optimizer, warmup, total, power, end_lr)
        lrs = []
        for _ in range(total + 3):
            lrs.append(scheduler.get_last_lr()[0])
            scheduler.step()
        cases.append({"name": name, "kind": kind, "base_lr": base_lr, "total_steps": total,
                      "warmup_steps": warmup_steps, "warmup_ratio": warmup_ratio, "power": power, "end_lr": end_lr,
                      "resolved_warmup": warmup, "lrs": lrs})
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "schedules.json").write_text(json.dumps(cases, indent=1))


if __name__ == "__main__":
    main()
