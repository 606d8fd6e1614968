#!/usr/bin/env python3
"""Bottleneck adapters and MAM as the `adapters` library computes them, for petlab's adapter/mam parity tests.

    adapters_parity.py --models TINY_MODELS_DIR --out DIR

For each case below: loads the model (all-MiniLM-L6-v2 or a tiny T5 from TINY_MODELS_DIR), adds the library's
config, sets every adapter weight to seeded random values (up projections non-zero, norms away from 1/0), and
writes DIR/<case>.safetensors:
    param.<petlab parameter name>   the weights under the names petlab's method gives them (without the
                                    "<instance>/" prefix), e.g. param.enc.L0.ffn.block.down.weight
    input_ids, attention_mask (+ token_type_ids, or decoder_input_ids, decoder_attention_mask for T5)
    last_hidden_state               float32, the encoder's output
    logits                          T5 only: teacher-forced logits
    trainable_count                 int64 [1]: the library's trainable parameters after train_adapter()
and DIR/cases.json: {case: {"model": ..., "method": "adapter" | "mam", "knobs": {...}}}, the petlab knobs
that express the same configuration.
"""
import argparse
import json
import pathlib
import re

import adapters
import torch
import transformers as tf
from adapters import DoubleSeqBnConfig, MAMConfig, ParBnConfig, PrefixTuningConfig, SeqBnConfig
from adapters.methods.modeling import Adapter
from adapters.methods.prefix_tuning import PrefixTuning
from safetensors.torch import load_file, save_file

# case -> (model, library config, petlab method, petlab knobs)
CASES = {
    "minilm_houlsby": ("minilm", lambda: DoubleSeqBnConfig(reduction_factor=16), "adapter", {"variant": "houlsby"}),
    "minilm_pfeiffer": ("minilm", lambda: SeqBnConfig(reduction_factor=16), "adapter", {"variant": "pfeiffer"}),
    "minilm_parallel": ("minilm", lambda: ParBnConfig(reduction_factor=16, scaling=1.0), "adapter",
                        {"variant": "parallel"}),
    "minilm_scaled_parallel": ("minilm", lambda: ParBnConfig(reduction_factor=16), "adapter",
                               {"variant": "scaled_parallel"}),
    # The optional parts: new norms around the bottleneck, a learned scaling, another activation and width.
    "minilm_pfeiffer_norms_learned": (
        "minilm", lambda: SeqBnConfig(reduction_factor=12, ln_before=True, ln_after=True, non_linearity="gelu",
                                      scaling="learned"),
        "adapter", {"variant": "pfeiffer", "reduction_factor": 12, "ln_before": True, "ln_after": True,
                    "non_linearity": "gelu", "scaling": "learned"}),
    "minilm_parallel_attn_norm": (
        "minilm", lambda: ParBnConfig(mh_adapter=True, output_adapter=False, reduction_factor=8, scaling=2.0,
                                      ln_before=True, non_linearity="swish"),
        "adapter", {"variant": "parallel", "placement": "attn", "reduction_factor": 8, "scaling": 2.0,
                    "ln_before": True, "non_linearity": "swish"}),
    # MAMConfig's defaults: prefix length 30, MLP width 800, parallel adapter scaling 4 on the FFN; petlab's
    # ffn_bottleneck 512 is reduction factor 384 / 512 on MiniLM's hidden size.
    "minilm_mam": ("minilm", lambda: MAMConfig(PrefixTuningConfig(bottleneck_size=800),
                                               ParBnConfig(reduction_factor=384 / 512)), "mam", {}),
    "t5-v1_0_houlsby": ("t5-v1_0", lambda: DoubleSeqBnConfig(reduction_factor=4), "adapter",
                        {"variant": "houlsby", "reduction_factor": 4}),
    "t5-v1_0_pfeiffer": ("t5-v1_0", lambda: SeqBnConfig(reduction_factor=4), "adapter",
                         {"variant": "pfeiffer", "reduction_factor": 4}),
    "t5-v1_0_scaled_parallel": ("t5-v1_0", lambda: ParBnConfig(reduction_factor=4), "adapter",
                                {"variant": "scaled_parallel", "reduction_factor": 4}),
    "t5-v1_1_pfeiffer_cross": ("t5-v1_1", lambda: SeqBnConfig(reduction_factor=4, cross_adapter=True), "adapter",
                               {"variant": "pfeiffer", "bottleneck": 8,
                                "targets": ["ffn.block", "xattn.block"]}),
    "t5-v1_1_parallel": ("t5-v1_1", lambda: ParBnConfig(reduction_factor=4, scaling=1.0), "adapter",
                         {"variant": "parallel", "reduction_factor": 4}),
}

MINILM_ROWS = 16

# Library module paths of bottleneck layers -> petlab block sites.
BERT_SITE = [(re.compile(r"encoder\.layer\.(\d+)\.attention\.output\.adapters\."), "enc.L{}.attn.block"),
             (re.compile(r"encoder\.layer\.(\d+)\.output\.adapters\."), "enc.L{}.ffn.block")]
T5_SITE = [(re.compile(r"encoder\.block\.(\d+)\.layer\.0\.adapters\."), "enc.L{}.attn.block"),
           (re.compile(r"encoder\.block\.(\d+)\.layer\.1\.adapters\."), "enc.L{}.ffn.block"),
           (re.compile(r"decoder\.block\.(\d+)\.layer\.0\.adapters\."), "dec.L{}.attn.block"),
           (re.compile(r"decoder\.block\.(\d+)\.layer\.1\.adapters\."), "dec.L{}.xattn.block"),
           (re.compile(r"decoder\.block\.(\d+)\.layer\.2\.adapters\."), "dec.L{}.ffn.block")]


def site_of(module_name, t5):
    for pattern, site in (T5_SITE if t5 else BERT_SITE):
        m = pattern.match(module_name + ".")
        if m:
            return site.format(m.group(1))
    raise ValueError(f"no petlab site for adapter module {module_name}")


def randomize(model, generator):
    """Seeded, non-trivial values for every trainable tensor: the library's zero up projections would hide bugs."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if not p.requires_grad:
                continue
            noise = torch.randn(p.shape, generator=generator)
            if "norm" in name:  # LayerNorm weight/bias near 1 / 0
                p.copy_((1.0 if name.endswith("weight") else 0.0) + 0.1 * noise)
            elif name.endswith("scaling"):
                p.copy_(1.5 + 0.1 * noise)
            elif "prefix" in name:
                p.copy_(0.05 * noise)
            else:
                p.copy_(0.1 * noise / p.shape[-1] ** 0.25)


def linear_of(sequential):
    return next(m for m in sequential if isinstance(m, torch.nn.Linear))


def petlab_weights(model, t5):
    """The adapters' tensors under petlab's parameter names."""
    out = {}
    for name, module in model.named_modules():
        if isinstance(module, Adapter):
            site = site_of(name, t5)
            down = linear_of(module.adapter_down)
            out[f"{site}.down.weight"], out[f"{site}.down.bias"] = down.weight, down.bias
            out[f"{site}.up.weight"], out[f"{site}.up.bias"] = module.adapter_up.weight, module.adapter_up.bias
            if isinstance(module.scaling, torch.nn.Parameter):
                out[f"{site}.scaling"] = module.scaling
            for norm in ("before", "after"):
                ln = getattr(module, f"adapter_norm_{norm}", None)
                if ln is not None:
                    out[f"{site}.ln_{norm}.weight"], out[f"{site}.ln_{norm}.bias"] = ln.weight, ln.bias
        elif isinstance(module, PrefixTuning):
            if t5:
                raise ValueError("prefix parity is written for single-stack encoders")
            out["embedding"] = module.wte.weight
            for i in (0, 2):
                out[f"mlp.{i}.weight"], out[f"mlp.{i}.bias"] = (module.control_trans[i].weight,
                                                                module.control_trans[i].bias)
    return {f"param.{k}": v.detach().float().contiguous().clone() for k, v in out.items()}


def inputs_for(models, name):
    ref = load_file(str(models / name / "reference.safetensors"))
    if name != "minilm":
        keys = ["input_ids", "attention_mask", "decoder_input_ids", "decoder_attention_mask"]
        return {k: ref[k] for k in keys}
    rows = {k: ref[k][:MINILM_ROWS] for k in ("input_ids", "attention_mask", "token_type_ids")}
    length = int(rows["attention_mask"].sum(1).max())
    return {k: v[:, :length].contiguous() for k, v in rows.items()}


def run_case(models, out, case, seed):
    model_name, make_config, method, knobs = CASES[case]
    t5 = model_name.startswith("t5")
    model_dir = str(models / model_name / "model")
    model = (tf.T5ForConditionalGeneration if t5 else tf.AutoModel).from_pretrained(model_dir)
    adapters.init(model)
    model.add_adapter("petlab", config=make_config())
    model.train_adapter("petlab")
    count = sum(p.numel() for p in model.parameters() if p.requires_grad)
    randomize(model, torch.Generator().manual_seed(seed))
    model.eval()

    tensors = inputs_for(models, model_name)
    with torch.no_grad():
        if t5:
            result = model(**tensors)
            tensors["last_hidden_state"] = result.encoder_last_hidden_state.float().contiguous()
            tensors["logits"] = result.logits.float().contiguous()
        else:
            tensors["last_hidden_state"] = model(**tensors).last_hidden_state.float().contiguous()
    tensors.update(petlab_weights(model, t5))
    tensors["trainable_count"] = torch.tensor([count], dtype=torch.long)
    save_file(tensors, str(out / f"{case}.safetensors"))
    return {"model": model_name, "method": method, "knobs": knobs}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", required=True, type=pathlib.Path)
    parser.add_argument("--out", required=True, type=pathlib.Path)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)
    index = {case: run_case(args.models, args.out, case, seed=100 + i) for i, case in enumerate(CASES)}
    (args.out / "cases.json").write_text(json.dumps(index, indent=1) + "\n")
    print(f"{len(index)} adapters-library cases written to {args.out}")


if __name__ == "__main__":
    main()
