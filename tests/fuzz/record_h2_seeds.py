#!/usr/bin/env python3
"""Records real HTTP/2 servers' answers as seeds of the fuzz_http2 corpus (tests/fuzz/corpus/http2/real-*).

fuzz_http2 (fuzz_http2.cpp) opens three streams on one connection, a GET (stream 1), a HEAD (3) and a POST
with a small body (5), and feeds the session the bytes "the server" sends. This script makes those same
three requests to real servers over h2c (prior knowledge) on 127.0.0.1, records every byte the server
sends until the three streams have ended, and writes the mode byte of the harness and the bytes as a seed:
HPACK as real encoders produce it (dynamic table, Huffman), the servers' own SETTINGS, WINDOW_UPDATEs and
frame boundaries, which the hand-built seeds (make_seeds.py) do not have.

The servers are the Debian packages the interop tests use, started here on free ports and stopped after:
nginx (its http2 listener, `return 200` for /p) and nghttpd (--no-tls, a file for /p). Run by hand when
the corpus should be refreshed (the files are committed); it needs no network:
  python3 tests/fuzz/record_h2_seeds.py
"""
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus", "http2")

DATA, HEADERS, RST, SETTINGS, GOAWAY = 0, 1, 3, 4, 7
END_STREAM, END_HEADERS, ACK = 0x1, 0x4, 0x1


def frame(ftype, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(">I", stream) + payload


def literal(name, value):
    """An HPACK literal field without indexing, new name, no Huffman (RFC 7541 §6.2.2): lengths < 127."""
    assert len(name) < 127 and len(value) < 127
    return b"\x00" + bytes([len(name)]) + name + bytes([len(value)]) + value


def request(stream, method, authority, body=None):
    block = b"".join(literal(n, v) for n, v in [
        (b":method", method), (b":scheme", b"http"), (b":authority", authority), (b":path", b"/p"),
        (b"user-agent", b"sentinel-fuzz"), (b"accept", b"*/*")] +
        ([(b"content-length", str(len(body)).encode())] if body is not None else []))
    flags = END_HEADERS | (END_STREAM if body is None else 0)
    out = frame(HEADERS, flags, stream, block)
    if body is not None:
        out += frame(DATA, END_STREAM, stream, body)
    return out


def record(port):
    """The bytes the server at 127.0.0.1:port sends for GET, HEAD and POST /p on streams 1, 3 and 5."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    authority = f"127.0.0.1:{port}".encode()
    s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame(SETTINGS, 0, 0) + request(1, b"GET", authority) +
              request(3, b"HEAD", authority) + request(5, b"POST", authority, b"fuzz body"))
    got, buf, ended, acked = b"", b"", set(), False
    deadline = time.monotonic() + 5
    while ended != {1, 3, 5} and time.monotonic() < deadline:
        chunk = s.recv(65536)
        if not chunk:
            break
        got += chunk
        buf += chunk
        while len(buf) >= 9:
            n = int.from_bytes(buf[:3], "big")
            if len(buf) < 9 + n:
                break
            ftype, flags, stream = buf[3], buf[4], int.from_bytes(buf[5:9], "big") & 0x7FFFFFFF
            buf = buf[9 + n:]
            if ftype == SETTINGS and not flags & ACK and not acked:
                s.sendall(frame(SETTINGS, ACK, 0))
                acked = True
            if ftype in (DATA, HEADERS) and flags & END_STREAM or ftype == RST:
                ended.add(stream)
    s.close()
    if ended != {1, 3, 5}:
        raise RuntimeError(f"streams {sorted({1, 3, 5} - ended)} did not end")
    return got


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, proc):
    for _ in range(100):
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited: {proc.stderr.read().decode(errors='replace')[-500:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{proc.args[0]} did not listen on {port}")


NGINX_CONF = """worker_processes 1; daemon off; master_process off; pid {d}/nginx.pid; error_log {d}/error.log;
events {{ worker_connections 64; }}
http {{ access_log off; client_body_temp_path {d}/body;
  server {{ listen 127.0.0.1:{port} http2; location = /p {{ default_type text/plain; return 200 "hello from nginx"; }} }} }}
"""


def nginx(d, port):
    with open(os.path.join(d, "nginx.conf"), "w") as f:
        f.write(NGINX_CONF.format(d=d, port=port))
    return subprocess.Popen([shutil.which("nginx") or "/usr/sbin/nginx", "-p", d, "-e", os.path.join(d, "error.log"),
                             "-c", os.path.join(d, "nginx.conf")], stderr=subprocess.PIPE)


def nghttpd(d, port):
    os.makedirs(os.path.join(d, "htdocs"))
    with open(os.path.join(d, "htdocs", "p"), "w") as f:
        f.write("hello from nghttpd\n" * 8)
    return subprocess.Popen([shutil.which("nghttpd") or "/usr/sbin/nghttpd", "--no-tls", "--address=127.0.0.1",
                             "-d", os.path.join(d, "htdocs"), str(port)], stderr=subprocess.PIPE)


# The harness's mode byte (fuzz_http2.cpp): split, body limit 64 (bit 3), the client closes (bit 4), the
# streams one by one (bit 5).
MODES = [("whole", 0), ("bytewise", 2), ("random-64", 4), ("three-pieces-limit", 6 | 8),
         ("one-by-one-client-closes", 5 | 16 | 32)]


def main():
    os.makedirs(OUT, exist_ok=True)
    written = 0
    for name, start in (("nginx", nginx), ("nghttpd", nghttpd)):
        d = tempfile.mkdtemp(prefix=f"sentinel-h2seed-{name}-")
        port = free_port()
        proc = start(d, port)
        try:
            wait_port(port, proc)
            got = record(port)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
            shutil.rmtree(d, ignore_errors=True)
        for mode_name, mode in MODES:
            with open(os.path.join(OUT, f"real-{name}-{mode_name}"), "wb") as f:
                f.write(bytes([mode]) + got)
            written += 1
        print(f"{name}: {len(got)} bytes from the server")
    print(f"{written} seeds in {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
