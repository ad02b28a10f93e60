#!/usr/bin/env python3
"""bench/loopback/harness.py: sentinel beside wrk and the other HTTP/1.1 clients, against one nginx.

    harness.py run --out DIR [--quick] [--reps N] [--scenario NAME]... [--peer NAME]...
                   [--native NAME PATH]... [--missing NAME REASON]... [--sentinel-cli PATH]
                   [--launcher PATH] [--source-root DIR] [--quiet-pct P] [--quiet-max S] [--quiet-budget S]
    harness.py list                      # the scenarios and peers, with their parameters

`meson test --benchmark` runs it once per scenario (bench/loopback/meson.build) and bench/summary.py
prints the table of all of them at the end. See bench/README.md for what is measured and how.

What one `run` does, for each scenario asked for:
  * starts its own nginx (nginx.conf.in beside this file: 1 worker, 127.0.0.1 only, a free port, a
    temporary prefix) pinned to the first CPU this process may use (taskset -c), and runs every client
    pinned to the second (launch.cpp sets the affinity; the commands are recorded as the equivalent
    `taskset -c`); on a single-CPU machine both run unpinned, and the output says so;
  * checks each URL once (status, length, chunked framing), and measures the exact size of one response;
  * runs every peer N times (reps), interleaved: rep 1 of every peer, then rep 2, ...; before each run it
    waits, bounded, for a quiet second (other processes' CPU below a threshold) and records whether it got
    one;
  * per run: the client's user and system CPU time (launch.cpp's wait4() of the client alone), divided by
    the requests completed OK; its peak RSS; req/s as the client reports it; p50/p99 where the client reports them; the
    connections and requests nginx counted (stub_status); nginx's own CPU; the rest of the machine's CPU;
  * per peer: medians over the valid reps, min and max, and the ratio to the reference peer of the same
    rep (wrk; h2load where wrk cannot express the scenario);
  * writes DIR/<scenario>.json (format "sentinel-bench-loopback/1", read by summary.py, report.py and
    compare.py) and prints the scenario's table.

Exit status: 0 when sentinel's runs were all valid, 1 when one of sentinel's runs had an error (or the
harness itself failed), 77 when the scenario cannot run here (nginx or the reference client missing, too
few file descriptors): Meson reports 77 as SKIP. Every client run is bounded (killed after its timeout).
"""

import argparse
import datetime
import http.client
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(HERE))
import benchfmt  # noqa: E402  (bench/benchfmt.py: the JSON format and the table, shared with the scripts)

SKIP = 77
HZ = os.sysconf("SC_CLK_TCK")
DEPS_HINT = "tools/deps.sh bench installs it"


# ---- scenarios ----------------------------------------------------------------------------------------

class Scenario:
    def __init__(self, name, path, connections, requests, seconds, body, rate=0, reference="wrk",
                 quick=None, question="", timeout=120, streams=0):
        self.name, self.path, self.connections, self.requests = name, path, connections, requests
        self.streams = streams      # HTTP/2 (h2c by prior knowledge) with this many streams per connection
        self.seconds = seconds      # for duration-only clients (wrk); 0: not expressible by them
        self.body, self.rate, self.reference, self.question = body, rate, reference, question
        self.quick = quick          # (requests, seconds) for --quick, or None: not in the quick run
        self.timeout = timeout      # s, after which a client run is killed (and invalid)

    def params(self, quick):
        """(requests, wrk seconds) for a full or a quick run (a scenario outside the quick set, asked for
        with --quick, runs a tenth of its requests)."""
        if quick:
            requests, seconds = self.quick or (max(self.requests // 10, 10 * self.connections), 1)
        else:
            requests, seconds = self.requests, self.seconds
        return requests, (seconds if self.seconds else 0)


# Closed loop (one request in flight per connection) unless a rate is given. Request counts are chosen so
# that a run takes 1-4 s here; wrk, which only stops after a duration, runs for `seconds`.
SCENARIOS = [
    Scenario("hello_c64", "/hello", 64, 150_000, 3, 13, quick=(30_000, 1),
             question="the request path with a 13-byte body: per-request overhead"),
    Scenario("4k_c64", "/4k", 64, 150_000, 3, 4096, quick=(30_000, 1),
             question="a 4 KiB body with Content-Length"),
    Scenario("1m_c64", "/1m", 64, 3_000, 3, 1 << 20,
             question="1 MiB bodies: read buffer sizing and copies"),
    Scenario("chunked4k_c64", "/chunked", 64, 100_000, 3, 4096,
             question="the same 4 KiB, Transfer-Encoding: chunked"),
    Scenario("hello_c10k", "/hello", 10_000, 20_000, 3, 13, timeout=240,
             question="10,000 connections: connection setup and per-connection state"),
    Scenario("seed_c100x100", "/hello", 100, 10_000, 0, 13, reference="h2load",
             question="the seed's shape: 100 connections x 100 requests, a fresh process"),
    Scenario("rate12k8_c64", "/hello", 64, 38_400, 0, 13, rate=12_800, reference="h2load",
             question="a fixed rate of 12,800 req/s over 64 connections: the cost of being idle"),
    # HTTP/2 (h2c by prior knowledge to nginx's second listener): h2load's -c and -m.
    Scenario("h2_hello_c1x64", "/hello", 1, 150_000, 0, 13, reference="h2load", streams=64,
             question="HTTP/2: 64 streams on one connection (h2load -c1 -m64)"),
    Scenario("h2_seed_c1x100", "/hello", 1, 10_000, 0, 13, reference="h2load", streams=100,
             question="HTTP/2: the seed's 10,000 requests as 100 streams on one connection (vs seed_c100x100)"),
    Scenario("h2_1m_c64x1", "/1m", 64, 3_000, 0, 1 << 20, reference="h2load", streams=1,
             question="HTTP/2: 1 MiB bodies over 64 connections, one stream each (vs 1m_c64)"),
]
SCENARIO_BY_NAME = {s.name: s for s in SCENARIOS}
QUICK_SCENARIOS = [s.name for s in SCENARIOS if s.quick]


# ---- peers ----------------------------------------------------------------------------------------------

class Peer:
    """One client. kind: 'wrk' | 'h2load' | 'ab' | 'native' | 'sentinel-bench'."""

    def __init__(self, name, kind, what, program=None, missing=None):
        self.name, self.kind, self.what = name, kind, what
        self.program = program      # path or command name
        self.missing = missing      # why it cannot run here (None: it can)

    def command(self, sc, url, requests, seconds):
        """argv for this scenario, or None when the client cannot express it (with the reason)."""
        c, rate = sc.connections, sc.rate
        if sc.streams and self.kind in ("wrk", "ab", "native"):
            return None, f"{self.name} speaks HTTP/1.1 only"
        if self.kind == "wrk":
            if rate:
                return None, "wrk has no rate limit (that is wrk2, not in Debian)"
            if not seconds:
                return None, "wrk stops after a duration, not after a request count"
            return [self.program, "-t1", f"-c{c}", f"-d{seconds}s", "--timeout", "10s",
                    "-s", os.path.join(HERE, "wrk_report.lua"), url], None
        if self.kind == "h2load":
            argv = [self.program] + ([f"-m{sc.streams}"] if sc.streams else ["--h1"]) + \
                ["-t1", f"-c{c}", f"-n{requests}"]
            if rate:
                if rate % c:
                    return None, "h2load's --rps is per connection: the rate must divide evenly"
                argv.append(f"--rps={rate // c}")
            return argv + [url], None
        if self.kind == "ab":
            if rate:
                return None, "ab has no rate limit"
            if sc.path == "/chunked":
                return None, "ab cannot read chunked responses on a keep-alive connection"
            return [self.program, "-k", "-q", "-s", "30", "-c", str(c), "-n", str(requests), url], None
        if self.kind == "native":
            argv = [self.program, url, str(c), str(requests), str(sc.body)]
            return argv + ([str(rate)] if rate else []), None
        if self.kind == "sentinel-bench":
            argv = [self.program, "bench", "-w", "1", "-c", str(c), "-n", str(requests), "--timeout", "30",
                    "--json"] + (["--http2", "--streams", str(sc.streams)] if sc.streams else [])
            return argv + (["--rate", str(rate)] if rate else []) + [url], None
        raise ValueError(self.kind)


def tool_peer(name, kind, what, package):
    path = shutil.which(name)
    return Peer(name, kind, what, path, None if path else f"{name} is not installed ({package}; {DEPS_HINT})")


def make_peers(args):
    peers = [
        tool_peer("wrk", "wrk", "wrk 4 (C, epoll, one thread)", "wrk"),
        tool_peer("h2load", "h2load", "nghttp2's h2load in HTTP/1.1 mode, one thread", "nghttp2-client"),
        tool_peer("ab", "ab", "ApacheBench with keep-alive", "apache2-utils"),
    ]
    natives = dict(args.native)
    missing = dict(args.missing)
    described = {
        "beast": "Boost.Beast, C++20 coroutines, one thread (beast_peer.cpp)",
        "libcurl": "libcurl multi, event API on epoll, one thread (curl_peer.cpp)",
        "sentinel": "sentinel http_client, one thread, one coroutine per connection (sentinel_peer.cpp)",
    }
    for name in ["beast", "libcurl", "sentinel"] + sorted((set(natives) | set(missing)) - set(described)):
        what = described.get(name, f"native peer {name}")
        if name in natives and os.access(natives[name], os.X_OK):
            peers.append(Peer(name, "native", what, natives[name]))
        elif name in missing or name in natives:
            peers.append(Peer(name, "native", what,
                              missing=missing.get(name, f"{natives.get(name)} is not executable")))
    if args.sentinel_cli:
        ok = os.access(args.sentinel_cli, os.X_OK)
        peers.append(Peer("sentinel-bench", "sentinel-bench", "the sentinel tool: sentinel bench -w 1",
                          args.sentinel_cli if ok else None,
                          None if ok else f"{args.sentinel_cli} is not executable"))
    else:
        peers.append(Peer("sentinel-bench", "sentinel-bench", "the sentinel tool: sentinel bench -w 1",
                          missing="the sentinel tool was not built (-Dtools=false)"))
    if args.peer:
        unknown = set(args.peer) - {p.name for p in peers}
        if unknown:
            sys.exit(f"harness: unknown peer(s): {', '.join(sorted(unknown))}")
        peers = [p for p in peers if p.name in args.peer]
    return peers


# ---- output parsers: each returns dict(requests, ok, errors, rps, p50_us, p99_us, bytes, note) --------

def parse_wrk(out, resp_bytes, sc):
    m = re.search(r"^WRK (.*)$", out, re.M)
    if not m:
        return None
    v = {k: int(x) for k, x in (kv.split("=") for kv in m.group(1).split())}
    errors = v["connect"] + v["read"] + v["write"] + v["status"] + v["timeout"]
    r = dict(requests=v["requests"], ok=v["requests"] - v["status"], errors=errors,
             rps=v["requests"] / (v["duration_us"] / 1e6) if v["duration_us"] else 0,
             p50_us=v["p50_us"], p99_us=v["p99_us"], note="")
    # wrk counts bytes, not bodies: every response of a scenario has the same size (measured beforehand);
    # the last bytes read may belong to replies that were still incomplete when the time was up.
    if v["requests"] and resp_bytes:
        per = v["bytes"] / v["requests"]
        if not resp_bytes <= per < resp_bytes * 1.02 + 64:
            r["errors"] += 1
            r["note"] = f"{per:.0f} bytes per response, expected {resp_bytes}"
    return r


def parse_h2load(out, resp_bytes, sc):
    fin = re.search(r"^finished in [^,]+, ([\d.]+) req/s", out, re.M)
    req = re.search(r"^requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, "
                    r"(\d+) errored, (\d+) timeout", out, re.M)
    codes = re.search(r"^status codes: (\d+) 2xx", out, re.M)
    data = re.search(r"^traffic: .*?\((\d+)\) data", out, re.M)
    mean = re.search(r"^time for request:\s+\S+\s+\S+\s+(\S+)", out, re.M)
    if not (fin and req and codes):
        return None
    total, _, done, succeeded, failed, errored, timeout = map(int, req.groups())
    ok = int(codes.group(1))
    r = dict(requests=done, ok=ok, errors=failed + errored + timeout + (done - ok) + (total - done),
             rps=float(fin.group(1)), p50_us=None, p99_us=None, note="")
    if mean:
        r["mean_us"] = duration_us(mean.group(1))
    if data and succeeded and int(data.group(1)) != succeeded * sc.body:
        r["errors"] += 1
        r["note"] = f"{int(data.group(1)) / succeeded:.0f} body bytes per response, expected {sc.body}"
    return r


def parse_ab(out, resp_bytes, sc):
    def num(label):
        m = re.search(rf"^{label}:\s+([\d.]+)", out, re.M)
        return float(m.group(1)) if m else None
    done, rps = num("Complete requests"), num("Requests per second")
    if done is None or rps is None:
        return None
    failed, non2xx, doclen = num("Failed requests") or 0, num("Non-2xx responses") or 0, num("Document Length")
    keepalive = num("Keep-Alive requests") or 0
    r = dict(requests=int(done), ok=int(done - failed - non2xx), errors=int(failed + non2xx), rps=rps,
             p50_us=None, p99_us=None, note="")
    for p, key in (("50", "p50_us"), ("99", "p99_us")):
        m = re.search(rf"^\s+{p}%\s+(\d+)", out, re.M)
        if m and int(m.group(1)) > 0:  # ab's resolution is 1 ms: 0 means "under a millisecond"
            r[key] = int(m.group(1)) * 1000
    if doclen != sc.body:
        r["errors"] += 1
        r["note"] = f"Document Length {doclen}, expected {sc.body}"
    elif keepalive < done - sc.connections:
        r["note"] = f"only {keepalive:.0f} keep-alive requests"
    return r


def parse_native(out, resp_bytes, sc):
    m = re.search(r"^RESULT (.*)$", out, re.M)
    if not m:
        return None
    v = {k: float(x) for k, x in (kv.split("=") for kv in m.group(1).split())}
    return dict(requests=int(v["requests"]), ok=int(v["ok"]), errors=int(v["errors"]), rps=v["rps"],
                p50_us=v["p50_us"], p99_us=v["p99_us"], note="")


def parse_sentinel_bench(out, resp_bytes, sc):
    try:
        j = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None
    ok = int(j.get("status", {}).get("200", 0))
    lat = j.get("latency_us", {})
    r = dict(requests=j["requests"], ok=ok, errors=j["errors"] + (j["responses"] - ok), rps=j["requests_per_s"],
             p50_us=lat.get("p50"), p99_us=lat.get("p99"), note="")
    # bytes_received counts what was read off the sockets, heads included: the same check as wrk's.
    if j["responses"] and resp_bytes:
        per = j["bytes_received"] / j["responses"]
        if not resp_bytes <= per < resp_bytes * 1.02 + 64:
            r["errors"] += 1
            r["note"] = f"{per:.0f} bytes per response, expected {resp_bytes}"
    return r


PARSERS = {"wrk": parse_wrk, "h2load": parse_h2load, "ab": parse_ab, "native": parse_native,
           "sentinel-bench": parse_sentinel_bench}


def duration_us(text):
    m = re.match(r"([\d.]+)(us|ms|s)$", text)
    if not m:
        return None
    return float(m.group(1)) * {"us": 1, "ms": 1e3, "s": 1e6}[m.group(2)]


# ---- the machine ----------------------------------------------------------------------------------------

def busy_ticks():
    """CPU time spent by everything on the machine (user nice system irq softirq steal), in ticks."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return v[0] + v[1] + v[2] + v[5] + v[6] + v[7]


def proc_ticks(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            v = f.read().rsplit(")", 1)[1].split()
        return int(v[11]) + int(v[12])  # utime stime
    except (OSError, IndexError, ValueError):
        return 0


def own_ticks():
    t = os.times()
    return (t.user + t.system) * HZ


def first_line(argv):
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=10)
        out = (p.stdout + p.stderr).strip().splitlines()
        return out[0].strip() if out else ""
    except (OSError, subprocess.SubprocessError):
        return ""


def dpkg_version(pkg):
    return first_line(["dpkg-query", "-W", "-f=${Version}", pkg]) or None


def machine_info(cpus):
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            model = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "")
        with open("/proc/meminfo") as f:
            mem_kib = int(f.readline().split()[1])
    except (OSError, ValueError):
        mem_kib = 0
    distro = ""
    try:
        with open("/etc/os-release") as f:
            distro = next((l.split("=", 1)[1].strip().strip('"') for l in f if l.startswith("PRETTY_NAME=")), "")
    except OSError:
        pass
    return dict(cpus=os.cpu_count(), usable_cpus=len(cpus), cpu_model=model,
                mem_gib=round(mem_kib / 2**20, 1), kernel=platform.release(), os=distro)


def versions(peers, nginx):
    """name -> version, for the JSON header (each as the tool or the Debian package states it)."""
    v = {"nginx": first_line([nginx, "-v"]).replace("nginx version: nginx/", "")}
    for p in peers:
        if p.missing or not p.program:
            continue
        if p.kind == "wrk":  # "wrk debian/4.1.0-3+b2 [epoll] Copyright ..."
            v["wrk"] = first_line([p.program, "-v"]).split(" [")[0].replace("wrk ", "")
        elif p.kind == "h2load":  # "h2load nghttp2/1.52.0"
            v["h2load"] = first_line([p.program, "--version"]).replace("h2load ", "")
        elif p.kind == "ab":  # "This is ApacheBench, Version 2.3 <$Revision: 1903618 $>"
            v["ab"] = re.sub(r"^This is ApacheBench, Version ([^ ]+).*", r"\1", first_line([p.program, "-V"]))
        elif p.name == "beast":
            v["beast"] = "libboost-dev " + (dpkg_version("libboost-dev") or "?")
        elif p.name == "libcurl":
            v["libcurl"] = "libcurl4-openssl-dev " + (dpkg_version("libcurl4-openssl-dev") or "?")
    v["python"] = platform.python_version()
    return v


def git_commit(root):
    if not root:
        return None
    head = first_line(["git", "-C", root, "rev-parse", "--short=12", "HEAD"])
    if not re.fullmatch(r"[0-9a-f]{7,40}", head or ""):
        return None
    p = subprocess.run(["git", "-C", root, "status", "--porcelain", "--untracked-files=no"],
                       capture_output=True, text=True)
    return head + ("+dirty" if p.stdout.strip() else "")


class Quiet:
    """The quiet-machine wait: before a run, sample the CPU time of everything but us for a second at a
    time until it is under `threshold` % of one CPU, at most `max_s` per run and `budget_s` in all (then a
    single sample, so that the run still records how busy the machine was)."""

    def __init__(self, threshold, max_s, budget_s, sample_s, nginx_pids):
        self.threshold, self.max_s, self.budget_s, self.sample_s = threshold, max_s, budget_s, sample_s
        self.nginx_pids = nginx_pids
        self.spent = 0.0

    def sample(self):
        b0, o0, n0 = busy_ticks(), own_ticks(), sum(proc_ticks(p) for p in self.nginx_pids())
        time.sleep(self.sample_s)
        b1, o1, n1 = busy_ticks(), own_ticks(), sum(proc_ticks(p) for p in self.nginx_pids())
        return max(0.0, ((b1 - b0) - (o1 - o0) - (n1 - n0)) / HZ / self.sample_s * 100)

    def wait(self):
        t0 = time.monotonic()
        while True:
            other = self.sample()
            waited = time.monotonic() - t0
            if other < self.threshold:
                break
            if waited >= self.max_s or self.spent + waited >= self.budget_s:
                break
        self.spent += waited
        return dict(quiet=other < self.threshold, waited_s=round(waited, 1), other_pct_before=round(other, 1))


# ---- nginx ----------------------------------------------------------------------------------------------

class Nginx:
    def __init__(self, binary, cpu, nofile, connections):
        self.binary, self.cpu = binary, cpu
        self.prefix = tempfile.mkdtemp(prefix="sentinel-bench-nginx-")
        os.chmod(self.prefix, 0o755)  # the worker runs as nobody when we are root: it must read www/
        for d in ("www", "tmp"):
            os.makedirs(os.path.join(self.prefix, d), mode=0o755)
        with open(os.path.join(self.prefix, "www", "4k.bin"), "wb") as f:
            f.write(b"a" * 4096)
        with open(os.path.join(self.prefix, "www", "1m.bin"), "wb") as f:
            f.write(bytes(range(256)) * 4096)
        self.nofile = nofile
        self.worker_connections = max(1024, min(nofile - 64, connections + 1024))
        self.proc = None
        self.port = self.h2_port = None

    def start(self):
        with open(os.path.join(HERE, "nginx.conf.in")) as f:
            template = f.read()
        last = ""
        for _ in range(5):  # a free port, unless someone takes it between our check and nginx's bind
            self.port, self.h2_port = free_port(), free_port()
            conf = (template.replace("@PREFIX@", self.prefix).replace("@PORT@", str(self.port))
                    .replace("@H2PORT@", str(self.h2_port))
                    .replace("@NOFILE@", str(self.nofile))
                    .replace("@WORKER_CONNECTIONS@", str(self.worker_connections))
                    .replace("@BACKLOG@", str(somaxconn())))
            path = os.path.join(self.prefix, "nginx.conf")
            with open(path, "w") as f:
                f.write(conf)
            argv = ([] if self.cpu is None else ["taskset", "-c", str(self.cpu)]) + \
                [self.binary, "-p", self.prefix, "-e", os.path.join(self.prefix, "error.log"), "-c", path]
            self.command = " ".join(argv)
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.PIPE, start_new_session=True,
                                         preexec_fn=terminate_with_parent)
            for _ in range(100):
                if self.proc.poll() is not None:
                    break
                if self.status_counts() is not None:
                    return
                time.sleep(0.05)
            last = self.stop() or last
        raise RuntimeError(f"nginx did not start: {last.strip()[-500:]}")

    def worker_pids(self):
        if not self.proc or self.proc.poll() is not None:
            return []
        try:
            with open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children") as f:
                return [int(x) for x in f.read().split()]
        except OSError:
            return []

    def pids(self):
        return ([self.proc.pid] if self.proc else []) + self.worker_pids()

    def status_counts(self):
        """(accepted connections, requests) so far, or None when nginx does not answer."""
        try:
            c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            c.request("GET", "/status")
            body = c.getresponse().read().decode()
            c.close()
            v = body.splitlines()[2].split()
            return int(v[0]), int(v[2])
        except (OSError, IndexError, ValueError, http.client.HTTPException):
            return None

    def stop(self):
        err = ""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)  # graceful: the workers finish and exit
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self.proc:
            err = self.proc.stderr.read().decode(errors="replace")
            self.proc.stderr.close()
        try:
            with open(os.path.join(self.prefix, "error.log")) as f:
                err += f.read()
        except OSError:
            pass
        self.proc = None
        return err

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.prefix, ignore_errors=True)


def terminate_with_parent():
    """In a child before exec: SIGTERM (nginx: stop at once) when the harness dies, even by SIGKILL."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def somaxconn():
    try:
        with open("/proc/sys/net/core/somaxconn") as f:
            return min(int(f.read()), 65535)
    except (OSError, ValueError):
        return 511


def fetch_raw(port, path):
    """One GET over a raw socket, as a load client sends it: (status, body bytes, whole response size,
    chunked?). Reads until the framing says the response is complete."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    fields = {l.split(":", 1)[0].strip().lower(): l.split(":", 1)[1].strip() for l in lines[1:] if ":" in l}
    chunked = fields.get("transfer-encoding", "").lower() == "chunked"
    if chunked:
        while not rest.endswith(b"0\r\n\r\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            rest += chunk
        body, pos = b"", 0
        while True:
            eol = rest.index(b"\r\n", pos)
            size = int(rest[pos:eol].split(b";")[0], 16)
            if size == 0:
                break
            body += rest[eol + 2:eol + 2 + size]
            pos = eol + 2 + size + 2
    else:
        n = int(fields.get("content-length", "0"))
        while len(rest) < n:
            chunk = s.recv(65536)
            if not chunk:
                break
            rest += chunk
        body = rest[:n]
    s.close()
    return status, len(body), len(head) + 4 + len(rest), chunked


# ---- running a client -------------------------------------------------------------------------------------

def pinned(argv, cpu):
    return ([] if cpu is None else ["taskset", "-c", str(cpu)]) + argv


def run_client(argv, cpu, timeout_s, workdir, launcher):
    """Runs argv pinned to `cpu`, bounded by timeout_s. Returns (exit code or None when killed, stdout,
    stderr, wall s, user s, system s, peak RSS KiB or None). With the launcher (launch.cpp) the CPU times
    and the RSS are the client's alone; without it, CPU times come from our own wait4() (taskset execs the
    client: the same process) and the RSS is not measured (it would include ours: ru_maxrss survives exec)."""
    out_path, err_path = os.path.join(workdir, "stdout"), os.path.join(workdir, "stderr")
    res_path = os.path.join(workdir, "rusage")
    if os.path.exists(res_path):
        os.unlink(res_path)
    full = [launcher, res_path, "-" if cpu is None else str(cpu)] + argv if launcher else pinned(argv, cpu)
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        t0 = time.monotonic()
        proc = subprocess.Popen(full, stdin=subprocess.DEVNULL, stdout=out, stderr=err, start_new_session=True)
    killed = []

    def on_alarm(signum, frame):
        killed.append(True)
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout_s)
    try:
        _, status, ru = os.wait4(proc.pid, 0)
    except BaseException:  # SIGTERM, Ctrl-C: the client goes with us
        os.killpg(proc.pid, signal.SIGKILL)
        os.waitpid(proc.pid, 0)
        raise
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    wall = time.monotonic() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    with open(out_path, errors="replace") as f:
        stdout = f.read()
    with open(err_path, errors="replace") as f:
        stderr = f.read()
    user, system, rss = ru.ru_utime, ru.ru_stime, None
    if launcher:
        try:
            with open(res_path) as f:
                v = dict(kv.split("=") for kv in f.read().split())
            user, system, rss = int(v["user_us"]) / 1e6, int(v["sys_us"]) / 1e6, int(v["maxrss_kib"])
        except (OSError, KeyError, ValueError):
            if not killed:
                stderr += "\n(harness: the launcher wrote no resource usage)"
    return (None if killed else proc.returncode), stdout, stderr, wall, user, system, rss


def one_run(peer, argv, sc, nginx, cpu, timeout_s, resp_bytes, quiet, workdir, launcher):
    q = quiet.wait()
    before = nginx.status_counts()
    b0, s0 = busy_ticks(), sum(proc_ticks(p) for p in nginx.worker_pids())
    rc, out, err, wall, user, system, rss = run_client(argv, cpu, timeout_s, workdir, launcher)
    b1, s1 = busy_ticks(), sum(proc_ticks(p) for p in nginx.worker_pids())
    after = nginx.status_counts()
    run = dict(command=" ".join(pinned(argv, cpu)), exit=rc,
               wall_s=round(wall, 3), **q)
    r = PARSERS[peer.kind](out, resp_bytes, sc) if rc is not None else None
    if r is None:
        tail = (err.strip() or out.strip())[-300:]
        run.update(valid=False, ok=0, errors=1,
                   note=("killed after %d s" % timeout_s) if rc is None else f"no result (exit {rc}): {tail}")
        return run
    ok = r["ok"]
    if r["errors"] and not r["note"]:  # the native peers describe their first error on stderr
        m = re.search(r"^first error: (.*)$", err, re.M)
        r["note"] = m.group(1)[:200] if m else err.strip()[-200:]
    client_s, server_s = user + system, (s1 - s0) / HZ
    run.update(
        requests=r["requests"], ok=ok, errors=r["errors"], rps=round(r["rps"], 1),
        cpu_us_per_req=round(client_s * 1e6 / ok, 3) if ok else None,
        user_us_per_req=round(user * 1e6 / ok, 3) if ok else None,
        sys_us_per_req=round(system * 1e6 / ok, 3) if ok else None,
        p50_us=r.get("p50_us"), p99_us=r.get("p99_us"), rss_kib=rss,
        client_cpu_pct=round(100 * client_s / wall, 1),
        server_cpu_pct=round(100 * server_s / wall, 1),
        other_cpu_pct=round(max(0.0, 100 * ((b1 - b0) / HZ - client_s - server_s) / wall), 1),
        note=r["note"])
    if before and after:
        run["conns_opened"] = after[0] - before[0] - 1  # the second status request's own connection
        run["server_requests"] = after[1] - before[1] - 1
    if rc != 0 and not run["errors"]:  # a client that says all went well but exits non-zero: not valid
        run["errors"] = 1
        run["note"] = (run["note"] + f"; exit {rc}: {err.strip()[-200:]}").strip("; ")
    run["valid"] = bool(ok) and run["errors"] == 0
    return run


# ---- one scenario -------------------------------------------------------------------------------------------

def fd_limit_for(connections):
    """Raises RLIMIT_NOFILE as far as needed and allowed; returns (limit, reason when too low)."""
    need = connections + 1024
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < need:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (need, need))  # root may raise the hard limit
            soft, hard = need, need
        except (ValueError, OSError):
            pass
    target = hard if hard != resource.RLIM_INFINITY else max(soft, need)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    if soft < need:
        return soft, (f"{connections:,} connections need {need:,} file descriptors; the limit is {soft:,} "
                      f"(ulimit -Hn {hard}); raise it (e.g. /etc/security/limits.conf) and rerun")
    return soft, None


def ports_for(connections):
    """Why the machine cannot open this many connections to one port (None: it can)."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            lo, hi = map(int, f.read().split())
        if hi - lo + 1 < connections + 1000:
            return f"the ephemeral port range ({lo}-{hi}) is too small for {connections:,} connections"
        with open("/proc/sys/net/ipv4/tcp_tw_reuse") as f:
            reuse = int(f.read())
        # Every run leaves its connections in TIME_WAIT for a minute; without reuse, a few runs in a row
        # would use up the port range.
        if reuse == 0 and (hi - lo + 1) < 3 * connections * 7:
            return "net.ipv4.tcp_tw_reuse is 0: repeated runs would exhaust the ephemeral ports"
    except (OSError, ValueError):
        pass
    return None


def pinning(cpus):
    if len(cpus) >= 2:
        return cpus[0], cpus[1], f"nginx pinned to CPU {cpus[0]}, clients to CPU {cpus[1]} (taskset -c)"
    return None, None, f"UNPINNED: one CPU ({cpus[0]}) for nginx, the client and everything else"


def run_scenario(sc, peers, args, out_dir, cpus):
    quick = args.quick
    reps = args.reps if args.reps else (1 if quick else 3)
    requests, seconds = sc.params(quick)
    nginx_bin = shutil.which("nginx") or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None)
    ref = next((p for p in peers if p.name == sc.reference), None)
    if not nginx_bin:
        return skip(sc, f"nginx is not installed ({DEPS_HINT})", out_dir, quick)
    if ref is None:
        return skip(sc, f"the reference client {sc.reference} was left out (--peer)", out_dir, quick)
    if ref.missing:
        return skip(sc, f"no reference for the ratios: {ref.missing}", out_dir, quick)
    if not shutil.which("taskset") and len(cpus) >= 2:  # nginx is started with it
        return skip(sc, "taskset is not installed (util-linux)", out_dir, quick)
    nofile, why = fd_limit_for(sc.connections)
    if why:
        return skip(sc, why, out_dir, quick)
    why = ports_for(sc.connections)
    if why:
        return skip(sc, why, out_dir, quick)

    server_cpu, client_cpu, pin_note = pinning(cpus)
    launcher = args.launcher if args.launcher and os.access(args.launcher, os.X_OK) else None
    if server_cpu is not None:
        os.sched_setaffinity(0, {server_cpu})  # our own bookkeeping stays off the client's CPU
    nginx = Nginx(nginx_bin, server_cpu, nofile, sc.connections)
    workdir = tempfile.mkdtemp(prefix="sentinel-bench-run-")
    started = now_iso()
    timeout_s = args.run_timeout or (60 if quick else sc.timeout)
    quiet = Quiet(args.quiet_pct, args.quiet_max if args.quiet_max is not None else (1 if quick else 30),
                  args.quiet_budget if args.quiet_budget is not None else (3 if quick else 60),
                  0.5 if quick else 1.0, nginx.pids)
    results = {p.name: dict(peer=p.name, what=p.what, runs=[]) for p in peers}
    print(f"{sc.name}: {sc.question}")
    print(f"  GET {sc.path}, {sc.connections:,} connections"
          + (f" x {sc.streams} HTTP/2 streams" if sc.streams else "") + f", {requests:,} requests"
          + (f" at {sc.rate:,} req/s" if sc.rate else ", closed loop")
          + (f" (wrk: {seconds} s)" if seconds else "") + f", {reps} rep(s); {pin_note}")
    try:
        nginx.start()
        url = f"http://127.0.0.1:{nginx.h2_port if sc.streams else nginx.port}{sc.path}"
        status, body, resp_bytes, chunked = fetch_raw(nginx.port, sc.path)
        if status != 200 or body != sc.body or chunked != (sc.path == "/chunked"):
            raise RuntimeError(f"nginx answered {sc.path} with status {status}, {body} body bytes, "
                               f"chunked={chunked}: not the scenario's response")
        print(f"  nginx {nginx.port}: {nginx.command}; one response is {resp_bytes:,} bytes")
        if sc.streams:
            resp_bytes = None  # HTTP/2 frames its heads and bodies otherwise: the byte checks compare bodies
        plan = []
        for p in peers:
            if p.missing:
                results[p.name].update(status="skip", reason=p.missing)
                continue
            argv, why = p.command(sc, url, requests, seconds)
            if argv is None:
                results[p.name].update(status="n/a", reason=why)
                continue
            plan.append((p, argv))
        for rep in range(1, reps + 1):
            for p, argv in plan:
                run = one_run(p, argv, sc, nginx, client_cpu, timeout_s, resp_bytes, quiet, workdir, launcher)
                run["rep"] = rep
                results[p.name]["runs"].append(run)
                print("  " + benchfmt.run_line(sc.name, rep, reps, p.name, run), flush=True)
        failure = None
    except Exception as e:  # a broken harness is a failure, not a skip
        failure = e
    finally:  # first of all, whatever happened (even SIGTERM or a closed stdout): no nginx left behind
        said = nginx.stop()
        nginx.cleanup()
        shutil.rmtree(workdir, ignore_errors=True)
    if failure is not None:
        print(f"harness: {sc.name}: {failure}", file=sys.stderr)
        if said.strip():
            print("nginx said:\n" + said.strip()[-2000:], file=sys.stderr)
        return 1

    doc = benchfmt.scenario_doc(
        scenario=dict(name=sc.name, question=sc.question, path=sc.path, connections=sc.connections,
                      streams_per_connection=sc.streams or None,
                      requests=requests, wrk_seconds=seconds or None, rate=sc.rate or None, body_bytes=sc.body,
                      response_bytes=resp_bytes, reference=sc.reference, reps=reps, quick=quick),
        status="ok", started=started, finished=now_iso(),
        environment=dict(machine=machine_info(cpus), versions=versions(peers, nginx_bin), commit=git_commit(
            args.source_root), command=" ".join([os.path.basename(sys.argv[0])] + sys.argv[1:]),
            pinning=dict(pinned=server_cpu is not None, server_cpu=server_cpu, client_cpu=client_cpu,
                         note=pin_note),
            nginx=dict(command=nginx.command, worker_connections=nginx.worker_connections, nofile=nofile),
            quiet=dict(threshold_pct=args.quiet_pct, max_wait_s=quiet.max_s, budget_s=quiet.budget_s,
                       waited_s=round(quiet.spent, 1)),
            loadavg=os.getloadavg()),
        peers=[results[p.name] for p in peers])
    benchfmt.finish_scenario(doc)
    write_json(os.path.join(out_dir, f"{sc.name}.json"), doc)
    print()
    print(benchfmt.table([doc]))
    print()
    bad = [p for p in doc["peers"] if p["peer"].startswith("sentinel") and p.get("status") in ("invalid", "failed")]
    for p in bad:
        first = next((r for r in p["runs"] if not r.get("valid")), {})
        print(f"  {p['peer']} had errors: {first.get('note') or first.get('errors')} ({first.get('command')})")
    return 1 if bad else 0


def skip(sc, reason, out_dir, quick):
    print(f"SKIP: {sc.name}: {reason}")
    doc = benchfmt.scenario_doc(scenario=dict(name=sc.name, question=sc.question, quick=quick), status="skip",
                                reason=reason, started=now_iso(), finished=now_iso(), environment={}, peers=[])
    write_json(os.path.join(out_dir, f"{sc.name}.json"), doc)
    return SKIP


def now_iso():
    return datetime.datetime.now().astimezone().isoformat(timespec="seconds")


def write_json(path, doc):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="run scenarios, write DIR/<scenario>.json")
    r.add_argument("--out", required=True, help="directory for the JSON files")
    r.add_argument("--quick", action="store_true", help="short runs, 1 rep, bounded waits (the quick suite)")
    r.add_argument("--reps", type=int, default=0, help="repetitions per peer (default 3, quick 1)")
    r.add_argument("--scenario", action="append", default=[], help="scenario name (repeatable; default: all, "
                   "or the quick ones with --quick)")
    r.add_argument("--peer", action="append", default=[], help="only these peers (repeatable)")
    r.add_argument("--native", action="append", default=[], nargs=2, metavar=("NAME", "PATH"),
                   help="a native peer program (peer.hpp's contract)")
    r.add_argument("--missing", action="append", default=[], nargs=2, metavar=("NAME", "REASON"),
                   help="a native peer that was not built, and why")
    r.add_argument("--sentinel-cli", help="the sentinel tool (for sentinel bench)")
    r.add_argument("--launcher", help="launch.cpp, built: measures each client on its own (else: no RSS)")
    r.add_argument("--source-root", help="the repository, for the commit in the JSON")
    r.add_argument("--quiet-pct", type=float, default=20.0,
                   help="quiet: other processes use less than this %% of one CPU (default 20)")
    r.add_argument("--quiet-max", type=float, help="longest wait for a quiet second per run (default 30, quick 1)")
    r.add_argument("--quiet-budget", type=float, help="longest wait per scenario in all (default 60 s, quick 3)")
    r.add_argument("--run-timeout", type=int, default=0, help="kill a client after this many s (default 120, hello_c10k 240, quick 60)")
    sub.add_parser("list", help="print the scenarios")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))  # cleanups run

    if args.cmd == "list":
        for s in SCENARIOS:
            print(f"{s.name:15} GET {s.path:9} c={s.connections:<6} n={s.requests:<8} wrk -d{s.seconds or '-'}"
                  f" rate={s.rate or '-'} ref={s.reference} quick={'yes' if s.quick else 'no'}  {s.question}")
        return 0
    names = args.scenario or (QUICK_SCENARIOS if args.quick else [s.name for s in SCENARIOS])
    unknown = [n for n in names if n not in SCENARIO_BY_NAME]
    if unknown:
        sys.exit(f"harness: unknown scenario(s): {', '.join(unknown)} (harness.py list)")
    peers = make_peers(args)
    cpus = sorted(os.sched_getaffinity(0))  # before run_scenario pins this process to the server's CPU
    rc_all = []
    for n in names:
        rc_all.append(run_scenario(SCENARIO_BY_NAME[n], peers, args, args.out, cpus))
    if any(rc == 1 for rc in rc_all):
        return 1
    if all(rc == SKIP for rc in rc_all):
        return SKIP
    return 0


if __name__ == "__main__":
    sys.exit(main())
