#!/usr/bin/env python3
"""Token ids HF transformers' generate() produces on the tiny T5 models, for the generation parity test.

    train_generation.py --models TINY_MODELS_DIR --out DIR

For t5-v1_0 and t5-v1_1 (TINY_MODELS_DIR/<version>/model, written by make_tiny_models.py) and for an
"-eos" variant of each: random weights almost never emit eos within a few tokens, so the variant moves the
LM head's eos row along the decoder's mean output direction, just far enough that some rows end early
and others run to max_new_tokens (eos, padding and length penalty then all matter). Variants are saved
as DIR/<version>-eos/model.

DIR/<name>/generation.safetensors   input_ids, attention_mask (int64 [8, 11], right-padded, varied lengths)
                                    and one int64 tensor per configuration: generate()'s sequences
                                    (decoder start token first)
DIR/generation.json                 {"models": [names], "configs": [{name, num_beams, length_penalty,
                                    early_stopping, max_new_tokens}]}
"""
import argparse
import json
import pathlib

import torch
from safetensors.torch import save_file
import transformers as tf
from transformers.cache_utils import DynamicCache, EncoderDecoderCache

MAX_NEW_TOKENS = 12
CONFIGS = [
    # name, num_beams, length_penalty, early_stopping
    ("greedy", 1, 1.0, False),
    ("beam3", 3, 1.0, False),
    ("beam3-lp0.6", 3, 0.6, False),
    ("beam3-lp2", 3, 2.0, False),
    ("beam3-early", 3, 1.0, True),
    ("beam3-never", 3, 1.0, "never"),
    ("beam4-lp0.6-never", 4, 0.6, "never"),
    ("beam2-lp-negative", 2, -0.5, False),
]


def inputs(vocab, batch=8, length=11, seed=7):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(2, vocab, (batch, length), generator=g)
    lengths = torch.randint(2, length + 1, (batch,), generator=g)
    lengths[0] = length
    mask = (torch.arange(length)[None, :] < lengths[:, None]).long()
    return ids * mask, mask


def generate(model, ids, mask, num_beams, length_penalty, early_stopping, check_uncached=True):
    kwargs = dict(input_ids=ids, attention_mask=mask, max_new_tokens=MAX_NEW_TOKENS, do_sample=False,
                  num_beams=num_beams, length_penalty=length_penalty, early_stopping=early_stopping)
    # The tiny models have 3 decoder layers and 2 encoder layers: the cache generate() would build sizes itself
    # from num_layers and fails, so hand it a growing one; without a cache the ids must be the same.
    cached = model.generate(past_key_values=EncoderDecoderCache(DynamicCache(), DynamicCache()), **kwargs)
    if check_uncached:
        uncached = model.generate(use_cache=False, **kwargs)
        assert torch.equal(cached, uncached), "cached and uncached generation disagree"
    return cached


def ends_early(sequences, eos):
    return int(((sequences[:, 1:] == eos).any(dim=1)).sum())


def make_eos_variant(model, ids, mask):
    """Adds alpha * d to the eos row of the LM head, d the decoder's mean output (as the head sees it),
    with the smallest alpha on a fixed grid for which 3 to 6 of the 8 greedy rows end early."""
    eos = model.config.eos_token_id
    with torch.no_grad():
        probe = torch.randint(2, model.config.vocab_size, (ids.shape[0], 8), generator=torch.Generator().manual_seed(3))
        out = model(input_ids=ids, attention_mask=mask, decoder_input_ids=probe, output_hidden_states=True)
        h = out.decoder_hidden_states[-1]
        if model.config.tie_word_embeddings:
            h = h * model.config.d_model ** -0.5
        d = h.reshape(-1, h.shape[-1]).mean(0)
        d = d / d.norm() ** 2
        row = model.lm_head.weight[eos].clone()
        for step in range(1, 121):
            alpha = 0.25 * step
            model.lm_head.weight[eos] = row + alpha * d
            n = ends_early(generate(model, ids, mask, 1, 1.0, False, check_uncached=False), eos)
            if 3 <= n <= 6:
                return alpha
    raise SystemExit("no eos strength on the grid gives 3 to 6 of 8 rows ending early")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", required=True, type=pathlib.Path)
    parser.add_argument("--out", required=True, type=pathlib.Path)
    args = parser.parse_args()
    torch.set_num_threads(1)  # tiny tensors: threads only contend
    names = []
    for version in ["t5-v1_0", "t5-v1_1"]:
        for variant in ["", "-eos"]:
            model = tf.T5ForConditionalGeneration.from_pretrained(str(args.models / version / "model")).eval()
            ids, mask = inputs(model.config.vocab_size)
            name = version + variant
            if variant:
                alpha = make_eos_variant(model, ids, mask)
                model.save_pretrained(args.out / name / "model", safe_serialization=True)
                print(f"{name}: eos row moved by {alpha}")
            tensors = {"input_ids": ids, "attention_mask": mask}
            for config, beams, penalty, early in CONFIGS:
                with torch.no_grad():
                    tensors[config] = generate(model, ids, mask, beams, penalty, early).contiguous()
            (args.out / name).mkdir(parents=True, exist_ok=True)
            save_file(tensors, str(args.out / name / "generation.safetensors"))
            names.append(name)
    configs = [{"name": c, "num_beams": b, "length_penalty": p, "early_stopping": e, "max_new_tokens": MAX_NEW_TOKENS}
               for c, b, p, e in CONFIGS]
    (args.out / "generation.json").write_text(json.dumps({"models": names, "configs": configs}, indent=1))


if __name__ == "__main__":
    main()
