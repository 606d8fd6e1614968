#!/usr/bin/env python3
"""HF transformers' side of bench/forward: same model folder, texts, batching, threads. Prints one JSON object."""
import argparse
import json
import time

import torch
import transformers as tf


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--texts", required=True)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--max-length", type=int, default=128)
    p.add_argument("--repeats", type=int, default=3)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    texts = [l for l in open(a.texts, encoding="utf-8").read().split("\n") if l]

    start = time.perf_counter()
    tok = tf.AutoTokenizer.from_pretrained(a.model)
    model = tf.AutoModel.from_pretrained(a.model).eval()
    load_s = time.perf_counter() - start

    batches = [tok(texts[i:i + a.batch], padding=True, truncation=True, max_length=a.max_length, return_tensors="pt")
               for i in range(0, len(texts), a.batch)]
    tokens = int(sum(b["attention_mask"].sum() for b in batches))
    best = float("inf")
    with torch.inference_mode():
        for _ in range(a.repeats):
            start = time.perf_counter()
            for b in batches:
                model(**b)
            best = min(best, time.perf_counter() - start)
    print(json.dumps({"side": "hf", "load_s": load_s, "forward_s": best, "tokens": tokens,
                      "tokens_per_s": tokens / best, "texts": len(texts), "threads": a.threads}))


if __name__ == "__main__":
    main()
