#!/usr/bin/env python3
"""Reference token ids from Hugging Face fast tokenizers, for the C++ tokenizer parity tests.

    tokenizer_cases.py --out DIR [--shared-data DIR]

Writes
  DIR/assets/<folder>/          the tokenizer folders the project makes (tokenizer_assets.py), plus variants
                                without tokenizer.json so the vocab.txt / vocab.json+merges.txt / spiece.model
                                loading paths are compared too
  DIR/strings.json              the >= 500 test strings and the pairs built from them
  DIR/<family>.json             per family: model_dir, and for every string (and pair) at max_length none, 16
                                and 128 the ids and type_ids HF returns, plus decode references
  DIR/manifest.json             the families, each with its file, or with "skipped" and the reason (real
                                tokenizers from ../shared/data that are absent)

type_ids are what transformers feeds the model: the tokenizer's token_type_ids when the model takes them
(BERT), zeros otherwise (RoBERTa, T5 have no segment embeddings).
"""
import argparse
import json
import os
import pathlib
import random
import shutil
import sys
import warnings

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import tokenizer_assets  # noqa: E402

MAX_LENGTHS = [0, 16, 128]  # 0 = no truncation


# ----------------------------------------------------------------------------------------------- strings
def edge_strings():
    """Hand-written cases: each names a behaviour a tokenizer can get wrong."""
    s = [
        "", " ", "  ", "\t", "\n", "\r\n", " \t \n ", "a", "A", ".", "...", "a b", "a  b", "a   b   c",
        "  leading spaces", "trailing spaces  ", "\tleading tab", "trailing newline\n", "\n\nblank lines\n\n",
        "tabs\tbetween\twords", "mixed \t\n\r whitespace \u000b\u000c runs", "CRLF\r\nline\r\nbreaks",
        # accents: precomposed, decomposed, stacked, alone
        "café", "cafe\u0301", "naïve résumé", "Crème Brûlée", "ÀÉÎÕÜ àéîõü", "Ångström", "Zoë Saldaña",
        "a\u0300\u0301\u0302\u0303", "\u0301", "\u0301starts with a mark", "São Paulo, Côte d'Ivoire",
        "Dvořák Škoda Łódź", "ﬁnancial ﬂow ﬀ", "Straße STRASSE", "İstanbul ıi İI", "ΣΊΣΥΦΟΣ σοφός",
        "Ὀδυσσεύς", "ǅungla ǈ ǋ", "Å vs A\u030a",
        # CJK, other scripts
        "北京", "我爱北京天安门", "中文 English 混合 text", "日本語のテキスト", "ひらがな カタカナ 漢字",
        "한국어 텍스트", "안녕하세요 세계", "ภาษาไทยไม่มีช่องว่าง", "Русский текст с Ёё", "Ελληνικά κείμενα",
        "עברית מימין לשמאל", "العربية من اليمين", "हिन्दी पाठ", "বাংলা", "தமிழ்", "ქართული", "Հայերեն",
        "𠀀𠀁 extension B", "㐀㐁 extension A", "豈 compatibility", "⺀ radicals ⼀", "〇一二三",
        # emoji
        "🙂", "emoji 🙂 here", "👍🏽 skin tone", "👨‍👩‍👧‍👦 family zwj", "🇩🇪🇫🇷 flags", "❤️ variation selector",
        "🤖🤖🤖", "😀😃😄😁😆😅😂🤣", "©®™ ℠", "☃ ★ ☆ ♠ ♣ ♥ ♦", "#️⃣ keycap",
        # control and invisible characters
        "\u0000null\u0000", "bell\u0007char", "esc\u001b[31mred\u001b[0m", "del\u007fchar", "nel\u0085line",
        "zero\u200bwidth\u200bspace", "zw\u200cnon\u200djoiner", "word\u2060joiner", "\ufeffbom at start",
        "soft\u00adhyphen", "nbsp\u00a0here", "ideographic\u3000space", "line\u2028separator",
        "para\u2029separator", "thin\u2009space\u202fnarrow", "en\u2002em\u2003spaces", "ogham\u1680space",
        "rtl\u200fmark\u200e", "private\ue000use", "unassigned\u0378char", "replacement\ufffdchar",
        "\u0001\u0002\u0003\u0004", "\u001c\u001d\u001e\u001f separators", "\u0600\u06dd arabic format",
        # numbers, urls, code
        "0", "42", "3.14159", "1,000,000", "-12.5e-3", "2024-05-01", "12:30:45", "$1,299.99", "€100 £50 ¥1000",
        "50%", "1st 2nd 3rd 4th", "0x1F 0b1010 0o17", "١٢٣ Arabic-Indic digits", "१२३ Devanagari digits",
        "½ ¼ ¾ ² ³ ¹", "Ⅻ ⅻ roman", "①②③", "123456789012345678901234567890",
        "https://example.com/path?query=1&b=two#frag", "http://localhost:8080/", "user.name+tag@example.org",
        "www.example.co.uk/über", "C:\\Users\\name\\file.txt", "/usr/local/bin/petlab --help",
        "def f(x): return x**2", "if (a && b || !c) { return; }", "<html><body>hi</body></html>",
        "{\"key\": [1, 2, 3]}", "a_b-c.d/e\\f", "SELECT * FROM t WHERE x = 'y';",
        # case and contractions
        "UPPERCASE", "lowercase", "MiXeD CaSe", "camelCaseWord", "PascalCaseWord", "snake_case_word",
        "don't", "DON'T", "I'm you're we've they'll she'd it's", "I'M YOU'RE", "rock 'n' roll",
        "'quoted'", "\"double quoted\"", "“curly” ‘quotes’", "«guillemets»",
        # punctuation
        "Hello, world!", "Wait... what?!", "a--b---c", "—em dash– en dash-", "(parens) [brackets] {braces}",
        "!!!???", "@#$%^&*()", "~`|\\<>", "。、！？", "¿Qué? ¡Sí!", "…", "§ ¶ † ‡ • ‰ ′ ″",
        # tokens that look special
        "[CLS] [SEP] [MASK] [PAD] [UNK]", "Hello [MASK] world", "[mask] lower", "<s> </s> <pad> <unk> <mask>",
        "a <mask> b", "a<mask>b", "  <mask>  ", "hello</s>", "<extra_id_0> fills <extra_id_1>",
        "<extra_id_0>hello", "x <extra_id_99> y", "<extra_id_100> is not special", "[CLS]", "<s>",
        # long words
        # grapheme clusters longer than 5 bytes (SentencePiece's map is applied per cluster by HF)
        "\u1100\u1161\u11a8 conjoining jamo", "क्षत्रिय", "ﾊﾟﾋﾟ halfwidth", "Ａ\u0301 fullwidth + accent",
        "e\u0301\u0301 two accents", "👩🏽‍💻 zwj", "Ｈｅｌｌｏ　Ｗｏｒｌｄ", "㍻ ㎏ ℃ ™ compat",
        "a" * 99, "b" * 100, "c" * 101, "supercalifragilisticexpialidocious", "x" * 300,
        "Pneumonoultramicroscopicsilicovolcanoconiosis",
        "antidisestablishmentarianism" * 5, "é" * 120, "北" * 150, "🙂" * 40,
    ]
    return s


_WORDS = ("the of and to in is that for it as was with be by on not he this are or his from at which but "
          "have an they you were her she there been one all we their has would when if so what up out no "
          "model adapter prefix prompt tuning parameter efficient transformer attention layer rank "
          "Paris London Tokyo New York Berlin Zürich Montréal São Paulo GLUE SuperGLUE T5 BERT RoBERTa "
          "running quickly unbelievable tokenization internationalization preprocessing colour theatre").split()
_SNIPPETS = ["café", "naïve", "北京", "東京大学", "한국어", "🙂", "👍🏽", "\t", "\n", "  ", "...", "!?", "don't",
             "it's", "3.14", "1,000", "$5", "50%", "https://x.org/a?b=c", "e\u0301", "\u200b", "\u00a0",
             "(", ")", "\"", "'", "-", "—", "«", "»", "[MASK]", "<mask>", "</s>", "ﬁ", "²", "Ⅻ", "Straße",
             "İ", "ΣΑΣ", "Ёлка", "שלום", "مرحبا", "ไทย", "\u0007", "\u007f", "\ufeff"]


def generated_strings(n, seed):
    """Random mixtures of words and hard snippets, short to very long (long ones truncate)."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        length = rng.choice([1, 2, 3, 5, 8, 13, 21, 34, 55]) if i % 10 else rng.randint(150, 700)
        parts = []
        for _ in range(length):
            r = rng.random()
            if r < 0.18:
                parts.append(rng.choice(_SNIPPETS))
            elif r < 0.26:
                parts.append(str(rng.randint(0, 10 ** rng.randint(1, 7))))
            else:
                w = rng.choice(_WORDS)
                c = rng.random()
                parts.append(w.upper() if c < 0.05 else w.capitalize() if c < 0.2 else w)
            if rng.random() < 0.12:
                parts[-1] += rng.choice([".", ",", "!", "?", ";", ":", "'s", "n't"])
        sep = rng.choice([" ", " ", " ", "", "  ", "\t", "\n"]) if i % 7 == 0 else " "
        out.append(sep.join(parts))
    return out


def all_strings():
    strings = edge_strings() + generated_strings(400, seed=5)
    rng = random.Random(11)
    pairs = [(rng.randrange(len(strings)), rng.randrange(len(strings))) for _ in range(200)]
    pairs += [(0, 0), (0, 7), (7, 0)]  # empty with empty, empty with text, text with empty
    return strings, pairs


# ----------------------------------------------------------------------------------------------- families
def prepare_assets(root, shared):
    """Returns [(family name, model_dir or None, reason when skipped, loader)]."""
    from transformers import AutoTokenizer, BertTokenizerFast, RobertaTokenizerFast, T5TokenizerFast
    a = root / "assets"
    wordpiece = tokenizer_assets.make_wordpiece(a / "wordpiece")
    bpe = tokenizer_assets.make_byte_level_bpe(a / "bpe")
    spm = tokenizer_assets.make_sentencepiece(a / "spm")

    def subset(src, name, files):
        dst = a / name
        dst.mkdir(parents=True, exist_ok=True)
        for f in files:
            shutil.copyfile(src / f, dst / f)
        return dst

    # The same tokenizers without tokenizer.json, so the legacy files are read (HF converts them too).
    wordpiece_vocab = subset(wordpiece, "wordpiece-vocab-txt", ["vocab.txt", "tokenizer_config.json"])
    bpe_files = subset(bpe, "bpe-vocab-merges", ["vocab.json", "merges.txt"])
    (bpe_files / "config.json").write_text(json.dumps({"model_type": "roberta"}))
    # tokenizer_config.json options the tokenizer classes apply on top of tokenizer.json.
    wordpiece_cased = subset(wordpiece, "wordpiece-cased-config", ["vocab.txt", "tokenizer.json"])
    config = json.loads((wordpiece / "tokenizer_config.json").read_text())
    config.update(do_lower_case=False, strip_accents=False, tokenize_chinese_chars=False)
    (wordpiece_cased / "tokenizer_config.json").write_text(json.dumps(config))
    bpe_prefix = subset(bpe, "bpe-prefix-space", ["vocab.json", "merges.txt", "tokenizer.json"])
    config = json.loads((bpe / "tokenizer_config.json").read_text())
    config.update(add_prefix_space=True)
    (bpe_prefix / "tokenizer_config.json").write_text(json.dumps(config))
    spm_model = subset(spm, "spm-spiece-model", ["spiece.model"])
    (spm_model / "config.json").write_text(json.dumps({"model_type": "t5"}))

    families = [
        ("bert-wordpiece", wordpiece, None, lambda d: AutoTokenizer.from_pretrained(str(d))),
        ("bert-wordpiece-vocab-txt", wordpiece_vocab, None, lambda d: BertTokenizerFast.from_pretrained(str(d))),
        ("bert-wordpiece-cased-config", wordpiece_cased, None, lambda d: AutoTokenizer.from_pretrained(str(d))),
        ("roberta-bpe", bpe, None, lambda d: AutoTokenizer.from_pretrained(str(d))),
        ("roberta-bpe-prefix-space", bpe_prefix, None, lambda d: AutoTokenizer.from_pretrained(str(d))),
        ("roberta-bpe-vocab-merges", bpe_files, None, lambda d: RobertaTokenizerFast.from_pretrained(str(d))),
        ("t5-spm", spm, None, lambda d: AutoTokenizer.from_pretrained(str(d))),
        ("t5-spm-spiece-model", spm_model, None, lambda d: T5TokenizerFast(
            vocab_file=str(d / "spiece.model"), extra_ids=tokenizer_assets.T5_EXTRA_IDS, add_prefix_space=True)),
    ]
    real_t5 = shared / "tokenizers" / "t5"
    real_bert = shared / "tokenizers" / "bert-base-uncased"
    if (real_t5 / "spiece.model").exists() and (real_t5 / "tokenizer.json").exists():
        families.append(("t5-small-real", real_t5, None, lambda d: T5TokenizerFast.from_pretrained(str(d))))
    else:
        families.append(("t5-small-real", None, f"{real_t5} has no spiece.model + tokenizer.json", None))
    if (real_bert / "vocab.txt").exists():
        families.append(("bert-base-uncased-real", real_bert, None,
                         lambda d: BertTokenizerFast.from_pretrained(str(d))))
    else:
        families.append(("bert-base-uncased-real", None, f"{real_bert}/vocab.txt is absent", None))
    return families


def model_takes_type_ids(tok):
    return "token_type_ids" in tok.model_input_names


def encode(tok, text, pair, max_length):
    kwargs = dict(add_special_tokens=True, return_token_type_ids=True)
    if max_length:
        kwargs.update(truncation="longest_first", max_length=max_length)
    if pair is None:
        enc = tok(text, **kwargs)
    else:
        # Pairs go through the batch call, as GLUE-style preprocessing (datasets.map(batched=True)) does:
        # a single call would silently drop an empty second text, the batch call keeps it as a pair.
        enc = {k: v[0] for k, v in tok([text], [pair], **kwargs).items()}
    ids = list(enc["input_ids"])
    types = list(enc["token_type_ids"]) if model_takes_type_ids(tok) else [0] * len(ids)
    return ids, types


def family_reference(tok, strings, pairs):
    cases, decodes = [], []
    inputs = [(s, None) for s in strings] + [(strings[i], strings[j]) for i, j in pairs]
    for text, pair in inputs:
        for max_length in MAX_LENGTHS:
            ids, types = encode(tok, text, pair, max_length)
            cases.append({"text": text, "pair": pair, "max_length": max_length, "ids": ids, "type_ids": types})
            if pair is None and max_length in (0, 16):
                decodes.append({"ids": ids, "skip_special": True,
                                "text": tok.decode(ids, skip_special_tokens=True)})
                decodes.append({"ids": ids, "skip_special": False,
                                "text": tok.decode(ids, skip_special_tokens=False)})
    return {"vocab_size": len(tok), "pad_id": tok.pad_token_id, "cases": cases, "decodes": decodes}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True)
    default_shared = pathlib.Path(__file__).resolve().parents[2].parent / "shared" / "data"
    parser.add_argument("--shared-data", default=str(default_shared))
    args = parser.parse_args()
    import transformers
    transformers.utils.logging.set_verbosity_error()
    warnings.simplefilter("ignore")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

    root = pathlib.Path(args.out)
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    strings, pairs = all_strings()
    (root / "strings.json").write_text(json.dumps({"strings": strings, "pairs": pairs}, ensure_ascii=False))

    manifest = {"strings": len(strings), "pairs": len(pairs), "max_lengths": MAX_LENGTHS, "families": []}
    for name, model_dir, skipped, load in prepare_assets(root, pathlib.Path(args.shared_data)):
        if model_dir is None:
            manifest["families"].append({"name": name, "skipped": skipped})
            print(f"{name}: skipped ({skipped})")
            continue
        tok = load(model_dir)
        ref = family_reference(tok, strings, pairs)
        ref.update(name=name, model_dir=str(model_dir), hf_class=type(tok).__name__)
        (root / f"{name}.json").write_text(json.dumps(ref, ensure_ascii=False))
        manifest["families"].append({"name": name, "model_dir": str(model_dir), "file": f"{name}.json",
                                     "cases": len(ref["cases"]), "decodes": len(ref["decodes"])})
        print(f"{name}: {len(ref['cases'])} encodings, {len(ref['decodes'])} decodes ({type(tok).__name__})")
    (root / "manifest.json").write_text(json.dumps(manifest, indent=1))


if __name__ == "__main__":
    main()
