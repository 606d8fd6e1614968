#!/usr/bin/env python3
"""Inputs for `petlab forward` and what HF transformers computes on them, per model.

    forward_cases.py --models TINY_MODELS_DIR --out DIR

For each model folder among TINY_MODELS_DIR/{minilm,bert,roberta,t5-v1_0,t5-v1_1}/model that has a tokenizer,
writes DIR/<name>/inputs.jsonl (lines {"text", "text_pair"?, "target"?}) and DIR/<name>/reference.safetensors
with input_ids, attention_mask (HF tokenizer, padded to the longest), last_hidden_state (float32) and, for T5,
labels, decoder_input_ids and teacher-forced logits.
"""
import argparse
import json
import pathlib

import torch
import transformers as tf
from safetensors.torch import save_file

TEXTS = [
    "The quick brown fox jumps over the lazy dog.",
    "Parameter-efficient tuning trains a few weights; full tuning trains them all.",
    "naïve café, déjà vu — Ünïcödé",
    "a",
    "Numbers: 3.14, 1,000 and 42%!",
    "   leading and trailing spaces   ",
    "北京欢迎你 and emoji 🙂",
    "A much longer sentence that keeps going and going so that truncation to the maximum length has "
    "something to cut when the limit is small, with words, commas, and more words until the end.",
]
PAIRS = {1: "Is it stable?", 4: "Yes.", 6: "second segment"}
TARGETS = ["positive", "negative label words", "a summary of the dialogue", "yes", "no", "entailment",
           "not_entailment", "the end"]
MAX_LENGTH = 24


def write_case(model_dir: pathlib.Path, out: pathlib.Path, seq2seq: bool):
    out.mkdir(parents=True, exist_ok=True)
    lines = []
    for i, text in enumerate(TEXTS):
        line = {"text": text}
        if i in PAIRS:
            line["text_pair"] = PAIRS[i]
        if seq2seq:
            line["target"] = TARGETS[i]
        lines.append(line)
    (out / "inputs.jsonl").write_text("".join(json.dumps(l, ensure_ascii=False) + "\n" for l in lines),
                                      encoding="utf-8")

    tok = tf.AutoTokenizer.from_pretrained(str(model_dir))
    rows = [tok(l["text"], l.get("text_pair"), truncation="longest_first", max_length=MAX_LENGTH) for l in lines]
    batch = tok.pad(rows, padding=True, return_tensors="pt")
    tensors = {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"]}
    with torch.no_grad():
        if seq2seq:
            model = tf.T5ForConditionalGeneration.from_pretrained(str(model_dir)).eval()
            targets = [tok(l["target"], truncation=True, max_length=MAX_LENGTH) for l in lines]
            labels = tok.pad(targets, padding=True, return_tensors="pt")
            decoder_input_ids = model._shift_right(labels["input_ids"])
            decoder_mask = torch.cat([torch.ones_like(labels["attention_mask"][:, :1]),
                                      labels["attention_mask"][:, :-1]], dim=1)
            result = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                           decoder_input_ids=decoder_input_ids, decoder_attention_mask=decoder_mask)
            tensors.update(last_hidden_state=result.encoder_last_hidden_state.float().contiguous(),
                           labels=labels["input_ids"], decoder_input_ids=decoder_input_ids,
                           logits=result.logits.float().contiguous())
        else:
            model = tf.AutoModel.from_pretrained(str(model_dir)).eval()
            kwargs = dict(batch)
            tensors["last_hidden_state"] = model(**kwargs).last_hidden_state.float().contiguous()
    save_file(tensors, str(out / "reference.safetensors"))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", required=True, type=pathlib.Path)
    parser.add_argument("--out", required=True, type=pathlib.Path)
    args = parser.parse_args()
    torch.set_num_threads(1)
    written = []
    for name in ["minilm", "bert", "roberta", "t5-v1_0", "t5-v1_1"]:
        model_dir = args.models / name / "model"
        has_tokenizer = any((model_dir / f).exists() for f in ["tokenizer.json", "vocab.txt", "spiece.model"])
        if not has_tokenizer:
            continue
        write_case(model_dir.resolve(), args.out / name, seq2seq=name.startswith("t5"))
        written.append(name)
    print("forward cases written for: " + ", ".join(written))


if __name__ == "__main__":
    main()
