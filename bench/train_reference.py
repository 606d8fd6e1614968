#!/usr/bin/env python3
"""HF transformers + PEFT (or the `adapters` library) side of bench/run: trains one (task, method) cell the way a
careful user would, with petlab's settings, and prints one JSON object.

    train_reference.py --model DIR --data DIR --task sst2|rte --method METHOD --lr LR [--steps N] [--batch-size N]
                       [--threads N] [--max-length N] [--group-by-length]

Same as petlab's cell: the GLUE train.tsv as training set and dev.tsv as dev (protocol "legacy"), texts tokenised
once up front (longest_first truncation to max_length), the very batches petlab draws (its sampler ported below,
data seed 0: a plain shuffle as HF's RandomSampler, or length-grouped with --group-by-length as HF's
LengthGroupedSampler), each padded to its own longest row (dynamic padding, as DataCollatorWithPadding), AdamW with weight decay 0.01 except on biases and
norms, linear schedule with ceil(0.06 * steps) warm-up steps, gradient clipping at 1.0, a fixed number of steps,
then one dev evaluation (inference mode, longest first, 64 rows a batch). tokens_per_s counts real (non-pad)
tokens of the training batches over the training steps only; peak_rss_mb is this process's ru_maxrss.
"""
import argparse
import csv
import json
import math
import resource
import time

import torch
import transformers as tf

# task -> (columns holding the texts, labels in petlab's order: a label's index is its class)
TASKS = {"sst2": (["sentence"], ["0", "1"]),
         "rte": (["sentence1", "sentence2"], ["entailment", "not_entailment"])}

# The exact BERT module paths of petlab's ia3 default targets (attn.k, attn.v, ffn.act): PEFT scales the outputs
# of key and value and the input of the FFN's output projection. The plain suffix "output.dense" would also match
# attention.output.dense (see scripts/reference/peft_lora_ia3.py); ".*" covers the classifier model's "bert." prefix.
BERT_IA3_TARGETS = r".*encoder\.layer\.\d+\.(attention\.self\.key|attention\.self\.value|output\.dense)"
BERT_IA3_FEEDFORWARD = r".*encoder\.layer\.\d+\.output\.dense"

MASK64 = (1 << 64) - 1


class Rng:
    """petlab's tasks::Rng (splitmix64, rejection sampling, Fisher-Yates), so both sides see the same batches."""

    def __init__(self, seed):
        self.state = seed & MASK64

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def below(self, n):
        limit = MASK64 - MASK64 % n
        while True:
            x = self.next()
            if x < limit:
                return x % n

    def shuffle(self, v):
        for i in range(len(v), 1, -1):
            j = self.below(i)
            v[i - 1], v[j] = v[j], v[i - 1]


def epoch_batches(lengths, batch_size, data_seed, epoch, group_by_length, mega_batch_factor=50):
    """petlab's BatchSampler::epoch (host/train/batching.cpp): shuffle; with grouping, sort mega-batches longest
    first and move the longest example into the first batch (as HF's LengthGroupedSampler, with another RNG); cut
    into batches."""
    n = len(lengths)
    order = list(range(n))
    Rng(data_seed ^ ((0xD1B54A32D192ED03 * (epoch + 1)) & MASK64)).shuffle(order)
    if not group_by_length:
        return [order[i:i + batch_size] for i in range(0, n, batch_size)]
    mega = max(1, min(mega_batch_factor, n // (4 * batch_size))) * batch_size
    firsts = []
    for start in range(0, n, mega):
        order[start:start + mega] = sorted(order[start:start + mega], key=lambda i: -lengths[i])
        firsts.append(start)
    longest = firsts[0]
    for f in firsts:
        if lengths[order[f]] > lengths[order[longest]]:
            longest = f
    order[firsts[0]], order[longest] = order[longest], order[firsts[0]]
    return [order[i:i + batch_size] for i in range(0, n, batch_size)]


def read_glue(path, columns, labels):
    """GLUE TSV as petlab reads it: unquoted, header row, empty lines skipped."""
    with open(path, encoding="utf-8", newline="") as f:
        rows = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = next(rows)
        at = {name: header.index(name) for name in columns + ["label"]}
        texts, targets = [], []
        for row in rows:
            if not row:
                continue
            texts.append([row[at[c]] for c in columns])
            targets.append(labels.index(row[at["label"]]))
    return texts, targets


def encode(tok, texts, max_length):
    first = [t[0] for t in texts]
    second = [t[1] for t in texts] if len(texts[0]) > 1 else None
    enc = tok(first, second, truncation=True, max_length=max_length)
    return enc["input_ids"], enc["token_type_ids"]


def collate(ids, types, targets, indices, pad_id):
    """Dynamic padding: right-pad to the longest row of this batch only."""
    width = max(len(ids[i]) for i in indices)
    input_ids = torch.full((len(indices), width), pad_id, dtype=torch.long)
    token_type_ids = torch.zeros((len(indices), width), dtype=torch.long)
    attention_mask = torch.zeros((len(indices), width), dtype=torch.long)
    for r, i in enumerate(indices):
        n = len(ids[i])
        input_ids[r, :n] = torch.tensor(ids[i])
        token_type_ids[r, :n] = torch.tensor(types[i])
        attention_mask[r, :n] = 1
    return {"input_ids": input_ids, "token_type_ids": token_type_ids, "attention_mask": attention_mask,
            "labels": torch.tensor([targets[i] for i in indices], dtype=torch.long)}


def build_model(method, model_dir, num_labels):
    """The classifier with `method` attached and only its parameters (and the head) trainable; a description."""
    model = tf.AutoModelForSequenceClassification.from_pretrained(model_dir, num_labels=num_labels)
    if method in ("lora", "ia3", "prefix", "prompt"):
        from peft import IA3Config, LoraConfig, PrefixTuningConfig, PromptTuningConfig, TaskType, get_peft_model
        # SEQ_CLS: PEFT trains a copy of the classifier (modules_to_save), like petlab's always-trainable head.
        configs = {
            "lora": (lambda: LoraConfig(task_type=TaskType.SEQ_CLS, r=8, lora_alpha=16, lora_dropout=0.0,
                                        target_modules=["query", "value"]),
                     "PEFT LoraConfig(r=8, lora_alpha=16, lora_dropout=0, target_modules=[query, value])"),
            "ia3": (lambda: IA3Config(task_type=TaskType.SEQ_CLS, target_modules=BERT_IA3_TARGETS,
                                      feedforward_modules=BERT_IA3_FEEDFORWARD),
                    "PEFT IA3Config(target_modules=key, value, output.dense; feedforward_modules=output.dense)"),
            "prefix": (lambda: PrefixTuningConfig(task_type=TaskType.SEQ_CLS, num_virtual_tokens=30,
                                                  prefix_projection=False),
                       "PEFT PrefixTuningConfig(num_virtual_tokens=30, prefix_projection=False); PEFT shifts the "
                       "real tokens' positions by 30, petlab keeps them (plugins/prefix/README.md), same cost"),
            "prompt": (lambda: PromptTuningConfig(task_type=TaskType.SEQ_CLS, num_virtual_tokens=20),
                       "PEFT PromptTuningConfig(num_virtual_tokens=20, init RANDOM)"),
        }
        make, what = configs[method]
        return get_peft_model(model, make()), what
    if method == "adapter":
        import adapters
        from adapters import SeqBnConfig
        adapters.init(model)
        model.add_adapter("bench", config=SeqBnConfig(reduction_factor=16))
        model.train_adapter("bench")  # freezes the base model; the classifier outside it stays trainable
        for p in model.classifier.parameters():
            p.requires_grad_(True)
        return model, "adapters SeqBnConfig(reduction_factor=16) (pfeiffer), train_adapter + classifier"
    trainable = {"full": lambda name: True,
                 "head": lambda name: name.startswith("classifier."),
                 "bitfit": lambda name: name.startswith("classifier.") or name.endswith("bias"),
                 "floor": lambda name: name.startswith("classifier.") or (".encoder.layer.0." in name
                                                                          and name.endswith("bias"))}[method]
    for name, p in model.named_parameters():
        p.requires_grad_(trainable(name))
    what = {"full": "transformers, every parameter trains", "head": "transformers, only the classifier trains",
            "bitfit": "transformers, requires_grad on biases + classifier",
            "floor": "transformers, requires_grad on layer 0's biases + classifier"}[method]
    return model, what


def optimizer_groups(model, weight_decay):
    """HF Trainer's grouping: no decay on biases and normalisation parameters."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if p.requires_grad:
            (no_decay if "bias" in name or "norm" in name.lower() else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def evaluate(model, ids, types, targets, pad_id, batch_size):
    model.eval()
    order = sorted(range(len(ids)), key=lambda i: -len(ids[i]))
    correct = 0
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            batch = collate(ids, types, targets, order[start:start + batch_size], pad_id)
            labels = batch.pop("labels")
            correct += int((model(**batch).logits.argmax(-1) == labels).sum())
    return 100.0 * correct / len(ids)  # in percent, as petlab reports it


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True)
    p.add_argument("--data", required=True, help="the task's GLUE folder (train.tsv, dev.tsv)")
    p.add_argument("--task", required=True, choices=sorted(TASKS))
    p.add_argument("--method", required=True, choices=["head", "floor", "lora", "ia3", "bitfit", "prefix", "prompt", "adapter", "full"])
    p.add_argument("--lr", required=True, type=float)
    p.add_argument("--steps", type=int, default=60)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--max-length", type=int, default=128)
    p.add_argument("--eval-batch-size", type=int, default=64)
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--warmup-ratio", type=float, default=0.06)
    p.add_argument("--max-grad-norm", type=float, default=1.0)
    p.add_argument("--group-by-length", action="store_true", help="length-grouped batches instead of a plain shuffle")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    tf.logging.set_verbosity_error()  # "newly initialized classifier" notes

    columns, labels = TASKS[a.task]
    tok = tf.AutoTokenizer.from_pretrained(a.model)
    train_texts, train_targets = read_glue(f"{a.data}/train.tsv", columns, labels)
    dev_texts, dev_targets = read_glue(f"{a.data}/dev.tsv", columns, labels)
    train_ids, train_types = encode(tok, train_texts, a.max_length)
    dev_ids, dev_types = encode(tok, dev_texts, a.max_length)
    lengths = [len(x) for x in train_ids]

    model, what = build_model(a.method, a.model, len(labels))
    params = [q for q in model.parameters() if q.requires_grad]
    optimizer = torch.optim.AdamW(optimizer_groups(model, a.weight_decay), lr=a.lr)
    schedule = tf.get_linear_schedule_with_warmup(optimizer, math.ceil(a.steps * a.warmup_ratio), a.steps)

    model.train()
    tokens, padded, step, epoch, loss = 0, 0, 0, 0, float("nan")
    start = time.perf_counter()
    while step < a.steps:
        for indices in epoch_batches(lengths, a.batch_size, 0, epoch, a.group_by_length):
            batch = collate(train_ids, train_types, train_targets, indices, tok.pad_token_id)
            out = model(**batch)
            loss = out.loss.item()
            out.loss.backward()
            tokens += int(batch["attention_mask"].sum())
            padded += batch["attention_mask"].numel()
            torch.nn.utils.clip_grad_norm_(params, a.max_grad_norm)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            if step == a.steps:
                break
        epoch += 1
    train_s = time.perf_counter() - start

    accuracy = evaluate(model, dev_ids, dev_types, dev_targets, tok.pad_token_id, a.eval_batch_size)
    print(json.dumps({"side": "reference", "task": a.task, "method": a.method, "config": what,
                      "steps": step, "tokens": tokens, "train_time_s": train_s, "tokens_per_s": tokens / train_s,
                      "step_ms": 1000 * train_s / step, "last_loss": loss,
                      "trainable_params": sum(q.numel() for q in params),
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "padded_tokens": padded,
                      "best_dev": {"accuracy": accuracy}, "threads": a.threads, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
