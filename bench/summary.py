#!/usr/bin/env python3
"""bench/summary.py: one table of every loopback scenario that ran, with ratios to wrk.

    summary.py DIR [--title TITLE]

Reads DIR/<scenario>.json (written by bench/loopback/harness.py), writes DIR/summary.json (the stable,
machine-readable form: bench/benchfmt.py) and DIR/summary.txt (the table below), and prints the table.
`meson test --benchmark` runs it last (benchmark loopback_summary). Exit 77 (SKIP) when DIR holds no
results. Python standard library only.
"""
import argparse
import datetime
import json
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchfmt  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dir")
    ap.add_argument("--title", default="sentinel beside wrk and other HTTP/1.1 clients (bench/loopback)")
    args = ap.parse_args()
    docs = benchfmt.load(args.dir) if os.path.isdir(args.dir) else []
    docs = [d for d in docs if d.get("kind") == "scenario"]
    if not docs:
        print(f"SKIP: no loopback results in {args.dir} (run the loopback benchmarks first)")
        return 77
    text = "\n".join(["== " + args.title + " =="] + benchfmt.environment_lines(docs) + [""]
                     + [benchfmt.table(docs, legend=True)])
    print(text)
    summary = {"format": benchfmt.FORMAT, "kind": "summary",
               "generated": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
               "scenarios": docs}
    tmp = os.path.join(args.dir, "summary.json.tmp")
    with open(tmp, "w") as f:
        json.dump(summary, f, indent=1)
        f.write("\n")
    os.replace(tmp, os.path.join(args.dir, "summary.json"))
    with open(os.path.join(args.dir, "summary.txt"), "w") as f:
        f.write(text + "\n")
    print(f"\njson: {os.path.join(args.dir, 'summary.json')}  text: {os.path.join(args.dir, 'summary.txt')}")
    print("compare two runs: bench/compare.py OLD/summary.json NEW/summary.json; "
          "RESULTS.md: bench/report.py " + os.path.join(args.dir, "summary.json"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
