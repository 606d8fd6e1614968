#!/usr/bin/env python3
"""A few optimiser steps of HF Trainer's AdamW setup in PyTorch, for the optimiser parity test.

    train_adamw.py --out DIR

The parameters of a small module named like a backbone's (a dense layer, a LayerNorm, T5's relative
attention bias, a LoRA-like matrix and a 1-D method vector) are split into decay / no-decay groups by
transformers' Trainer.get_decay_parameter_names; then, per case, torch.optim.AdamW runs a few steps. Each
step accumulates `accumulation` micro-batches, each the loss sum(p * g) / accumulation for a fixed random
g per parameter, clips to max_grad_norm with torch.nn.utils.clip_grad_norm_ and updates with that step's
learning rate.

DIR/adamw.json:        {"decay": [names], "no_decay": [names], "cases": [{name, lr, weight_decay, betas, eps,
                        max_grad_norm, accumulation, steps, lrs: [..], grad_norms: [..]}]}
DIR/adamw.safetensors: init.<name>; <case>.grad.<step>.<micro>.<name>; <case>.after.<step>.<name>  (float32)
"""
import argparse
import json
import pathlib

import torch
from safetensors.torch import save_file
import transformers as tf


class Tiny(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.dense = torch.nn.Linear(5, 6)
        self.LayerNorm = torch.nn.LayerNorm(6)
        self.relative_attention_bias = torch.nn.Embedding(4, 3)
        self.lora_A = torch.nn.Parameter(torch.empty(2, 5))
        self.ia3 = torch.nn.Parameter(torch.empty(6))


CASES = [
    # name, lr, weight_decay, betas, eps, max_grad_norm, accumulation, steps, grad scale
    ("clipped", 1e-2, 0.01, (0.9, 0.999), 1e-8, 1.0, 1, 6, 3.0),
    ("unclipped-accumulated", 3e-3, 0.1, (0.8, 0.99), 1e-6, 0.0, 3, 5, 1.0),
    ("clip-sometimes", 5e-2, 0.0, (0.9, 0.98), 1e-8, 12.0, 2, 6, 1.5),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, type=pathlib.Path)
    args = parser.parse_args()
    torch.manual_seed(0)
    template = Tiny()
    with torch.no_grad():
        for p in template.parameters():
            p.normal_()
    decay = tf.Trainer.get_decay_parameter_names(None, template)
    names = [n for n, _ in template.named_parameters()]
    tensors = {f"init.{n}": p.detach().clone() for n, p in template.named_parameters()}
    cases = []
    g = torch.Generator().manual_seed(1)
    for name, lr, weight_decay, betas, eps, max_norm, accumulation, steps, scale in CASES:
        model = Tiny()
        model.load_state_dict(template.state_dict())
        params = dict(model.named_parameters())
        groups = [{"params": [params[n] for n in names if n in decay], "weight_decay": weight_decay},
                  {"params": [params[n] for n in names if n not in decay], "weight_decay": 0.0}]
        optimizer = torch.optim.AdamW(groups, lr=lr, betas=betas, eps=eps)
        lrs = [lr * (1.0 - 0.13 * s) for s in range(steps)]  # a changing rate, as a schedule gives
        norms = []
        for step in range(steps):
            for micro in range(accumulation):
                loss = 0
                for n in names:
                    grad = torch.randn(params[n].shape, generator=g) * scale * (1 + step % 3)
                    tensors[f"{name}.grad.{step}.{micro}.{n}"] = grad
                    loss = loss + (params[n] * grad).sum()
                (loss / accumulation).backward()
            all_params = [params[n] for n in names]
            if max_norm > 0:
                norm = torch.nn.utils.clip_grad_norm_(all_params, max_norm)
            else:
                norm = torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in all_params]))
            norms.append(float(norm))
            for group in optimizer.param_groups:
                group["lr"] = lrs[step]
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            for n in names:
                tensors[f"{name}.after.{step}.{n}"] = params[n].detach().clone()
        cases.append({"name": name, "lr": lr, "weight_decay": weight_decay, "betas": list(betas), "eps": eps,
                      "max_grad_norm": max_norm, "accumulation": accumulation, "steps": steps, "lrs": lrs,
                      "grad_norms": norms})
    args.out.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(args.out / "adamw.safetensors"))
    (args.out / "adamw.json").write_text(json.dumps(
        {"names": names, "decay": [n for n in names if n in decay], "no_decay": [n for n in names if n not in decay],
         "cases": cases}, indent=1))


if __name__ == "__main__":
    main()
