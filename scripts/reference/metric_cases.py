#!/usr/bin/env python3
"""Writes metric fixture corpora and the values the reference libraries compute on them.

    metric_cases.py --out DIR

The C++ metrics in tasks/metrics/ must reproduce these numbers to 1e-6:
  classification.json  accuracy, binary F1, macro-F1, MCC          (scikit-learn)
  correlation.json     Pearson, Spearman (with ties)               (scipy.stats)
  multirc.json         MultiRC EM (per question) and F1a           (scikit-learn F1 + grouping)
  record.json          ReCoRD EM/F1, max over answers              (SQuAD/ReCoRD official normalisation)
  rouge.json           ROUGE-1/2/L/Lsum, tokens, Porter stems      (rouge-score 0.1.2, nltk)
  bleu.json            13a tokens, corpus BLEU with 1..n references (sacrebleu)

Texts are built from the English prose shipped with Python (pydoc topics) with a seeded RNG, then mixed
with numbers, punctuation, case changes, unicode and HTML entities so every tokeniser branch is hit.
"""
import argparse
import collections
import json
import math
import random
import re
import string
from pathlib import Path

import numpy as np
import pydoc_data.topics
import sacrebleu
from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a
import scipy.stats
import sklearn
import sklearn.metrics
from nltk.stem import porter
from rouge_score import rouge_scorer, tokenize

SEED = 20240605


def prose_sentences():
    text = " ".join(pydoc_data.topics.topics[k] for k in sorted(pydoc_data.topics.topics))
    text = re.sub(r"\s+", " ", text)
    sents = [s.strip() for s in re.split(r"(?<=[.!?])\s", text)]
    return [s for s in sents if 20 <= len(s) <= 240]


UNICODE_BITS = [
    "café", "naïve", "Zürich", "東京", "Ελληνικά", "İstanbul", "\u212aelvin", "São Paulo", "ÉCOLE",
    "straße", "fiancée", "résumé", "😀", "—", "–", "“quoted”", "‘single’", "…", "€5", "½",
    "non\u00a0breaking", "thin\u2009space", "ideo\u3000space", "Ⅻ", "x²", "ﬁle",
]
ASCII_BITS = [
    "3.14", "1,000", "-5", "2021-03-04", "e-mail", "U.S.", "it's", "(see above)", "[note]", "{x}",
    "a/b", "50%", "#1", "$20", "&amp;", "&quot;hi&quot;", "&lt;tag&gt;", "<skipped>", "x-\ny", "A&B",
    "...", "?!", "10-20", "3,5", "v1.2.3", "@user", "~tilde", "`tick`", "^caret", "a|b", "C++", "don't",
]


def perturb(rng, words):
    out = []
    for w in words:
        r = rng.random()
        if r < 0.10:
            continue                                   # drop
        if r < 0.18:
            out.append(rng.choice(ASCII_BITS + UNICODE_BITS))  # replace
            continue
        if r < 0.24:
            w = w.upper()
        elif r < 0.30:
            w = w.capitalize()
        out.append(w)
        if rng.random() < 0.05:
            out.append(rng.choice(ASCII_BITS))
    if len(out) > 3 and rng.random() < 0.3:
        i = rng.randrange(len(out) - 1)
        out[i], out[i + 1] = out[i + 1], out[i]
    return out


def decorate(rng, words):
    words = list(words)
    for _ in range(rng.randrange(0, 3)):
        words.insert(rng.randrange(len(words) + 1), rng.choice(UNICODE_BITS + ASCII_BITS))
    return words


def make_pairs(rng, sents, n):
    pairs = []
    for i in range(n):
        k = rng.choice([1, 1, 2, 3])
        chosen = [sents[rng.randrange(len(sents))] for _ in range(k)]
        target_sents = [" ".join(decorate(rng, s.split())) for s in chosen]
        pred_sents = [" ".join(perturb(rng, s.split())) for s in target_sents]
        join = "\n" if rng.random() < 0.6 else " "
        target, pred = join.join(target_sents), join.join(pred_sents)
        if i % 50 == 7:
            pred = ""                                  # empty prediction
        if i % 61 == 3:
            pred = target                              # exact copy
        if i % 73 == 5:
            pred = "!!! ... ???"                       # no valid token at all
        if i % 37 == 11:
            pred = pred + "  \t "                      # trailing whitespace (sacrebleu rstrips)
        pairs.append((target, pred))
    return pairs


def score_dict(s):
    return {"precision": s.precision, "recall": s.recall, "fmeasure": s.fmeasure}


def rouge_cases(rng, sents):
    pairs = make_pairs(rng, sents, 400)
    types = ["rouge1", "rouge2", "rougeL", "rougeLsum"]
    out = {"pairs": [], "multi": []}
    for stem in (False, True):
        scorer = rouge_scorer.RougeScorer(types, use_stemmer=stem)
        stemmer = porter.PorterStemmer() if stem else None
        for target, pred in pairs:
            scores = scorer.score(target, pred)
            out["pairs"].append({
                "stemmer": stem, "target": target, "prediction": pred,
                "target_tokens": tokenize.tokenize(target, stemmer),
                **{t: score_dict(scores[t]) for t in types},
            })
    scorer = rouge_scorer.RougeScorer(types, use_stemmer=True)
    for i in range(0, len(pairs) - 3, 4):
        targets = [pairs[i + j][0] for j in range(rng.randrange(1, 4))]
        pred = pairs[i + 3][1] if rng.random() < 0.3 else pairs[i][1]
        scores = scorer.score_multi(targets, pred)
        out["multi"].append({"targets": targets, "prediction": pred,
                             **{t: score_dict(scores[t]) for t in types}})
    # Porter stems on every word of the prose plus the stemmer's irregular and edge cases.
    words = sorted(set(re.findall(r"[a-z]+", " ".join(sents).lower())))
    words += ["skies", "sky", "dying", "lying", "tying", "news", "innings", "outings", "cannings", "howe",
              "proceed", "exceed", "succeed", "ties", "pies", "cried", "tied", "agreed", "feed", "hopping",
              "filing", "failing", "conflated", "troubled", "sized", "fizzed", "hissing", "falling",
              "happy", "enjoy", "relational", "conditional", "valenci", "hesitanci", "digitizer",
              "conformabli", "radicalli", "differentli", "vileli", "analogousli", "vietnamization",
              "predication", "operator", "feudalism", "decisiveness", "hopefulness", "callousness",
              "formaliti", "sensitiviti", "sensibiliti", "triplicate", "formative", "formalize",
              "electriciti", "electrical", "hopeful", "goodness", "revival", "allowance", "inference",
              "airliner", "gyroscopic", "adjustable", "defensible", "irritant", "replacement",
              "adjustment", "dependent", "adoption", "homologou", "communism", "activate", "angulariti",
              "homologous", "effective", "bowdlerize", "probate", "rate", "cease", "controll", "roll",
              "yyyy", "syzygy", "toy", "generously", "archaeology", "fully", "logically", "analogi",
              "ies", "eed", "ied", "ing", "abled", "at", "by", "aaa", "1990s", "b52s"]
    stemmer = porter.PorterStemmer()
    out["stems"] = {w: stemmer.stem(w) for w in words}
    return out


def bleu_cases(rng, sents):
    pairs = make_pairs(rng, sents, 420)
    hyps = [p for _, p in pairs]
    refs1 = [t for t, _ in pairs]
    refs2 = [" ".join(perturb(rng, t.split())) for t in refs1]
    refs3 = [" ".join(perturb(rng, t.split())) for t in refs1]
    tok = Tokenizer13a()
    lines = refs1[:200] + hyps[:200] + ["", " ", "a-\nb", "1-2-3", "x.y", "3.5,6", "end.", ",lead", "\u00a0x\u2003y\u3000"]
    out = {"tokenized": [{"in": s, "out": tok(s.rstrip())} for s in lines], "corpora": []}

    def add(name, hyps, ref_streams):
        b = sacrebleu.corpus_bleu(hyps, ref_streams)
        out["corpora"].append({"name": name, "hyps": hyps, "refs": ref_streams, "score": b.score,
                               "counts": b.counts, "totals": b.totals, "sys_len": b.sys_len,
                               "ref_len": b.ref_len})

    add("one_reference", hyps, [refs1])
    add("three_references", hyps, [refs1, refs2, refs3])
    # E2E style: a variable number of references per segment (None pads the shorter groups).
    var2 = [r if i % 3 else None for i, r in enumerate(refs2)]
    var3 = [r if i % 2 else None for i, r in enumerate(refs3)]
    add("variable_references", hyps, [refs1, var2, var3])
    add("short_corpus_no_4grams", ["a b c", "d e"], [["a b c", "d e f"]])
    add("no_match", ["x y z w"], [["a b c d"]])
    add("exp_smoothing", ["the cat sat on the mat today", "a dog"],
        [["the cat sat on a mat", "a dog barked loudly here"]])
    return out


def classification_cases(rng):
    cases = []
    nprng = np.random.default_rng(SEED)
    for name, n, k in [("binary", 500, 2), ("binary_small", 7, 2), ("three_class", 400, 3),
                       ("three_class_missing_pred_class", 60, 3), ("four_class", 300, 4)]:
        y_true = nprng.integers(0, k, n)
        y_pred = np.where(nprng.random(n) < 0.7, y_true, nprng.integers(0, k, n))
        if name == "three_class_missing_pred_class":
            y_pred = np.where(y_pred == 2, 0, y_pred)
        case = {"name": name, "y_true": y_true.tolist(), "y_pred": y_pred.tolist(),
                "accuracy": sklearn.metrics.accuracy_score(y_true, y_pred),
                "mcc": sklearn.metrics.matthews_corrcoef(y_true, y_pred),
                "macro_f1": sklearn.metrics.f1_score(y_true, y_pred, average="macro", zero_division=0)}
        if k == 2:
            case["f1"] = sklearn.metrics.f1_score(y_true, y_pred, zero_division=0)
        cases.append(case)
    # degenerate: a constant prediction (MCC is 0 by convention, F1 of a never-predicted class is 0)
    y_true = [0, 1, 1, 0, 1]
    y_pred = [0, 0, 0, 0, 0]
    cases.append({"name": "constant_prediction", "y_true": y_true, "y_pred": y_pred,
                  "accuracy": sklearn.metrics.accuracy_score(y_true, y_pred),
                  "mcc": sklearn.metrics.matthews_corrcoef(y_true, y_pred),
                  "macro_f1": sklearn.metrics.f1_score(y_true, y_pred, average="macro", zero_division=0),
                  "f1": sklearn.metrics.f1_score(y_true, y_pred, zero_division=0)})
    return cases


def correlation_cases():
    nprng = np.random.default_rng(SEED + 1)
    cases = []
    x = nprng.uniform(0, 5, 300)
    y = x + nprng.normal(0, 1, 300)
    cases.append(("continuous", x, y))
    x = np.round(nprng.uniform(0, 5, 200) * 5) / 5      # STS-B style 0.2 steps: many ties
    y = np.round((x + nprng.normal(0, 0.8, 200)) * 5) / 5
    cases.append(("ties", x, y))
    x = nprng.integers(0, 3, 50).astype(float)
    y = -x + nprng.integers(0, 2, 50)
    cases.append(("heavy_ties_negative", x, y))
    return [{"name": n, "x": a.tolist(), "y": b.tolist(),
             "pearson": float(scipy.stats.pearsonr(a, b)[0]),
             "spearman": float(scipy.stats.spearmanr(a, b)[0])} for n, a, b in cases]


def multirc_cases(rng):
    cases = []
    for name, questions in [("multirc", 120), ("multirc_small", 5)]:
        groups, y_true, y_pred = [], [], []
        for q in range(questions):
            for a in range(rng.randrange(1, 6)):
                t = rng.randrange(2)
                groups.append(f"p{q // 4}-q{q}")
                y_true.append(t)
                y_pred.append(t if rng.random() < 0.8 else 1 - t)
        by_group = collections.defaultdict(list)
        for g, t, p in zip(groups, y_true, y_pred):
            by_group[g].append(t == p)
        em = sum(all(v) for v in by_group.values()) / len(by_group)
        cases.append({"name": name, "groups": groups, "y_true": y_true, "y_pred": y_pred,
                      "em": em, "f1a": sklearn.metrics.f1_score(y_true, y_pred)})
    return cases


# ReCoRD's official evaluation (the SQuAD v1.1 normalisation), written out here as the reference.
def normalize_answer(s):
    def remove_articles(text):
        return re.sub(r"\b(a|an|the)\b", " ", text)

    def white_space_fix(text):
        return " ".join(text.split())

    def remove_punc(text):
        exclude = set(string.punctuation)
        return "".join(ch for ch in text if ch not in exclude)

    return white_space_fix(remove_articles(remove_punc(s.lower())))


def f1_score(prediction, ground_truth):
    p, g = normalize_answer(prediction).split(), normalize_answer(ground_truth).split()
    common = collections.Counter(p) & collections.Counter(g)
    num_same = sum(common.values())
    if num_same == 0:
        return 0.0
    precision, recall = num_same / len(p), num_same / len(g)
    return 2 * precision * recall / (precision + recall)


def exact_match(prediction, ground_truth):
    return float(normalize_answer(prediction) == normalize_answer(ground_truth))


def record_cases(rng, sents):
    entities = ["the United States", "Barack Obama", "Zürich", "A.C. Milan", "an apple", "The Beatles",
                "İstanbul", "São Paulo", "U.S.", "New York's", "Café Nero", "the the", "ÉCOLE normale"]
    cases = []
    for i in range(300):
        answers = rng.sample(entities, rng.randrange(1, 3))
        r = rng.random()
        if r < 0.4:
            pred = rng.choice(answers)
            pred = pred.upper() if rng.random() < 0.3 else pred
        elif r < 0.7:
            pred = rng.choice(entities)
        else:
            pred = " ".join(perturb(rng, rng.choice(answers).split() + rng.choice(sents).split()[:3]))
        cases.append({"prediction": pred, "answers": answers,
                      "em": max(exact_match(pred, a) for a in answers),
                      "f1": max(f1_score(pred, a) for a in answers)})
    return {"cases": cases, "em": sum(c["em"] for c in cases) / len(cases),
            "f1": sum(c["f1"] for c in cases) / len(cases)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    out = Path(ap.parse_args().out)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(SEED)
    sents = prose_sentences()
    files = {
        "classification.json": classification_cases(rng),
        "correlation.json": correlation_cases(),
        "multirc.json": multirc_cases(rng),
        "record.json": record_cases(rng, sents),
        "rouge.json": rouge_cases(rng, sents),
        "bleu.json": bleu_cases(rng, sents),
    }
    versions = {"sacrebleu": sacrebleu.__version__, "scikit-learn": sklearn.__version__,
                "scipy": scipy.__version__, "numpy": np.__version__}
    for name, data in files.items():
        (out / name).write_text(json.dumps({"versions": versions, "data": data}, ensure_ascii=False))
    print(f"wrote {len(files)} metric fixture files to {out}")


if __name__ == "__main__":
    main()
