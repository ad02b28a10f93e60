#!/usr/bin/env python3
"""Writes the hand-written seed inputs of the fuzz corpora (tests/fuzz/corpus/<target>/seed-*).

The seeds are meant to be read: each entry below names what it covers. Running this script rewrites every
seed-* file (and removes stale ones); files not named seed-* (inputs libFuzzer found, merged with -merge=1,
and regressions named crash-*/regress-*) are left alone.

Response and chunked inputs start with the mode byte of response_driver.hpp's decode_mode():
  bits 0-1 request kind: 0 normal, 1 HEAD, 2 CONNECT, 3 cycle normal/HEAD/CONNECT per keep-alive response
  bits 2-4 piecewise split: 0 none, 1 two pieces, 2 byte by byte, 3 fixed 1..16, 4 random 1..64,
           5 random 1..8, 6 three pieces, 7 random 1..512
  bits 5-6 limits: 0 defaults, 1 tiny (head 64, 3 fields, body 16, chunk line 8),
           2 small (256, 8, 256, 24, header line 48), 3 (1024, 20, 64, 64, header line 128)
  bit 7    the peer does NOT close after the last byte
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

NORMAL, HEAD, CONNECT, CYCLE = 0, 1, 2, 3
DEFAULTS, TINY, SMALL, MEDIUM = 0, 1, 2, 3


def mode(kind=NORMAL, split=2, limits=DEFAULTS, eof=True):
    return bytes([kind | (split << 2) | (limits << 5) | (0 if eof else 0x80)])


OK = b"HTTP/1.1 200 OK\r\n"
TE = b"Transfer-Encoding: chunked\r\n"

# (name, mode byte, response bytes)
RESPONSE = [
    ("nginx-200-cl", mode(split=2), OK + b"Server: nginx/1.22.1\r\nDate: Mon, 15 Jan 2024 10:00:00 GMT\r\n"
     b"Content-Type: text/html\r\nContent-Length: 13\r\nConnection: keep-alive\r\n"
     b"ETag: \"65a4f3c0-24\"\r\n\r\n<html></html>"),
    ("chunked-ext-trailers", mode(split=4), OK + TE + b"Trailer: X-Sum\r\n\r\n"
     b"5;name=val\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: abc\r\n\r\n"),
    ("chunked-trailer-fold", mode(split=5), OK + TE + b"\r\n3\r\nabc\r\n0\r\nX-A: one\r\n two\r\n\r\n"),
    ("http10-until-close", mode(split=1), b"HTTP/1.0 200 OK\r\nServer: old\r\n\r\nbody until close"),
    ("http10-keepalive-cl", mode(split=3), b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok"
     b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"),
    ("204-with-cl", mode(), b"HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n"),
    ("304-with-te", mode(), b"HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\nETag: \"x\"\r\n\r\n"),
    ("head-with-cl", mode(kind=HEAD), OK + b"Content-Length: 1234\r\n\r\n"),
    ("head-with-te-then-next", mode(kind=HEAD, split=4), OK + TE + b"\r\n" + OK + b"Content-Length: 0\r\n\r\n"),
    ("connect-200-tunnel", mode(kind=CONNECT), b"HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x01\x00"),
    ("connect-407-body", mode(kind=CONNECT, split=6),
     b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"p\"\r\n"
     b"Content-Length: 4\r\n\r\ndeny"),
    ("100-continue-200", mode(split=2), b"HTTP/1.1 100 Continue\r\n\r\n" + OK + b"Content-Length: 3\r\n\r\nabc"),
    ("103-early-hints", mode(split=5), b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
     + OK + b"Content-Length: 0\r\n\r\n"),
    ("many-1xx", mode(split=3), b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n"
     b"HTTP/1.1 199 Whatever\r\nContent-Length: 5\r\n\r\n" + OK + b"Content-Length: 1\r\n\r\nx"),
    ("101-upgrade", mode(), b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
     b"\x81\x05hello"),
    ("pipeline-3", mode(split=4), OK + b"Content-Length: 3\r\n\r\none" + OK + TE + b"\r\n3\r\ntwo\r\n0\r\n\r\n"
     b"HTTP/1.1 304 Not Modified\r\n\r\n"),
    ("kind-cycle", mode(kind=CYCLE, split=7), OK + b"Content-Length: 1\r\n\r\na" + OK + b"Content-Length: 9\r\n\r\n"
     + b"HTTP/1.1 200 OK\r\n\r\ntunnel"),
    ("obs-fold", mode(split=2), OK + b"X-Long: first\r\n second\r\n\tthird\r\nContent-Length: 0\r\n\r\n"),
    ("obs-fold-empty", mode(), OK + b"X: a\r\n \r\n\t \r\nContent-Length: 0\r\n\r\n"),
    ("fold-first-line", mode(), OK + b" X: a\r\n\r\n"),
    ("connection-close", mode(), OK + b"Connection: close\r\nContent-Length: 2\r\n\r\nhi" + OK),
    ("connection-list", mode(), OK + b"Connection: keep-alive, Close, x\r\nContent-Length: 0\r\n\r\n"),
    ("cl-list-same", mode(), OK + b"Content-Length: 5, 5\r\n\r\nhello"),
    ("cl-repeated-same", mode(), OK + b"Content-Length: 3\r\ncontent-length: 3\r\n\r\nabc"),
    ("cl-conflict", mode(), OK + b"Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd"),
    ("cl-bad", mode(), OK + b"Content-Length: 3x\r\n\r\nabc"),
    ("cl-plus", mode(), OK + b"Content-Length: +3\r\n\r\nabc"),
    ("cl-max-u64", mode(eof=False), OK + b"Content-Length: 18446744073709551615\r\n\r\nabc"),
    ("cl-overflow", mode(), OK + b"Content-Length: 18446744073709551616\r\n\r\n"),
    ("te-and-cl", mode(), OK + b"Content-Length: 100\r\n" + TE + b"\r\n2\r\nhi\r\n0\r\n\r\n"),
    ("te-gzip", mode(), OK + b"Transfer-Encoding: gzip\r\n\r\nxx"),
    ("te-gzip-chunked", mode(), OK + b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"),
    ("te-chunked-http10", mode(), b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n" + TE + b"\r\n1\r\nx\r\n0\r\n\r\n"),
    ("te-upper", mode(), OK + b"TRANSFER-ENCODING: CHUNKED\r\n\r\n1\r\nx\r\n0\r\n\r\n"),
    ("te-empty-elements", mode(), OK + b"Transfer-Encoding: , chunked ,\r\n\r\n0\r\n\r\n"),
    ("status-no-reason", mode(), b"HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n"),
    ("status-empty-reason", mode(), b"HTTP/1.1 404 \r\nContent-Length: 0\r\n\r\n"),
    ("reason-obs-text", mode(), b"HTTP/1.1 200 \xc3\x9cber \t ok\r\nContent-Length: 0\r\n\r\n"),
    ("status-999", mode(), b"HTTP/1.1 999 Odd\r\nContent-Length: 0\r\n\r\n"),
    ("status-099", mode(), b"HTTP/1.1 099 Low\r\n\r\n"),
    ("bare-lf-head", mode(), b"HTTP/1.1 200 OK\nContent-Length: 0\n\n"),
    ("bare-lf-field", mode(), OK + b"A: b\nContent-Length: 0\r\n\r\n"),
    # RFC 9112 §2.2: a bare LF ends a line anywhere (accepted); a CR anywhere but before an LF is refused.
    ("lf-only-cl", mode(split=2), b"HTTP/1.1 200 OK\nContent-Length: 5\nX-A: b\n\nhello"),
    ("lf-only-pipeline", mode(split=4), b"HTTP/1.1 200 OK\nContent-Length: 1\n\nxHTTP/1.1 204 No Content\n\n"
     + OK + b"Content-Length: 0\r\n\r\n"),
    ("mixed-line-ends", mode(split=5), b"HTTP/1.1 200 OK\nA: 1\r\nB: 2\nContent-Length: 2\r\n\nok"),
    ("lf-obs-fold", mode(split=2), OK + b"X: a\n b\n\tc\nContent-Length: 0\n\n"),
    ("lf-100-continue", mode(split=2), b"HTTP/1.1 100 Continue\n\nHTTP/1.1 200 OK\nContent-Length: 2\n\nok"),
    ("lf-only-chunked", mode(split=3), b"HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n5\nhello\n6;x=1\n world\n"
     b"0\nX-T: 1\n\n"),
    ("bare-cr-as-empty-line", mode(), OK + b"Content-Length: 0\r\n\rX: y\r\n\r\n"),
    ("cr-cr-lf", mode(), OK + b"X: a\r\r\nContent-Length: 0\r\n\r\n"),
    ("space-before-colon", mode(), OK + b"Content-Length : 0\r\n\r\n"),
    ("empty-value-ows", mode(), OK + b"X-Empty:\r\nX-Ows: \t v a l \t\r\nContent-Length: 0\r\n\r\n"),
    ("tchar-names", mode(), OK + b"x-!#$%&'*+.^_`|~09AZaz: v\r\nContent-Length: 0\r\n\r\n"),
    ("nul-in-value", mode(), OK + b"X: a\x00b\r\nContent-Length: 0\r\n\r\n"),
    ("cr-in-value", mode(), OK + b"X: a\rb\r\nContent-Length: 0\r\n\r\n"),
    ("many-fields-tiny", mode(limits=TINY), OK + b"A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n"),
    ("head-over-tiny", mode(limits=TINY, split=3), OK + b"X-Pad: " + b"p" * 60 + b"\r\n\r\n"),
    ("line-at-small", mode(limits=SMALL, split=4), OK + b"X-Line: " + b"l" * 38 + b"\r\nContent-Length: 0\r\n\r\n"),
    ("line-over-small", mode(limits=SMALL, split=4), OK + b"X-Line: " + b"l" * 39 + b"\r\nContent-Length: 0\r\n\r\n"),
    ("status-line-over-small", mode(limits=SMALL), b"HTTP/1.1 200 " + b"r" * 40 + b"\n\n"),
    ("trailer-line-over-medium", mode(limits=MEDIUM, split=5), OK + TE + b"\r\n0\r\nT: " + b"t" * 130 + b"\r\n\r\n"),
    ("fold-lines-under-small", mode(limits=SMALL, split=2), OK + b"X: " + b"a" * 40 + b"\r\n " + b"b" * 40
     + b"\r\nContent-Length: 0\r\n\r\n"),
    ("cl-over-tiny", mode(limits=TINY), OK + b"Content-Length: 17\r\n\r\n" + b"b" * 17),
    ("chunked-over-tiny", mode(limits=TINY, split=4), OK + TE + b"\r\n8\r\n12345678\r\n9\r\n123456789\r\n0\r\n\r\n"),
    ("until-close-over-medium", mode(limits=MEDIUM, split=5), b"HTTP/1.1 200 OK\r\n\r\n" + b"z" * 70),
    ("until-close-no-eof", mode(eof=False), b"HTTP/1.1 200 OK\r\n\r\npartial"),
    ("truncated-cl-body", mode(), OK + b"Content-Length: 10\r\n\r\nabc"),
    ("truncated-head", mode(), OK + b"Content-Le"),
    ("garbage-after-close", mode(), b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nxGARBAGE"),
    ("garbage-after-keepalive", mode(), OK + b"Content-Length: 1\r\n\r\nxGARBAGE\r\n\r\n"),
    ("leading-crlf", mode(), b"\r\n" + OK + b"Content-Length: 0\r\n\r\n"),
    ("http12", mode(), b"HTTP/1.2 200 OK\r\nContent-Length: 0\r\n\r\n"),
    ("http2", mode(), b"HTTP/2 200 OK\r\n\r\n"),
    ("icy", mode(), b"ICY 200 OK\r\n\r\n"),
    ("empty", mode(), b""),
    ("cl-zero-then-next", mode(split=1, eof=False), OK + b"Content-Length: 0\r\n\r\n" + OK + b"Content-Length: 0\r\n\r\n"),
    ("head-1xx-then-200", mode(kind=HEAD), b"HTTP/1.1 100 Continue\r\n\r\n" + OK + b"Content-Length: 5\r\n\r\n"),
    ("esc-in-value", mode(), OK + b"X: \x1b[31mred\r\nContent-Length: 0\r\n\r\n"),
    ("ctl-in-reason", mode(), b"HTTP/1.1 200 O\x01K\r\nContent-Length: 0\r\n\r\n"),
    ("http110", mode(), b"HTTP/1.10 200 OK\r\nContent-Length: 0\r\n\r\n"),
    ("http20", mode(), b"HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n"),
    ("fields-101", mode(split=7), OK + b"".join(b"F%d: v\r\n" % i for i in range(100)) + b"Content-Length: 0\r\n\r\n"),
    ("status-600", mode(), b"HTTP/1.1 600 Custom\r\nContent-Length: 1\r\n\r\nx"),
    ("set-cookie-many", mode(limits=SMALL, split=7), OK + b"".join(b"Set-Cookie: c%d=v; Path=/\r\n" % i for i in range(9))
     + b"Content-Length: 0\r\n\r\n"),
]

# The bytes after the fixed head "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".
CHUNKED = [
    ("one", mode(), b"5\r\nhello\r\n0\r\n\r\n"),
    ("several", mode(split=4), b"1\r\na\r\n2\r\nbc\r\n3\r\ndef\r\n0\r\n\r\n"),
    ("upper-hex", mode(), b"A\r\n0123456789\r\nF\r\n0123456789abcde\r\n0\r\n\r\n"),
    ("leading-zeros", mode(), b"0005\r\nhello\r\n0000\r\n\r\n"),
    ("extensions", mode(split=5), b"5;name=value;x=\"q;\\\"uoted\"\r\nhello\r\n0;last\r\n\r\n"),
    ("ext-bws", mode(), b"5 ;a=b\r\nhello\r\n0\t; z\r\n\r\n"),
    ("ext-obs-text", mode(), b"5;\xff\xfe\r\nhello\r\n0\r\n\r\n"),
    ("ext-ctl", mode(), b"5;a=\x01\r\nhello\r\n0\r\n\r\n"),
    ("ext-lone-cr", mode(), b"5;a\rb\r\nhello\r\n0\r\n\r\n"),
    # RFC 9112 §7.1.1: extensions are parsed to the grammar (token names, token or quoted-string values).
    ("ext-quoted-pair", mode(split=5), b"5;q=\"a\\\"b\\\\c\";n\r\nhello\r\n0;e=\"\"\r\n\r\n"),
    ("ext-quoted-obs-text", mode(), b"5;q=\"caf\xc3\xa9\"\r\nhello\r\n0\r\n\r\n"),
    ("ext-quoted-lf-line", mode(split=4), b"5;q=\"x\"\nhello\n0\n\n"),
    ("ext-unbalanced-quote", mode(), b"5;q=\"abc\r\nhello\r\n0\r\n\r\n"),
    ("ext-quoted-cr", mode(), b"5;q=\"a\rb\"\r\nhello\r\n0\r\n\r\n"),
    ("ext-empty-name", mode(), b"5;=v\r\nhello\r\n0\r\n\r\n"),
    ("ext-trailing-ws", mode(), b"5;a=b \r\nhello\r\n0\r\n\r\n"),
    ("ext-quoted-over-tiny", mode(limits=TINY), b"5;q=\"ab\"\r\nhello\r\n0\r\n\r\n"),
    ("trailers", mode(split=3), b"3\r\nabc\r\n0\r\nX-Sum: 1\r\nX-Other: two words \r\n\r\n"),
    ("trailer-fold", mode(), b"3\r\nabc\r\n0\r\nX: a\r\n  b\r\n\r\n"),
    ("trailer-bad-name", mode(), b"0\r\nX Y: z\r\n\r\n"),
    ("trailer-bare-lf", mode(), b"0\r\nX: y\n\r\n"),
    ("trailer-cl-ignored", mode(), b"2\r\nhi\r\n0\r\nContent-Length: 99\r\n\r\n"),
    ("many-trailers-tiny", mode(limits=TINY), b"0\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n"),
    ("trailers-over-tiny", mode(limits=TINY), b"0\r\nX: " + b"t" * 70 + b"\r\n\r\n"),
    ("size-16-digits", mode(), b"0000000000000005\r\nhello\r\n0\r\n\r\n"),
    ("size-max", mode(eof=False), b"ffffffffffffffff\r\nabc"),
    ("size-17-digits", mode(), b"00000000000000005\r\nhello\r\n0\r\n\r\n"),
    ("size-bare-lf", mode(), b"5\nhello\r\n0\r\n\r\n"),
    ("data-no-crlf", mode(), b"5\r\nhelloXY0\r\n\r\n"),
    ("data-cr-only", mode(), b"5\r\nhello\rX0\r\n\r\n"),
    ("data-bare-lf", mode(), b"5\r\nhello\n0\r\n\r\n"),
    ("data-cr-cr-lf", mode(), b"5\r\nhello\r\r\n0\r\n\r\n"),
    ("lf-everywhere", mode(split=2), b"5\nhello\n0\nX: y\n\n"),
    ("last-chunk-lf", mode(), b"5\r\nhello\r\n0\n\r\n"),
    ("trailers-lf-end", mode(), b"0\r\nX: y\r\n\n"),
    ("truncated-data", mode(), b"5\r\nhel"),
    ("truncated-size", mode(), b"5\r\nhello\r\n1"),
    ("truncated-before-last", mode(), b"5\r\nhello\r\n"),
    ("truncated-trailers", mode(), b"0\r\nX: y\r\n"),
    ("no-final-crlf-no-eof", mode(eof=False), b"0\r\n"),
    ("size-empty", mode(), b"\r\nhello\r\n"),
    ("size-negative", mode(), b"-5\r\nhello\r\n0\r\n\r\n"),
    ("size-0x", mode(), b"0x5\r\nhello\r\n0\r\n\r\n"),
    ("size-trailing-space", mode(), b"5 \r\nhello\r\n0\r\n\r\n"),
    ("size-leading-space", mode(), b" 5\r\nhello\r\n0\r\n\r\n"),
    ("last-only", mode(), b"0\r\n\r\n"),
    ("data-with-crlf", mode(split=2), b"6\r\n\r\n\r\n\r\n\r\n0\r\n\r\n"),
    ("one-byte-chunks", mode(split=5), b"".join(b"1\r\n%c\r\n" % c for c in b"abcdefghij") + b"0\r\n\r\n"),
    ("then-next-cl", mode(split=4), b"0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"),
    ("then-next-chunked", mode(split=7), b"1\r\nx\r\n0\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"1\r\ny\r\n0\r\n\r\n"),
    ("big-chunk-over-small", mode(limits=SMALL, split=7), b"12c\r\n" + b"d" * 300 + b"\r\n0\r\n\r\n"),
    ("sum-over-medium", mode(limits=MEDIUM, split=4), b"20\r\n" + b"e" * 32 + b"\r\n21\r\n" + b"f" * 33 + b"\r\n0\r\n\r\n"),
    ("line-at-tiny-limit", mode(limits=TINY), b"5;abc\r\nhello\r\n0;abcd\r\n\r\n"),
    ("line-over-tiny-limit", mode(limits=TINY), b"5;abcde\r\nhello\r\n0\r\n\r\n"),
    ("body-at-tiny-limit", mode(limits=TINY, split=3), b"10\r\n" + b"g" * 16 + b"\r\n0\r\n\r\n"),
]

# URLs and references (fuzz_url parses each as a URL and resolves it against fixed bases).
URL = [
    ("plain", b"http://example.com"),
    ("full", b"https://user:pass@Example.COM:8443/a/b;p?c=d&e#frag"),
    ("ipv6", b"http://[::1]/"),
    ("ipv6-port", b"http://[::1]:8080/x?y"),
    ("ipv6-default-port", b"https://[2001:DB8::1]:443/"),
    ("ipv6-zone", b"http://[fe80::1%25eth0]/"),
    ("ipv6-v4mapped", b"http://[::ffff:192.0.2.1]/"),
    ("ipvfuture", b"http://[v1.x]/"),
    ("ipv6-unclosed", b"http://[::1/"),
    ("ipv6-junk-after", b"http://[::1]x/"),
    ("ipv4", b"http://192.168.0.1:80/"),
    ("ipv4-octal", b"http://010.0.0.1/"),
    ("ipv4-short", b"http://1.2.3/"),
    ("ipv4-hex", b"http://0x7f.1/"),
    ("ends-in-number", b"http://host.255/"),
    ("trailing-dot", b"http://h./"),
    ("host-dot", b"http://./"),
    ("port-0", b"http://h:0/"),
    ("port-65536", b"http://h:65536/"),
    ("port-empty", b"http://h:/x"),
    ("port-zeros", b"http://h:00080/"),
    ("port-twice", b"http://h:8080:90/"),
    ("pct", b"http://h/a%20b%2Fc?x=%41"),
    ("pct-bad", b"http://h/%zz"),
    ("pct-short", b"http://h/%4"),
    ("pct-host", b"http://%41.Example/"),
    ("dots", b"http://h/a/../b/./c"),
    ("double-slash", b"http://h//double//slash"),
    ("query-only", b"http://h?q"),
    ("fragment-only", b"http://h#f"),
    ("fragment-hash", b"http://h/p#f#g"),
    ("unsupported-scheme", b"ftp://h/"),
    ("upper", b"HTTP://H/P"),
    ("no-authority", b"http:/x"),
    ("http-colon-rel", b"http:g"),
    ("https-colon-rel", b"https:g"),
    ("scheme-relative", b"//other.example:81/p?q"),
    ("abs-path", b"/abs/path?x#y"),
    ("rel-path", b"rel/path"),
    ("up-up", b"../../g"),
    ("dot-slash", b"./g/"),
    ("ref-query", b"?y"),
    ("ref-fragment", b"#s"),
    ("rfc-g", b"g;x?y#s"),
    ("dot", b"."),
    ("dotdot", b".."),
    ("dotdot-escape", b"/../../..//evil.example/x"),
    ("empty", b""),
    ("space", b"http://h/a b"),
    ("ctl", b"http://h/\x01"),
    ("non-ascii", b"http://h/\xc3\xa9"),
    ("empty-userinfo", b"http://@h/"),
    ("two-at", b"http://u@h@x/"),
    ("userinfo-pct", b"http://us%3Aer:p%40ss@h/"),
    ("mailto", b"mailto:x@y"),
    ("javascript", b"javascript:alert(1)"),
    ("sub-delims", b"http://h/p?a=1&b=2;c=/?:@!$'()*+,"),
    ("lenient-chars", b"http://h/\"<>\\^`{|}[]"),
    ("backslash-host", b"http:\\\\h\\p"),
    ("crlf", b"http://h/\r\nX: y"),
]


# HTTP/2 (fuzz_http2.cpp): the mode byte, then the server's frames. The client's streams are 1 (GET),
# 3 (HEAD) and 5 (POST, with a body). Mode bits 0-2 split, 3 a 64-byte body limit, 4 the client closes,
# 5 the streams start one by one.
def h2_mode(split=0, limit=False, client_closes=False, one_by_one=False, flood_limit=False):
    return bytes([split | (0x08 if limit else 0) | (0x10 if client_closes else 0) |
                  (0x20 if one_by_one else 0) | (0x40 if flood_limit else 0)])


def frame(kind, flags, stream, payload=b""):
    return len(payload).to_bytes(3, "big") + bytes([kind, flags]) + stream.to_bytes(4, "big") + payload


DATA, HEADERS, RST, SETTINGS, PING, GOAWAY, WINDOW, CONT = 0, 1, 3, 4, 6, 7, 8, 9
END_STREAM, END_HEADERS, ACK = 0x1, 0x4, 0x1
S200 = b"\x88"                  # :status 200 (HPACK static table)
S204, S304 = b"\x89", b"\x8b"   # :status 204, 304
S100 = b"\x48\x03100"           # :status 100 (literal, indexed name)


def cl(n):                      # content-length (literal with indexing, static name 28)
    v = str(n).encode()
    return b"\x5c" + bytes([len(v)]) + v


def field(name, value):         # a literal field with a new name
    return b"\x40" + bytes([len(name)]) + name + bytes([len(value)]) + value


PREFACE = frame(SETTINGS, 0, 0) + frame(SETTINGS, ACK, 0)


def answer(stream, body=b"hello", status=S200, extra=b""):
    head = status + cl(len(body)) + extra
    if not body:
        return frame(HEADERS, END_HEADERS | END_STREAM, stream, head)
    return frame(HEADERS, END_HEADERS, stream, head) + frame(DATA, END_STREAM, stream, body)


ALL = answer(1) + frame(HEADERS, END_HEADERS | END_STREAM, 3, S200 + cl(5)) + answer(5, b"posted")
HTTP2 = [
    ("three-answers", h2_mode(), PREFACE + ALL),
    ("three-answers-bytewise", h2_mode(split=2), PREFACE + ALL),
    ("one-by-one", h2_mode(split=4, one_by_one=True), PREFACE + ALL),
    ("client-closes", h2_mode(split=3, client_closes=True), PREFACE + answer(1)),
    ("interim-100", h2_mode(split=5), PREFACE + frame(HEADERS, END_HEADERS, 1, S100) + answer(1)),
    ("trailers", h2_mode(split=1), PREFACE + frame(HEADERS, END_HEADERS, 1, S200) +
     frame(DATA, 0, 1, b"body") + frame(HEADERS, END_HEADERS | END_STREAM, 1, field(b"x-sum", b"abc"))),
    ("204-304", h2_mode(), PREFACE + answer(1, b"", S204) + answer(3, b"", S304) + answer(5)),
    ("body-over-limit", h2_mode(split=4, limit=True), PREFACE + answer(1, b"x" * 100) + ALL),
    ("length-mismatch", h2_mode(split=6), PREFACE + frame(HEADERS, END_HEADERS, 1, S200 + cl(3)) +
     frame(DATA, END_STREAM, 1, b"toolong")),
    ("reset-refused", h2_mode(), PREFACE + frame(RST, 0, 1, (7).to_bytes(4, "big")) +
     frame(RST, 0, 3, (2).to_bytes(4, "big")) + answer(5)),
    ("goaway-last-1", h2_mode(split=7), PREFACE + frame(GOAWAY, 0, 0, (1).to_bytes(4, "big") + bytes(4)) +
     answer(1)),
    ("continuation", h2_mode(split=5), PREFACE + frame(HEADERS, 0, 1, S200) +
     frame(CONT, 0, 1, field(b"x-a", b"1")) + frame(CONT, END_HEADERS, 1, cl(5)) +
     frame(DATA, END_STREAM, 1, b"hello")),
    ("ping-window-settings", h2_mode(split=4), PREFACE + frame(PING, 0, 0, bytes(8)) +
     frame(WINDOW, 0, 0, (65535).to_bytes(4, "big")) +
     frame(SETTINGS, 0, 0, (3).to_bytes(2, "big") + (1).to_bytes(4, "big")) + ALL),
    ("zero-window", h2_mode(), frame(SETTINGS, 0, 0, (4).to_bytes(2, "big") + bytes(4)) + answer(1)),
    ("padded-data", h2_mode(split=3), PREFACE + frame(HEADERS, END_HEADERS, 1, S200 + cl(2)) +
     frame(DATA, END_STREAM | 0x8, 1, b"\x03ok\0\0\0")),
    ("no-preface", h2_mode(), ALL),
    # A flood limit of 4: the server's SETTINGS, its ACK and two PINGs pass; the fifth frame that carries
    # nothing (an empty DATA frame) fails the connection.
    ("flood-limit", h2_mode(split=4, flood_limit=True), PREFACE + frame(PING, 0, 0, bytes(8)) +
     frame(PING, 0, 0, bytes(8)) + frame(HEADERS, END_HEADERS, 1, S200) + frame(DATA, 0, 1, b"") + ALL),
]


def write(target, entries, with_mode):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    names = set()
    for e in entries:
        if with_mode:
            name, m, body = e
            data = m + body
        else:
            name, data = e
        fname = "seed-" + name
        assert fname not in names, fname
        names.add(fname)
        with open(os.path.join(d, fname), "wb") as f:
            f.write(data)
    for f in os.listdir(d):
        if f.startswith("seed-") and f not in names:
            os.remove(os.path.join(d, f))
    print(f"{target}: {len(names)} seeds")


def main():
    write("response", RESPONSE, True)
    write("chunked", CHUNKED, True)
    write("url", URL, False)
    write("http2", HTTP2, True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
