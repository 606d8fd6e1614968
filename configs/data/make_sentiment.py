#!/usr/bin/env python3
"""Writes the quickstart's small sentiment task in SST-2's format (sentence<TAB>label, 1 = positive):
sentiment/train.tsv (480 sentences) and sentiment/dev.tsv (240), from templates, seeded: plain statements,
negations and contrasts, so that a model must read more than the sentiment words. Under the fair
protocol petlab carves its dev set from train.tsv and tests once on dev.tsv.

    python3 configs/data/make_sentiment.py     # rewrites the files (they are committed)
"""
import pathlib
import random

SUBJECTS = ["the film", "this movie", "the plot", "the acting", "the soundtrack", "the ending", "the script",
            "the director's latest work", "the cast", "the story", "the dialogue", "the cinematography"]
POSITIVE = ["wonderful", "moving", "brilliant", "delightful", "gripping", "charming", "superb", "heartfelt",
            "funny", "beautiful", "clever", "touching"]
NEGATIVE = ["dull", "tedious", "clumsy", "boring", "lifeless", "awful", "predictable", "messy", "shallow",
            "tiresome", "forgettable", "painful"]
PLAIN = ["{s} is {a}.", "{s} was {a} from start to finish.", "i found {s} {a}.", "honestly, {s} felt {a}.",
         "{s} is {i} {a}.", "what a {a} experience {s} turned out to be.", "{s} seemed {a} to me."]
# Negation flips the adjective's polarity: a bag of sentiment words is no longer enough.
NEGATED = ["{s} is not {a}.", "{s} was not {i} {a}.", "i would not call {s} {a}.", "nobody thought {s} was {a}.",
           "{s} never felt {a}."]
# Contrast: the clause after "but" (or the main clause after "although") carries the label; the other one has
# the opposite polarity, so the model must read the sentence's structure.
CONTRAST = ["{s} seemed {b} at first, but it turned out {a}.", "although {s} was {b} in places, it was {i} {a} overall.",
            "some call {s} {b}, but i found it {a}.", "{s} starts {b}, yet the whole is {a}."]
INTENSIFIERS = ["really", "truly", "quite", "utterly", "remarkably"]


def sentence(rng, label):
    """One sentence whose sentiment is `label` (1 = positive)."""
    words, others = (POSITIVE, NEGATIVE) if label else (NEGATIVE, POSITIVE)
    kind = rng.random()
    fill = dict(s=rng.choice(SUBJECTS), i=rng.choice(INTENSIFIERS))
    if kind < 0.4:
        return rng.choice(PLAIN).format(a=rng.choice(words), **fill)
    if kind < 0.7:
        return rng.choice(NEGATED).format(a=rng.choice(others), **fill)
    return rng.choice(CONTRAST).format(a=rng.choice(words), b=rng.choice(others), **fill)


def sentences(rng, count):
    rows = []
    for _ in range(count):
        label = rng.randrange(2)
        rows.append((sentence(rng, label), label))
    return rows


def write(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        f.write("sentence\tlabel\n")
        for text, label in rows:
            f.write(f"{text}\t{label}\n")


def main():
    out = pathlib.Path(__file__).resolve().parent / "sentiment"
    out.mkdir(exist_ok=True)
    rng = random.Random(20261123)
    write(out / "train.tsv", sentences(rng, 480))
    write(out / "dev.tsv", sentences(rng, 240))


if __name__ == "__main__":
    main()
