#!/usr/bin/env python3
"""Writes the quickstart's small sentiment task in SST-2's format (sentence<TAB>label, 1 = positive):
sentiment/train.tsv (480 sentences) and sentiment/dev.tsv (240), from templates, seeded. Under the fair
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
FRAMES = ["{s} is {a}.", "{s} was {a} from start to finish.", "i found {s} {a}.", "honestly, {s} felt {a}.",
          "{s} is {i} {a}.", "what a {a} experience {s} turned out to be.", "{s} seemed {a} to me.",
          "everyone agreed that {s} was {i} {a}."]
INTENSIFIERS = ["really", "truly", "quite", "utterly", "remarkably"]


def sentences(rng, count):
    rows = []
    for _ in range(count):
        label = rng.randrange(2)
        words = POSITIVE if label else NEGATIVE
        text = rng.choice(FRAMES).format(s=rng.choice(SUBJECTS), a=rng.choice(words), i=rng.choice(INTENSIFIERS))
        if rng.random() < 0.25:  # a contrast clause that the model must read past
            other = NEGATIVE if label else POSITIVE
            text = text[:-1] + f", although some parts were {rng.choice(other)}."
        rows.append((text, label))
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
