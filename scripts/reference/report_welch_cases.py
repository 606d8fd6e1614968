#!/usr/bin/env python3
"""Writes the statistics the study report must reproduce, computed by numpy and scipy.

    report_welch_cases.py --out DIR

DIR/welch.json     samples a, b with mean, sample std (ddof=1) of each and scipy.stats.ttest_ind(a, b,
                   equal_var=False): statistic, df, two-sided p-value. Sizes 1..30, equal and unequal
                   variances, tiny and huge differences, constant samples.
DIR/student_t.json scipy.stats.t.cdf(t, df) over integer and fractional df.
DIR/betainc.json   scipy.special.betainc(a, b, x), the regularised incomplete beta.
DIR/quantile.json  numpy.quantile(values, q) with the default (linear) method.

Non-finite numbers are written as the strings "nan", "inf", "-inf" (JSON has no NaN).
The C++ side (host/report/stats.cpp) must agree within 1e-9.
"""
import argparse
import json
import math
import warnings
from pathlib import Path

import numpy as np
import scipy
import scipy.special
import scipy.stats

SEED = 20240611


def number(v):
    v = float(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v


def welch_case(name, a, b):
    a = [float(x) for x in a]
    b = [float(x) for x in b]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # n = 1 and constant samples warn: their NaNs are the point
        r = scipy.stats.ttest_ind(a, b, equal_var=False)
        std_a = np.std(a, ddof=1) if len(a) > 1 else math.nan
        std_b = np.std(b, ddof=1) if len(b) > 1 else math.nan
    return {"name": name, "a": a, "b": b,
            "mean_a": number(np.mean(a)), "std_a": number(std_a),
            "mean_b": number(np.mean(b)), "std_b": number(std_b),
            "t": number(r.statistic), "df": number(r.df), "p": number(r.pvalue)}


def welch_cases(rng):
    cases = []
    # Seed-like score samples: what the report actually compares.
    for i in range(40):
        na, nb = int(rng.integers(2, 21)), int(rng.integers(2, 21))
        mean_b = rng.uniform(0.5, 0.95)
        a = rng.normal(mean_b + rng.normal(0, 0.02), rng.uniform(0.001, 0.05), na)
        b = rng.normal(mean_b, rng.uniform(0.001, 0.05), nb)
        cases.append(welch_case(f"scores-{i}", a, b))
    # Very different variances (fractional df far from na + nb - 2), far apart and nearly equal means.
    for i in range(10):
        a = rng.normal(0, 1e-3, int(rng.integers(2, 6)))
        b = rng.normal(rng.choice([0.0, 1e-4, 0.5]), 10.0, int(rng.integers(5, 31)))
        cases.append(welch_case(f"unequal-{i}", a, b))
    cases.append(welch_case("huge-t", [0.90, 0.9001, 0.8999, 0.90005], [0.10, 0.1001, 0.0999]))
    cases.append(welch_case("tiny-t", [0.5, 0.6, 0.7], [0.5000001, 0.6, 0.7]))
    cases.append(welch_case("equal", [0.8, 0.9, 0.85], [0.8, 0.9, 0.85]))
    cases.append(welch_case("two-each", [0.81, 0.83], [0.79, 0.86]))
    cases.append(welch_case("percent-scale", [88.1, 89.4, 87.9, 90.2, 88.8], [85.0, 86.7, 84.2, 86.1]))
    cases.append(welch_case("one-constant", [0.9, 0.9, 0.9], [0.85, 0.87, 0.86]))
    cases.append(welch_case("both-constant-equal", [0.9, 0.9, 0.9], [0.9, 0.9]))
    cases.append(welch_case("both-constant-apart", [0.9, 0.9, 0.9], [0.8, 0.8]))
    cases.append(welch_case("n1-vs-n3", [0.9], [0.8, 0.85, 0.82]))
    cases.append(welch_case("n3-vs-n1", [0.8, 0.85, 0.82], [0.9]))
    return cases


def student_t_cases():
    out = []
    for df in [1, 2, 3, 4.5, 7.3, 10, 29.9, 100, 1e4]:
        for t in [-40.0, -6.0, -2.5, -1.0, -0.1, 0.0, 1e-6, 0.3, 1.7, 3.2, 8.0, 60.0]:
            out.append({"t": t, "df": df, "cdf": number(scipy.stats.t.cdf(t, df))})
    return out


def betainc_cases():
    out = []
    for a in [0.5, 1.0, 2.5, 10.0, 150.0]:
        for b in [0.5, 1.0, 3.0, 40.0]:
            for x in [0.0, 1e-8, 0.01, 0.2, 0.5, 0.77, 0.99, 1 - 1e-9, 1.0]:
                out.append({"a": a, "b": b, "x": x, "value": number(scipy.special.betainc(a, b, x))})
    return out


def quantile_cases(rng):
    out = []
    for n in [1, 2, 3, 4, 5, 7, 20]:
        values = [float(v) for v in rng.normal(0.8, 0.05, n)]
        for q in [0.0, 0.25, 0.5, 0.75, 1.0]:
            out.append({"values": values, "q": q, "value": float(np.quantile(values, q))})
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    meta = {"scipy": scipy.__version__, "numpy": np.__version__}
    files = {"welch.json": welch_cases(rng), "student_t.json": student_t_cases(),
             "betainc.json": betainc_cases(), "quantile.json": quantile_cases(rng)}
    for name, data in files.items():
        (args.out / name).write_text(json.dumps({"meta": meta, "data": data}, allow_nan=False, indent=1))
    print(f"wrote {', '.join(files)} into {args.out}")


if __name__ == "__main__":
    main()
