#!/usr/bin/env python3
"""bench/compare.py: two loopback runs side by side, ratio per figure, flagged where the change exceeds the
run-to-run noise measured in the same two files.

    compare.py A B [--all] [--peer NAME]... [--json]

A and B: a summary.json (bench/summary.py), a scenario file, or a directory of scenario files (a build's
bench/loopback/). For every scenario and peer in both, and every figure (default: req/s, CPU us per
request, and both ratios to the reference; --all: also usr, sys, p50, p99, RSS), prints A, B, B/A and the
noise: the larger of the two files' spreads of that figure over their reps, (max - min) / median. A change
is flagged (+ better, - worse) when |B/A - 1| exceeds that noise. Where neither file has two reps of a
figure, the noise is the median spread of the same figure over everything else in the two files; where
there is none at all, "?" (a 1-rep run cannot tell change from noise).

Exit status 0; with --strict, 1 when a sentinel figure is flagged worse. Python standard library only.
"""
import argparse
import json
import os
import statistics
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchfmt  # noqa: E402

DEFAULT_FIGURES = ["rps", "x_rps", "cpu_us_per_req", "x_cpu"]
ALL_FIGURES = DEFAULT_FIGURES + ["user_us_per_req", "sys_us_per_req", "p50_us", "p99_us", "rss_kib"]


def index(docs):
    out = {}
    for d in docs:
        if d.get("status") != "ok":
            continue
        for p in d["peers"]:
            if p.get("figures"):
                out[(d["scenario"]["name"], p["peer"])] = dict(p, is_reference=p["peer"] == d["scenario"]["reference"])
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--all", action="store_true", help="every figure, not only req/s and CPU per request")
    ap.add_argument("--peer", action="append", default=[], help="only these peers")
    ap.add_argument("--json", action="store_true", help="print the comparison as JSON")
    ap.add_argument("--strict", action="store_true", help="exit 1 when a sentinel figure is flagged worse")
    args = ap.parse_args()
    da, db = benchfmt.load(args.a), benchfmt.load(args.b)
    ia, ib = index(da), index(db)
    figures = ALL_FIGURES if args.all else DEFAULT_FIGURES

    # The fallback noise per figure: the median spread over every peer and scenario of both files.
    pooled = {}
    for i in (ia, ib):
        for p in i.values():
            for f in figures:
                s = benchfmt.spread(p, f)
                if s is not None:
                    pooled.setdefault(f, []).append(s)
    pooled = {f: statistics.median(v) for f, v in pooled.items()}

    rows, worse_sentinel = [], False
    keys = [k for k in ia if k in ib and (not args.peer or k[1] in args.peer)]
    for key in keys:
        pa, pb = ia[key], ib[key]
        for f in figures:
            if f.startswith("x_") and (pa["is_reference"] or pb["is_reference"]):
                continue  # 1 by definition
            va, vb = benchfmt.fig(pa, f), benchfmt.fig(pb, f)
            if va is None or vb is None or va == 0:
                continue
            ratio = vb / va
            sa, sb = benchfmt.spread(pa, f), benchfmt.spread(pb, f)
            own = [s for s in (sa, sb) if s is not None]
            noise, source = (max(own), "reps") if own else (pooled.get(f), "pooled")
            if noise is None:
                flag = "?"
            elif abs(ratio - 1) <= noise:
                flag = ""
            else:
                better = (ratio > 1) == (benchfmt.HEADLINE[f] == "higher")
                flag = "+ better" if better else "- WORSE"
                if not better and key[1].startswith("sentinel"):
                    worse_sentinel = True
            rows.append(dict(scenario=key[0], peer=key[1], figure=f, a=va, b=vb, ratio=round(ratio, 4),
                             noise=None if noise is None else round(noise, 4), noise_from=source, flag=flag))

    only_a = sorted(set(ia) - set(ib))
    only_b = sorted(set(ib) - set(ia))
    if args.json:
        json.dump(dict(a=args.a, b=args.b, rows=rows, only_in_a=only_a, only_in_b=only_b), sys.stdout, indent=1)
        print()
    else:
        commit = lambda docs: next((d["environment"].get("commit") for d in docs  # noqa: E731
                                    if d.get("status") == "ok"), None) or "?"
        print(f"A: {args.a} (commit {commit(da)})\nB: {args.b} (commit {commit(db)})")
        print("B/A per figure; noise = the larger spread (max-min)/median over the reps of A and B "
              "(pooled: the median spread of that figure in both files); flagged where |B/A - 1| > noise\n")
        head = f"{'scenario':15} {'peer':15} {'figure':15} {'A':>11} {'B':>11} {'B/A':>7} {'noise':>12}  flag"
        print(head)
        prev = None
        for r in rows:
            if prev and prev != (r["scenario"], r["peer"]):
                if prev[0] != r["scenario"]:
                    print()
            prev = (r["scenario"], r["peer"])
            noise = "?" if r["noise"] is None else f"{100 * r['noise']:.1f}%" + (
                "" if r["noise_from"] == "reps" else " pooled")
            print(f"{r['scenario']:15} {r['peer']:15} {r['figure']:15} {fmt(r['a']):>11} {fmt(r['b']):>11} "
                  f"{r['ratio']:7.3f} {noise:>12}  {r['flag']}")
        for name, only in (("A", only_a), ("B", only_b)):
            if only:
                print(f"\nonly in {name}: " + ", ".join(f"{s}/{p}" for s, p in only))
        flagged = sum(1 for r in rows if r["flag"] and r["flag"] != "?")
        print(f"\n{len(rows)} figures compared, {flagged} flagged")
    return 1 if args.strict and worse_sentinel else 0


def fmt(v):
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3f}"


if __name__ == "__main__":
    sys.exit(main())
