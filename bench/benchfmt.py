"""bench/benchfmt.py: the loopback results format, shared by bench/loopback/harness.py (writes it),
bench/summary.py (merges and prints it), bench/report.py (writes RESULTS.md from it) and bench/compare.py.

The format is stable: new keys may be added, existing ones keep their names and meaning; a change that
breaks readers bumps FORMAT. Python standard library only.

One scenario file (harness.py writes DIR/<scenario>.json):
  {"format": FORMAT, "kind": "scenario", "status": "ok" | "skip", "reason": "..." (skip),
   "started", "finished": ISO 8601 with offset,
   "scenario": {"name", "question", "path", "connections", "requests", "wrk_seconds", "rate", "body_bytes",
                "response_bytes", "reference", "reps", "quick"},
   "environment": {"machine": {...}, "versions": {...}, "commit", "command", "pinning": {...},
                   "nginx": {...}, "quiet": {...}, "loadavg": [1, 5, 15 min]},
   "peers": [{"peer", "what", "status": "ok" | "invalid" | "failed" | "n/a" | "skip", "reason",
              "runs": [{"rep", "command", "exit", "valid", "requests", "ok", "errors", "rps",
                        "cpu_us_per_req", "user_us_per_req", "sys_us_per_req", "p50_us", "p99_us", "rss_kib",
                        "conns_opened", "server_requests", "wall_s", "client_cpu_pct", "server_cpu_pct",
                        "other_cpu_pct", "quiet", "waited_s", "other_pct_before", "note"}],
              "figures": {FIGURE: {"median", "min", "max", "n"}},   (over the valid runs)
              "quiet_runs", "valid_runs", "errors"}]}
A summary file (summary.py writes DIR/summary.json): {"format", "kind": "summary", "generated",
"environment" (of the newest scenario), "scenarios": [scenario files, in SCENARIO_ORDER]}.

FIGURES: the per-run numbers above, plus x_rps (req/s / the reference's req/s) and x_cpu (CPU per request /
the reference's), each computed within one rep, so that slow drifts of a noisy machine cancel.
"""

import datetime
import json
import os
import statistics

FORMAT = "sentinel-bench-loopback/1"
SCENARIO_ORDER = ["hello_c64", "4k_c64", "1m_c64", "chunked4k_c64", "hello_c10k", "seed_c100x100",
                  "rate12k8_c64"]
RUN_FIGURES = ["rps", "cpu_us_per_req", "user_us_per_req", "sys_us_per_req", "p50_us", "p99_us", "rss_kib",
               "conns_opened", "server_requests", "wall_s", "client_cpu_pct", "server_cpu_pct", "other_cpu_pct"]
RATIO_FIGURES = ["x_rps", "x_cpu"]
# What compare.py compares, and which way is better.
HEADLINE = {"rps": "higher", "x_rps": "higher", "cpu_us_per_req": "lower", "x_cpu": "lower",
            "user_us_per_req": "lower", "sys_us_per_req": "lower", "p50_us": "lower", "p99_us": "lower",
            "rss_kib": "lower"}


def scenario_doc(**kw):
    doc = {"format": FORMAT, "kind": "scenario"}
    doc.update(kw)
    return doc


def stat(values):
    v = [x for x in values if isinstance(x, (int, float))]
    if not v:
        return None
    return {"median": round(statistics.median(v), 3), "min": min(v), "max": max(v), "n": len(v)}


def finish_scenario(doc):
    """Fills each peer's status, figures and ratios from its runs (in place)."""
    ref_name = doc["scenario"]["reference"]
    ref = next((p for p in doc["peers"] if p["peer"] == ref_name), None)
    ref_by_rep = {r["rep"]: r for r in (ref["runs"] if ref else []) if r.get("valid")}
    for p in doc["peers"]:
        if p.get("status") in ("n/a", "skip"):
            continue
        runs = p["runs"]
        valid = [r for r in runs if r.get("valid")]
        with_result = [r for r in runs if r.get("ok")]
        use = valid or with_result
        if not runs or not with_result:
            p["status"] = "failed"
            first = runs[0] if runs else {}
            p["reason"] = first.get("note") or "no result"
        else:
            p["status"] = "ok" if len(valid) == len(runs) else "invalid"
            if p["status"] == "invalid":
                bad = next(r for r in runs if not r.get("valid"))
                p["reason"] = f"{len(runs) - len(valid)} of {len(runs)} runs had errors: " + (
                    bad.get("note") or f"{bad.get('errors')} errors")
        figs = {f: stat(r.get(f) for r in use) for f in RUN_FIGURES}
        xr, xc = [], []
        for r in valid:
            rr = ref_by_rep.get(r["rep"])
            if rr and rr.get("rps") and rr.get("cpu_us_per_req") and r.get("cpu_us_per_req"):
                xr.append(r["rps"] / rr["rps"])
                xc.append(r["cpu_us_per_req"] / rr["cpu_us_per_req"])
        figs["x_rps"], figs["x_cpu"] = stat(xr), stat(xc)
        p["figures"] = {k: v for k, v in figs.items() if v is not None}
        p["valid_runs"] = len(valid)
        p["quiet_runs"] = sum(1 for r in runs if r.get("quiet"))
        p["errors"] = sum(r.get("errors") or 0 for r in runs)
    return doc


# ---- reading ------------------------------------------------------------------------------------------------

def load(path):
    """A summary, a scenario file, or a directory of scenario files -> list of scenario docs (ordered)."""
    if os.path.isdir(path):
        s = os.path.join(path, "summary.json")
        docs = []
        for name in sorted(os.listdir(path)):
            if name.endswith(".json") and name != "summary.json":
                with open(os.path.join(path, name)) as f:
                    d = json.load(f)
                if d.get("format") == FORMAT and d.get("kind") == "scenario":
                    docs.append(d)
        if not docs and os.path.exists(s):
            return load(s)
        return order(docs)
    with open(path) as f:
        d = json.load(f)
    if d.get("format") != FORMAT:
        raise ValueError(f"{path}: not a {FORMAT} file (format {d.get('format')!r})")
    return order(d["scenarios"] if d.get("kind") == "summary" else [d])


def order(docs):
    rank = {n: i for i, n in enumerate(SCENARIO_ORDER)}
    return sorted(docs, key=lambda d: (rank.get(d["scenario"]["name"], len(rank)), d["scenario"]["name"]))


def fig(peer, name, key="median"):
    f = peer.get("figures", {}).get(name)
    return f[key] if f else None


def spread(peer, name):
    """(max - min) / median of a figure over the valid runs, or None with fewer than two."""
    f = peer.get("figures", {}).get(name)
    if not f or f["n"] < 2 or not f["median"]:
        return None
    return (f["max"] - f["min"]) / abs(f["median"])


# ---- text ---------------------------------------------------------------------------------------------------

def num(v, digits=0):
    if v is None:
        return "-"
    if digits == 0:
        return f"{v:,.0f}"
    return f"{v:,.{digits}f}"


def cpu(v):
    if v is None:
        return "-"
    return f"{v:.2f}" if v < 100 else f"{v:,.0f}"


def run_line(scenario, rep, reps, peer, run):
    if not run.get("ok"):
        return f"[{scenario} {rep}/{reps}] {peer:15} FAILED: {run.get('note')}"
    q = "quiet" if run.get("quiet") else f"busy (other {run.get('other_pct_before')}% before)"
    s = (f"[{scenario} {rep}/{reps}] {peer:15} {num(run.get('rps')):>9} req/s  cpu/req {cpu(run.get('cpu_us_per_req')):>7}"
         f" us ({cpu(run.get('user_us_per_req'))} usr + {cpu(run.get('sys_us_per_req'))} sys)"
         f"  nginx {num(run.get('server_cpu_pct'))}%  other {num(run.get('other_cpu_pct'))}%  {q}")
    if not run.get("valid"):
        s += f"  INVALID: {run.get('errors')} errors {run.get('note') or ''}"
    elif run.get("note"):
        s += f"  ({run['note']})"
    return s


COLUMNS = [("scenario", "<"), ("peer", "<"), ("req/s", ">"), ("x_ref", ">"), ("cpu/req", ">"), ("x_ref", ">"),
           ("usr", ">"), ("sys", ">"), ("+-", ">"), ("p50_us", ">"), ("p99_us", ">"), ("rss_KiB", ">"),
           ("conns", ">"), ("srv%", ">"), ("quiet", ">"), ("note", "<")]
LEGEND = """req/s: as the client reports it; x_ref: ratio to the reference client in the same rep (wrk; h2load for
seed_c100x100 and rate12k8_c64, which wrk cannot express), median over reps; cpu/req: the client's user +
system CPU us per completed request (usr, sys: the two parts) -- the figure that ranks clients, since one
nginx core is the ceiling (srv% near 100: nginx was the bottleneck, not the client); +-: spread of cpu/req
over the reps, (max - min) / median; p50/p99: latency as the client reports it (- : it does not);
conns: connections nginx accepted; quiet: runs that started on a quiet machine."""


def rows(docs):
    out = []
    for d in docs:
        name = d["scenario"]["name"]
        if d.get("status") == "skip":
            out.append([name, "(all)"] + ["-"] * 13 + ["SKIP: " + d.get("reason", "")])
            continue
        for p in d["peers"]:
            st = p.get("status")
            if st in ("n/a", "skip", "failed"):
                label = {"n/a": "n/a: ", "skip": "SKIP: ", "failed": "FAILED: "}[st]
                out.append([name, p["peer"]] + ["-"] * 13 + [label + (p.get("reason") or "")])
                continue
            sp = spread(p, "cpu_us_per_req")
            runs = len(p["runs"])
            note = "INVALID: " + p.get("reason", "") if st == "invalid" else ""
            out.append([name, p["peer"], num(fig(p, "rps")), num(fig(p, "x_rps"), 2), cpu(fig(p, "cpu_us_per_req")),
                        num(fig(p, "x_cpu"), 2), cpu(fig(p, "user_us_per_req")), cpu(fig(p, "sys_us_per_req")),
                        "-" if sp is None else f"{100 * sp:.0f}%", num(fig(p, "p50_us")), num(fig(p, "p99_us")),
                        num(fig(p, "rss_kib")), num(fig(p, "conns_opened")), num(fig(p, "server_cpu_pct")),
                        f"{p.get('quiet_runs', 0)}/{runs}", note])
    return out


def table(docs, legend=False):
    body = rows(docs)
    widths = [max([len(c[0])] + [len(r[i]) for r in body]) for i, c in enumerate(COLUMNS[:-1])]
    lines = []
    fmt = lambda cells: "  ".join(  # noqa: E731
        (f"{c:{a}{w}}" for c, (_, a), w in zip(cells, COLUMNS, widths))) + ("  " + cells[-1] if cells[-1] else "")
    lines.append(fmt([c[0] for c in COLUMNS[:-1]] + ["note"]).rstrip())
    prev = None
    for r in body:
        if prev is not None and r[0] != prev:
            lines.append("")
        prev = r[0]
        lines.append(fmt(r).rstrip())
    if legend:
        lines += ["", LEGEND]
    return "\n".join(lines)


def environment_lines(docs):
    """Who, where, what: from the newest scenario that ran."""
    ran = [d for d in docs if d.get("status") == "ok"]
    if not ran:
        return ["no scenario ran"]
    d = max(ran, key=lambda d: d["finished"])
    e = d["environment"]
    m, v = e["machine"], e["versions"]
    lines = [
        f"commit {e.get('commit') or 'unknown'}, {d['finished']}; {m['os']}, kernel {m['kernel']}, "
        f"{m['cpus']} CPUs ({m['cpu_model']}), {m['mem_gib']} GiB",
        e["pinning"]["note"] + f"; nginx {v.get('nginx', '?')}, 1 worker",
        "clients: " + ", ".join(f"{k} {v[k]}" for k in ("wrk", "h2load", "ab", "beast", "libcurl") if k in v),
    ]
    quiet = sum(p.get("quiet_runs", 0) for x in ran for p in x["peers"])
    total = sum(len(p.get("runs", [])) for x in ran for p in x["peers"])
    thr = e["quiet"]["threshold_pct"]
    reps = sorted({x["scenario"]["reps"] for x in ran})
    lines.append(f"medians of {'/'.join(map(str, reps))} rep(s); quiet machine (other processes < {thr:g}% of a "
                 f"CPU before the run) for {quiet} of {total} runs"
                 + ("" if quiet == total else " -- NOISY: compare ratios within this run, not absolute figures"))
    newest = datetime.datetime.fromisoformat(d["finished"])
    old = [x["scenario"]["name"] + " (" + x["finished"] + ")" for x in docs
           if newest - datetime.datetime.fromisoformat(x["finished"]) > datetime.timedelta(hours=2)]
    if old:
        lines.append("OLD, from an earlier run: " + ", ".join(old))
    return lines
