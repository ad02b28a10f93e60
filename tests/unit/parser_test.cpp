// Unit tests of http1::response_parser.
//
// Every response in the tables is fed (a) whole, (b) split into two pieces at every byte position and
// (c) one byte at a time, through `connection_sim`, which drives the parser exactly as a connection does
// over its read buffer: append what arrived, parse the unconsumed bytes, drop what was consumed (moving the
// rest to the front before the next read, which invalidates views: everything is copied out first).
#include "http1/parser.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

using namespace std::string_literals;
using sentinel::error;
using sentinel::field_view;
using sentinel::http1::body_framing;
using sentinel::http1::parser_limits;
using sentinel::http1::request_kind;
using sentinel::http1::response_head;
using sentinel::http1::response_parser;

// ---- allocation counting (the steady-state test) ----------------------------------------------------------
// Replacing the global operator new affects the whole test executable; it counts only on a thread that
// turned counting on. Under AddressSanitizer the replacement is left out, so ASan keeps its own new/delete
// checks (alloc-dealloc mismatch), and the one test that needs it skips with a message.
#if defined(__SANITIZE_ADDRESS__)
#define SENTINEL_PARSER_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SENTINEL_PARSER_TEST_ASAN 1
#endif
#endif

#ifndef SENTINEL_PARSER_TEST_ASAN
namespace {
thread_local bool count_allocations = false;
thread_local std::size_t allocations = 0;
}  // namespace

void* operator new(std::size_t n) {
  if (count_allocations) ++allocations;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
// noinline: once inlined, g++ sees free() applied to a `new` result and warns (-Wmismatched-new-delete).
[[gnu::noinline]] void operator delete(void* p) noexcept {
  std::free(p);
}
[[gnu::noinline]] void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
#endif

namespace {

// ---- owned copies of what the parser returns -------------------------------------------------------------
struct field {
  std::string name, value;
  friend bool operator==(const field&, const field&) = default;
};

std::vector<field> copy_fields(const std::vector<field_view>& in) {
  std::vector<field> out;
  for (const field_view& f : in)
    out.push_back({std::string(f.name), std::string(f.value)});
  return out;
}

struct head_copy {
  int status = 0;
  int version = 0;
  std::string reason;
  std::vector<field> fields;
  body_framing framing = body_framing::none;
  std::uint64_t content_length = 0;
  bool keep_alive = false;
  friend bool operator==(const head_copy&, const head_copy&) = default;
};

head_copy copy_head(const response_head& h) {
  return {h.status,  h.version,        std::string(h.reason), copy_fields(h.fields),
          h.framing, h.content_length, h.keep_alive};
}

// Everything a connection would learn from one response.
struct outcome {
  std::vector<head_copy> interim;
  std::optional<head_copy> head;  // the final head
  std::string body;
  std::vector<field> trailers;
  std::error_code ec;
  bool done = false;
  std::string rest;          // bytes after the response, left unconsumed (next response, tunnel bytes)
  bool views_inside = true;  // every view pointed into the bytes given to the parser
  friend bool operator==(const outcome&, const outcome&) = default;
};

std::string printable(std::string_view s) {
  std::string out;
  static constexpr char hex[] = "0123456789abcdef";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\r')
      out += "\\r";
    else if (c == '\n')
      out += "\\n";
    else if (c == '\\')
      out += "\\\\";
    else if (u >= 0x20 && u < 0x7f)
      out += c;
    else
      out += {'\\', 'x', hex[u >> 4], hex[u & 15]};
  }
  return out;
}

const char* framing_name(body_framing f) {
  switch (f) {
    case body_framing::none:
      return "none";
    case body_framing::content_length:
      return "content_length";
    case body_framing::chunked:
      return "chunked";
    case body_framing::until_close:
      return "until_close";
  }
  return "?";
}

std::string describe(const std::vector<field>& fs) {
  std::string s = "{";
  for (const field& f : fs)
    s += " [" + printable(f.name) + ": " + printable(f.value) + "]";
  return s + " }";
}

std::string describe(const head_copy& h) {
  return std::to_string(h.status) + " v" + std::to_string(h.version) + " reason=\"" + printable(h.reason) +
         "\" fields=" + describe(h.fields) + " framing=" + framing_name(h.framing) +
         " cl=" + std::to_string(h.content_length) + " keep_alive=" + (h.keep_alive ? "1" : "0");
}

}  // namespace

namespace Catch {
template <>
struct StringMaker<outcome> {
  static std::string convert(const outcome& o) {
    std::string s = "\n  ec: " + (o.ec ? o.ec.message() : std::string("none"));
    for (const head_copy& h : o.interim)
      s += "\n  interim: " + describe(h);
    s += "\n  head: " + (o.head ? describe(*o.head) : std::string("none"));
    s += "\n  body: \"" + printable(o.body) + "\"\n  trailers: " + describe(o.trailers);
    s += "\n  done: " + std::string(o.done ? "1" : "0") + "  rest: \"" + printable(o.rest) + "\"";
    s += "\n  views_inside: " + std::string(o.views_inside ? "1" : "0");
    return s;
  }
};
template <>
struct StringMaker<field> {
  static std::string convert(const field& f) {
    return "[" + printable(f.name) + ": " + printable(f.value) + "]";
  }
};
}  // namespace Catch

namespace {

// ---- the driver ------------------------------------------------------------------------------------------
bool inside(std::string_view v, const char* data, std::size_t size) {
  return v.empty() || (v.data() >= data && v.data() + v.size() <= data + size);
}

// Drives a parser over a growing read buffer the way a connection does.
class connection_sim {
 public:
  connection_sim(parser_limits limits, request_kind kind) : parser_(limits) { parser_.reset(kind); }

  // Bytes arrived from the socket.
  void receive(std::string_view bytes) {
    buf_.erase(0, start_);  // a connection moves the unconsumed tail to the front before reading more
    start_ = 0;
    buf_.append(bytes);
    if (!out_.ec) pump();
  }

  // The peer closed the connection.
  void close() {
    if (!out_.ec && !parser_.done()) parser_.on_eof(out_.ec);
  }

  outcome finish() {
    out_.done = parser_.done();
    out_.rest = buf_.substr(start_);
    return out_;
  }

 private:
  void pump() {
    while (!out_.ec) {
      char* const data = buf_.data() + start_;
      const std::size_t size = buf_.size() - start_;
      if (!parser_.head_done()) {
        const std::size_t n = parser_.parse_head(data, size, out_.ec);
        if (out_.ec || n == 0) return;
        const response_head& h = parser_.head();
        bool in = inside(h.reason, data, n);
        for (const field_view& f : h.fields)
          in = in && inside(f.name, data, n) && inside(f.value, data, n);
        out_.views_inside = out_.views_inside && in;
        start_ += n;
        // Copy now: the head's bytes are dropped (interim) or moved by the next receive().
        if (h.interim())
          out_.interim.push_back(copy_head(h));
        else
          out_.head = copy_head(h);
        continue;
      }
      if (parser_.done()) return;
      std::string_view body;
      const std::size_t n = parser_.parse_body(data, size, body, out_.ec);
      if (out_.ec) return;
      REQUIRE(n <= size);
      out_.views_inside = out_.views_inside && inside(body, data, n);
      out_.body.append(body);
      start_ += n;
      if (parser_.done()) {
        for (const field_view& f : parser_.trailers())
          out_.views_inside = out_.views_inside && inside(f.name, data, n) && inside(f.value, data, n);
        out_.trailers = copy_fields(parser_.trailers());
      }
      if (n == 0) return;
    }
  }

  response_parser parser_;
  std::string buf_;
  std::size_t start_ = 0;  // first unconsumed byte
  outcome out_;
};

outcome feed(std::string_view wire, const std::vector<std::size_t>& cuts, parser_limits limits,
             request_kind kind, bool close) {
  connection_sim sim(limits, kind);
  std::size_t prev = 0;
  for (std::size_t cut : cuts) {
    sim.receive(wire.substr(prev, cut - prev));
    prev = cut;
  }
  sim.receive(wire.substr(prev));
  if (close) sim.close();
  return sim.finish();
}

// Calls f(outcome, how) for the whole message, every two-piece split, and byte by byte.
template <class F>
void for_every_feeding(std::string_view wire, parser_limits limits, request_kind kind, bool close, F&& f) {
  f(feed(wire, {}, limits, kind, close), std::string("whole"));
  for (std::size_t cut = 1; cut < wire.size(); ++cut)
    f(feed(wire, {cut}, limits, kind, close), "split at " + std::to_string(cut));
  std::vector<std::size_t> bytes;
  for (std::size_t i = 1; i < wire.size(); ++i)
    bytes.push_back(i);
  f(feed(wire, bytes, limits, kind, close), std::string("byte by byte"));
}

// ---- the table of valid responses ------------------------------------------------------------------------
struct ok_case {
  std::string name;
  std::string wire;
  request_kind kind = request_kind::normal;
  bool close = false;  // the peer closes after the last byte
  parser_limits limits = {};
  std::vector<head_copy> interim = {};
  int status = 200;
  int version = 11;
  std::string reason = "OK";
  std::vector<field> fields = {};
  body_framing framing = body_framing::content_length;
  std::uint64_t content_length = 0;
  bool keep_alive = true;
  std::string body = {};
  std::vector<field> trailers = {};
  std::string rest = {};
};

std::vector<ok_case> ok_cases() {
  std::vector<ok_case> cases;

  {
    const std::string html = "<html><body>It works!</body></html>\n";
    cases.push_back({
        .name = "nginx 200 with Content-Length",
        .wire = "HTTP/1.1 200 OK\r\n"
                "Server: nginx/1.22.1\r\n"
                "Date: Mon, 15 Jan 2024 10:00:00 GMT\r\n"
                "Content-Type: text/html\r\n"
                "Content-Length: 36\r\n"
                "Last-Modified: Mon, 15 Jan 2024 09:00:00 GMT\r\n"
                "Connection: keep-alive\r\n"
                "ETag: \"65a4f3c0-24\"\r\n"
                "Accept-Ranges: bytes\r\n"
                "\r\n" +
                html,
        .fields = {{"Server", "nginx/1.22.1"},
                   {"Date", "Mon, 15 Jan 2024 10:00:00 GMT"},
                   {"Content-Type", "text/html"},
                   {"Content-Length", "36"},
                   {"Last-Modified", "Mon, 15 Jan 2024 09:00:00 GMT"},
                   {"Connection", "keep-alive"},
                   {"ETag", "\"65a4f3c0-24\""},
                   {"Accept-Ranges", "bytes"}},
        .content_length = 36,
        .body = html,
    });
  }
  cases.push_back({
      .name = "chunked with extensions, upper-case hex, trailers (one folded)",
      .wire = "HTTP/1.1 200 OK\r\n"
              "Server: nginx\r\n"
              "Transfer-Encoding: chunked\r\n"
              "Trailer: X-Checksum, X-Folded\r\n"
              "\r\n"
              "5;name=value\r\nhello\r\n"
              "6 ; q=\"a;b\" ;x\r\n world\r\n"
              "00A\r\n0123456789\r\n"
              "0;last\r\n"
              "X-Checksum: abc123\r\n"
              "X-Folded: one\r\n two\r\n"
              "\r\n",
      .fields = {{"Server", "nginx"}, {"Transfer-Encoding", "chunked"}, {"Trailer", "X-Checksum, X-Folded"}},
      .framing = body_framing::chunked,
      .body = "hello world0123456789",
      .trailers = {{"X-Checksum", "abc123"}, {"X-Folded", "one   two"}},
  });
  cases.push_back({
      .name = "chunked, no trailers, next response pipelined",
      .wire = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nHTTP/1.1 204 No "
              "Content\r\n\r\n",
      .fields = {{"Transfer-Encoding", "chunked"}},
      .framing = body_framing::chunked,
      .body = "abc",
      .rest = "HTTP/1.1 204 No Content\r\n\r\n",
  });
  cases.push_back({
      .name = "HTTP/1.0 close-delimited",
      .wire = "HTTP/1.0 200 OK\r\nServer: SimpleHTTP/0.6 Python/3.11.2\r\nContent-type: text/plain\r\n\r\n"
              "line 1\nline 2\n",
      .close = true,
      .version = 10,
      .fields = {{"Server", "SimpleHTTP/0.6 Python/3.11.2"}, {"Content-type", "text/plain"}},
      .framing = body_framing::until_close,
      .keep_alive = false,
      .body = "line 1\nline 2\n",
  });
  cases.push_back({
      .name = "HTTP/1.0 keep-alive",
      .wire = "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nKeep-Alive: timeout=5, max=100\r\n"
              "Content-Length: 2\r\n\r\nok",
      .version = 10,
      .fields = {{"Connection", "Keep-Alive"}, {"Keep-Alive", "timeout=5, max=100"}, {"Content-Length", "2"}},
      .content_length = 2,
      .keep_alive = true,
      .body = "ok",
  });
  cases.push_back({
      .name = "HTTP/1.0 with Content-Length but no keep-alive",
      .wire = "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
      .version = 10,
      .fields = {{"Content-Length", "2"}},
      .content_length = 2,
      .keep_alive = false,
      .body = "ok",
  });
  cases.push_back({
      .name = "HTTP/1.0 keep-alive but close-delimited",
      .wire = "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\nxyz",
      .close = true,
      .version = 10,
      .fields = {{"Connection", "keep-alive"}},
      .framing = body_framing::until_close,
      .keep_alive = false,
      .body = "xyz",
  });
  cases.push_back({
      .name = "HTTP/1.1 without framing reads until close",
      .wire = "HTTP/1.1 200 OK\r\nServer: legacy\r\n\r\nuntil the end",
      .close = true,
      .fields = {{"Server", "legacy"}},
      .framing = body_framing::until_close,
      .keep_alive = false,
      .body = "until the end",
  });
  cases.push_back({
      .name = "204 No Content",
      .wire = "HTTP/1.1 204 No Content\r\nDate: Mon, 15 Jan 2024 10:00:00 GMT\r\nServer: nginx\r\n\r\n",
      .status = 204,
      .reason = "No Content",
      .fields = {{"Date", "Mon, 15 Jan 2024 10:00:00 GMT"}, {"Server", "nginx"}},
      .framing = body_framing::none,
  });
  cases.push_back({
      .name = "304 with Content-Length has no body",
      .wire = "HTTP/1.1 304 Not Modified\r\nETag: \"abc\"\r\nContent-Length: 1234\r\n\r\nHTTP/1.1 200 OK\r\n",
      .status = 304,
      .reason = "Not Modified",
      .fields = {{"ETag", "\"abc\""}, {"Content-Length", "1234"}},
      .framing = body_framing::none,
      .rest = "HTTP/1.1 200 OK\r\n",
  });
  cases.push_back({
      .name = "HEAD response with Content-Length has no body",
      .wire = "HTTP/1.1 200 OK\r\nContent-Length: 5000\r\nContent-Type: application/octet-stream\r\n\r\n"
              "HTTP/1.1",
      .kind = request_kind::head,
      .fields = {{"Content-Length", "5000"}, {"Content-Type", "application/octet-stream"}},
      .framing = body_framing::none,
      .rest = "HTTP/1.1",
  });
  cases.push_back({
      .name = "HEAD response with Transfer-Encoding has no body",
      .wire = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
      .kind = request_kind::head,
      .fields = {{"Transfer-Encoding", "chunked"}},
      .framing = body_framing::none,
  });
  cases.push_back({
      .name = "100 Continue then 200",
      .wire = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc",
      .interim = {{100, 11, "Continue", {}, body_framing::none, 0, true}},
      .fields = {{"Content-Length", "3"}},
      .content_length = 3,
      .body = "abc",
  });
  cases.push_back({
      .name = "103 Early Hints then 200",
      .wire = "HTTP/1.1 103 Early Hints\r\n"
              "Link: </style.css>; rel=preload; as=style\r\n"
              "Link: </script.js>; rel=preload; as=script\r\n"
              "\r\n"
              "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 4\r\n\r\n<p/>",
      .interim = {{103,
                   11,
                   "Early Hints",
                   {{"Link", "</style.css>; rel=preload; as=style"},
                    {"Link", "</script.js>; rel=preload; as=script"}},
                   body_framing::none,
                   0,
                   true}},
      .fields = {{"Content-Type", "text/html"}, {"Content-Length", "4"}},
      .content_length = 4,
      .body = "<p/>",
  });
  cases.push_back({
      .name = "100, 102 and 103 then a chunked 200",
      .wire = "HTTP/1.1 100 Continue\r\n\r\n"
              "HTTP/1.1 102 Processing\r\n\r\n"
              "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
              "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n",
      .interim = {{100, 11, "Continue", {}, body_framing::none, 0, true},
                  {102, 11, "Processing", {}, body_framing::none, 0, true},
                  {103, 11, "Early Hints", {{"Link", "</a.css>; rel=preload"}}, body_framing::none, 0, true}},
      .fields = {{"Transfer-Encoding", "chunked"}},
      .framing = body_framing::chunked,
      .body = "hi",
  });
  cases.push_back({
      .name = "100 Continue then the final response to a HEAD",
      .wire = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n",
      .kind = request_kind::head,
      .interim = {{100, 11, "Continue", {}, body_framing::none, 0, true}},
      .fields = {{"Content-Length", "10"}},
      .framing = body_framing::none,
  });
  cases.push_back({
      .name = "101 Switching Protocols leaves the new protocol's bytes",
      .wire = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n\x81\x05hello",
      .status = 101,
      .reason = "Switching Protocols",
      .fields = {{"Upgrade", "websocket"},
                 {"Connection", "Upgrade"},
                 {"Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="}},
      .framing = body_framing::none,
      .keep_alive = false,
      .rest = "\x81\x05hello",
  });
  cases.push_back({
      .name = "2xx to CONNECT is a tunnel",
      .wire = "HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x01\x02\x00"s,
      .kind = request_kind::connect,
      .reason = "Connection established",
      .framing = body_framing::none,
      .keep_alive = false,
      .rest = "\x16\x03\x01\x02\x00"s,
  });
  cases.push_back({
      .name = "407 to CONNECT has a body",
      .wire = "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"p\"\r\n"
              "Content-Length: 2\r\n\r\nno",
      .kind = request_kind::connect,
      .status = 407,
      .reason = "Proxy Authentication Required",
      .fields = {{"Proxy-Authenticate", "Basic realm=\"p\""}, {"Content-Length", "2"}},
      .content_length = 2,
      .body = "no",
  });
  cases.push_back({
      .name = "no reason phrase",
      .wire = "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n",
      .reason = "",
      .fields = {{"Content-Length", "0"}},
  });
  cases.push_back({
      .name = "empty reason phrase after SP",
      .wire = "HTTP/1.1 404 \r\nContent-Length: 0\r\n\r\n",
      .status = 404,
      .reason = "",
      .fields = {{"Content-Length", "0"}},
  });
  cases.push_back({
      .name = "reason phrase with HTAB and obs-text",
      .wire = "HTTP/1.1 200 \xc3\x9c"
              "ber\tOK \r\nContent-Length: 0\r\n\r\n",
      .reason = "\xc3\x9c"
                "ber\tOK ",
      .fields = {{"Content-Length", "0"}},
  });
  cases.push_back({
      .name = "obs-fold unfolded in place",
      .wire = "HTTP/1.1 200 OK\r\nX-Folded: first\r\n  second\r\n\tthird\r\nX-Empty:\r\n folded\r\n"
              "Content-Length: 0\r\n\r\n",
      .fields = {{"X-Folded", "first    second   third"}, {"X-Empty", "folded"}, {"Content-Length", "0"}},
  });
  cases.push_back({
      .name = "values trimmed of OWS, empty value, obs-text, odd token names",
      .wire = "HTTP/1.1 200 OK\r\nX-A:\t  padded value \t\r\nX-Empty:\r\nX-Spaces:    \r\n"
              "X-Utf8: caf\xc3\xa9\r\n!#$%&'*+-.^_`|~09az: token\r\nContent-Length: 0\r\n\r\n",
      .fields = {{"X-A", "padded value"},
                 {"X-Empty", ""},
                 {"X-Spaces", ""},
                 {"X-Utf8", "caf\xc3\xa9"},
                 {"!#$%&'*+-.^_`|~09az", "token"},
                 {"Content-Length", "0"}},
  });
  cases.push_back({
      .name = "duplicate equal Content-Length fields",
      .wire = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\nhello",
      .fields = {{"Content-Length", "5"}, {"content-length", "5"}},
      .content_length = 5,
      .body = "hello",
  });
  cases.push_back({
      .name = "Content-Length list of equal values",
      .wire = "HTTP/1.1 200 OK\r\nContent-Length: 5, 5 ,5\r\n\r\nhello",
      .fields = {{"Content-Length", "5, 5 ,5"}},
      .content_length = 5,
      .body = "hello",
  });
  cases.push_back({
      .name = "Content-Length with leading zeros",
      .wire = "HTTP/1.1 200 OK\r\nContent-Length: 0003\r\n\r\nabc",
      .fields = {{"Content-Length", "0003"}},
      .content_length = 3,
      .body = "abc",
  });
  cases.push_back({
      .name = "Transfer-Encoding with Content-Length: chunked, not reusable",
      .wire =
          "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
      .fields = {{"Content-Length", "100"}, {"Transfer-Encoding", "chunked"}},
      .framing = body_framing::chunked,
      .keep_alive = false,
      .body = "abc",
  });
  cases.push_back({
      .name = "Transfer-Encoding over several fields, any case, OWS, empty elements",
      .wire = "HTTP/1.1 200 OK\r\ntransfer-encoding: ,\r\nTRANSFER-ENCODING:  , Chunked \t\r\n\r\n"
              "1\r\nx\r\n0\r\n\r\n",
      .fields = {{"transfer-encoding", ","}, {"TRANSFER-ENCODING", ", Chunked"}},
      .framing = body_framing::chunked,
      .body = "x",
  });
  cases.push_back({
      .name = "HTTP/1.0 with chunked: parsed, not reusable",
      .wire = "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: "
              "chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n",
      .version = 10,
      .fields = {{"Connection", "keep-alive"}, {"Transfer-Encoding", "chunked"}},
      .framing = body_framing::chunked,
      .keep_alive = false,
      .body = "x",
  });
  cases.push_back({
      .name = "Connection: close among other tokens",
      .wire = "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nConnection: Upgrade , CLOSE\r\nContent-Length: "
              "1\r\n\r\n!",
      .fields = {{"Connection", "keep-alive"}, {"Connection", "Upgrade , CLOSE"}, {"Content-Length", "1"}},
      .content_length = 1,
      .keep_alive = false,
      .body = "!",
  });
  {
    // The head is exactly max_head_bytes long.
    std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nX-Pad: ";
    const std::string tail = "\r\n\r\n";
    const std::size_t limit = 2048;
    const std::string pad(limit - head.size() - tail.size(), 'p');
    cases.push_back({
        .name = "head exactly at a 2048-byte limit",
        .wire = head + pad + tail + "xyz",
        .limits = {.max_head_bytes = limit},
        .fields = {{"Content-Length", "3"}, {"X-Pad", pad}},
        .content_length = 3,
        .body = "xyz",
    });
  }
  {
    // Exactly the default max_header_count fields.
    std::string wire = "HTTP/1.1 200 OK\r\n";
    std::vector<field> fields;
    for (std::size_t i = 0; i + 1 < parser_limits{}.max_header_count; ++i) {
      fields.push_back({"X-Header-" + std::to_string(i), "value " + std::to_string(i)});
      wire += fields.back().name + ": " + fields.back().value + "\r\n";
    }
    fields.push_back({"Content-Length", "2"});
    wire += "Content-Length: 2\r\n\r\n..";
    cases.push_back({
        .name = "100 header fields (the default limit)",
        .wire = wire,
        .fields = fields,
        .content_length = 2,
        .body = "..",
    });
  }
  {
    const std::string body = "\0\r\n\r\n\xff\x80HTTP/1.1 200 OK\r\n\r\n0\r\n\r\n"s;
    cases.push_back({
        .name = "binary body with Content-Length",
        .wire = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: " +
                std::to_string(body.size()) + "\r\n\r\n" + body,
        .fields = {{"Content-Type", "application/octet-stream"},
                   {"Content-Length", std::to_string(body.size())}},
        .content_length = body.size(),
        .body = body,
    });
  }
  cases.push_back({
      .name = "binary chunk data that looks like chunk syntax",
      .wire = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
              "9\r\n\r\n0\r\n\r\n\0\xff\r\n"
              "2\r\n\n\r\r\n"
              "0\r\n\r\n"s,
      .fields = {{"Transfer-Encoding", "chunked"}},
      .framing = body_framing::chunked,
      .body = "\r\n0\r\n\r\n\0\xff\n\r"s,
  });
  // Found by the differential test against libhttp-parser (tests/fuzz/DIFFERENTIAL.md).
  cases.push_back({
      .name = "chunk size with more than 16 hex digits, leading zeros",
      .wire = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
              "000000000000000000005\r\nhello\r\n00000000000000000000\r\n\r\n",
      .fields = {{"Transfer-Encoding", "chunked"}},
      .framing = body_framing::chunked,
      .body = "hello",
  });
  cases.push_back({
      .name = "HTTP/1.2 is read as HTTP/1.1 (RFC 9110 section 2.5)",
      .wire = "HTTP/1.2 200 OK\r\nContent-Length: 2\r\n\r\nok",
      .fields = {{"Content-Length", "2"}},
      .content_length = 2,
      .body = "ok",
  });
  cases.push_back({
      .name = "Content-Length: 0 with the next response pipelined",
      .wire = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\n\r\n",
      .fields = {{"Content-Length", "0"}},
      .rest = "HTTP/1.1 200 OK\r\n\r\n",
  });
  return cases;
}

void check_expected(const ok_case& c, const outcome& o) {
  INFO(Catch::StringMaker<outcome>::convert(o));
  REQUIRE_FALSE(o.ec);
  REQUIRE(o.done);
  REQUIRE(o.views_inside);
  REQUIRE(o.interim == c.interim);
  REQUIRE(o.head.has_value());
  const head_copy& h = *o.head;
  CHECK(h.status == c.status);
  CHECK(h.version == c.version);
  CHECK(h.reason == c.reason);
  CHECK(h.fields == c.fields);
  CHECK(h.framing == c.framing);
  CHECK(h.content_length == c.content_length);
  CHECK(h.keep_alive == c.keep_alive);
  CHECK(o.body == c.body);
  CHECK(o.trailers == c.trailers);
  CHECK(o.rest == c.rest);
}

// ---- the table of errors ---------------------------------------------------------------------------------
struct error_case {
  std::string name;
  std::string wire;
  error expected;
  parser_limits limits = {};
  request_kind kind = request_kind::normal;
  bool close = false;
};

std::vector<error_case> error_cases() {
  const std::string ok = "HTTP/1.1 200 OK\r\n";
  const std::string chunked = ok + "Transfer-Encoding: chunked\r\n\r\n";
  const std::string big(80, 'x');
  return {
      // bad_status_line (RFC 9112 §4)
      {"HTTP/2", "HTTP/2 200 OK\r\n\r\n", error::bad_status_line},
      {"HTTP/2.0", "HTTP/2.0 200 OK\r\n\r\n", error::bad_status_line},
      {"HTTP/1.10", "HTTP/1.10 200 OK\r\n\r\n", error::bad_status_line},
      {"HTTP/0.9", "HTTP/0.9 200 OK\r\n\r\n", error::bad_status_line},
      {"two-digit status", "HTTP/1.1 20 OK\r\n\r\n", error::bad_status_line},
      {"four-digit status", "HTTP/1.1 2000 OK\r\n\r\n", error::bad_status_line},
      {"status below 100", "HTTP/1.1 099 Low\r\n\r\n", error::bad_status_line},
      {"non-digit status", "HTTP/1.1 2x0 OK\r\n\r\n", error::bad_status_line},
      {"two spaces before status", "HTTP/1.1  200 OK\r\n\r\n", error::bad_status_line},
      {"no space after status", "HTTP/1.1 200OK\r\n\r\n", error::bad_status_line},
      {"lower-case HTTP", "http/1.1 200 OK\r\n\r\n", error::bad_status_line},
      {"not HTTP at all", "ICY 200 OK\r\n\r\n", error::bad_status_line},
      {"empty line first", "\r\nHTTP/1.1 200 OK\r\n\r\n", error::bad_status_line},
      {"bare LF ends the status line", "HTTP/1.1 200 OK\nServer: x\r\n\r\n", error::bad_status_line},
      {"CTL in reason", "HTTP/1.1 200 O\x01K\r\n\r\n", error::bad_status_line},
      {"NUL in reason", "HTTP/1.1 200 O\0K\r\n\r\n"s, error::bad_status_line},
      {"DEL in reason", "HTTP/1.1 200 OK\x7f\r\n\r\n", error::bad_status_line},
      {"lone CR in reason", "HTTP/1.1 200 OK\r\r\n\r\n", error::bad_status_line},
      {"truncated status line", "HTTP/1.1\r\n\r\n", error::bad_status_line},
      // ... detected before the head is complete: a non-HTTP peer, or a bare LF, fails at once.
      {"SSH banner, no end of head", "SSH-2.0-OpenSSH_9.2p1\r\n", error::bad_status_line},
      {"HTML instead of a head", "<html><body>", error::bad_status_line},
      {"bare LF, no end of head", "HTTP/1.1 200 OK\nServer: x\r\n", error::bad_status_line},
      // bad_header (RFC 9112 §5, RFC 9110 §5.5)
      {"space before colon", ok + "Server : nginx\r\n\r\n", error::bad_header},
      {"tab before colon", ok + "Server\t: nginx\r\n\r\n", error::bad_header},
      {"no colon", ok + "Server\r\n\r\n", error::bad_header},
      {"empty name", ok + ": value\r\n\r\n", error::bad_header},
      {"space in name", ok + "X Foo: bar\r\n\r\n", error::bad_header},
      {"non-token name", ok + "X[1]: bar\r\n\r\n", error::bad_header},
      {"NUL in value", ok + "X: a\0b\r\n\r\n"s, error::bad_header},
      {"lone CR in value", ok + "X: a\rb\r\n\r\n", error::bad_header},
      {"ESC in value", ok + "X: \x1b[31mred\r\n\r\n", error::bad_header},
      {"DEL in value", ok + "X: a\x7f\r\n\r\n", error::bad_header},
      {"bare LF ends a field line", ok + "X: a\nY: b\r\n\r\n", error::bad_header},
      {"bare LF in a field, no end of head", ok + "X: a\nY: b", error::bad_header},
      {"bare LF ends the head", ok + "X: a\r\n\n", error::bad_header},
      {"fold before the first field", ok + " X: a\r\n\r\n", error::bad_header},
      {"CTL in a folded line", ok + "X: a\r\n b\x01\r\n\r\n", error::bad_header},
      {"bad trailer field", chunked + "0\r\nX : y\r\n\r\n", error::bad_header},
      {"bare LF ends the chunked body", chunked + "0\r\n\n", error::bad_header},
      // header_too_large / too_many_headers
      {"head over the limit", ok + "X: " + big + "\r\n\r\n", error::header_too_large, {.max_head_bytes = 64}},
      {"incomplete head over the limit", ok + "X: " + big, error::header_too_large, {.max_head_bytes = 64}},
      {"trailers over the limit",
       chunked + "0\r\nX: " + big + "\r\n\r\n",
       error::header_too_large,
       {.max_head_bytes = 64}},
      {"too many fields",
       ok + "A: 1\r\nB: 2\r\nC: 3\r\n\r\n",
       error::too_many_headers,
       {.max_header_count = 2}},
      {"too many trailers",
       ok + "Transfer-Encoding: chunked\r\n\r\n0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n",
       error::too_many_headers,
       {.max_header_count = 2}},
      // bad_content_length (RFC 9110 §8.6)
      {"CL not a number", ok + "Content-Length: abc\r\n\r\n", error::bad_content_length},
      {"CL empty", ok + "Content-Length:\r\n\r\n", error::bad_content_length},
      {"CL negative", ok + "Content-Length: -1\r\n\r\n", error::bad_content_length},
      {"CL plus sign", ok + "Content-Length: +5\r\n\r\n", error::bad_content_length},
      {"CL hex", ok + "Content-Length: 0x10\r\n\r\n", error::bad_content_length},
      {"CL with inner space", ok + "Content-Length: 5 5\r\n\r\n", error::bad_content_length},
      {"CL 2^64", ok + "Content-Length: 18446744073709551616\r\n\r\n", error::bad_content_length},
      {"CL far too big", ok + "Content-Length: 99999999999999999999999\r\n\r\n", error::bad_content_length},
      {"CL trailing comma", ok + "Content-Length: 5,\r\n\r\n", error::bad_content_length},
      {"CL empty element", ok + "Content-Length: 5, ,5\r\n\r\n", error::bad_content_length},
      {"CL good then bad field", ok + "Content-Length: 5\r\nContent-Length: x\r\n\r\n",
       error::bad_content_length},
      // multiple_content_length
      {"CL list disagrees", ok + "Content-Length: 5, 6\r\n\r\n", error::multiple_content_length},
      {"CL fields disagree", ok + "Content-Length: 5\r\nContent-Length: 6\r\n\r\n",
       error::multiple_content_length},
      // bad_transfer_encoding (RFC 9112 §6.1, §6.3)
      {"TE gzip", ok + "Transfer-Encoding: gzip\r\n\r\n", error::bad_transfer_encoding},
      {"TE gzip, chunked", ok + "Transfer-Encoding: gzip, chunked\r\n\r\n", error::bad_transfer_encoding},
      {"TE chunked, gzip", ok + "Transfer-Encoding: chunked, gzip\r\n\r\n", error::bad_transfer_encoding},
      {"TE chunked twice", ok + "Transfer-Encoding: chunked, chunked\r\n\r\n", error::bad_transfer_encoding},
      {"TE chunked in two fields", ok + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
       error::bad_transfer_encoding},
      {"TE chunked then gzip field", ok + "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n",
       error::bad_transfer_encoding},
      {"TE identity", ok + "Transfer-Encoding: identity\r\n\r\n", error::bad_transfer_encoding},
      {"TE chunked with a parameter", ok + "Transfer-Encoding: chunked;q=1\r\n\r\n",
       error::bad_transfer_encoding},
      {"TE empty", ok + "Transfer-Encoding:\r\n\r\n", error::bad_transfer_encoding},
      {"TE gzip with CL", ok + "Transfer-Encoding: gzip\r\nContent-Length: 3\r\n\r\nabc",
       error::bad_transfer_encoding},
      // bad_chunk (RFC 9112 §7.1)
      {"chunk size not hex", chunked + "zz\r\n", error::bad_chunk},
      {"chunk size empty", chunked + "\r\n", error::bad_chunk},
      {"chunk size negative", chunked + "-5\r\n", error::bad_chunk},
      {"chunk size 0x", chunked + "0x5\r\n", error::bad_chunk},
      {"chunk size 2^64", chunked + "10000000000000000\r\n", error::bad_chunk},
      {"chunk size 2^64 after leading zeros", chunked + "0010000000000000000\r\n", error::bad_chunk},
      {"chunk size with trailing space", chunked + "5 \r\nhello\r\n0\r\n\r\n", error::bad_chunk},
      {"chunk size line with bare LF", chunked + "5\nhello\r\n0\r\n\r\n", error::bad_chunk},
      {"CTL in chunk extension", chunked + "5;a=\x01\r\nhello\r\n0\r\n\r\n", error::bad_chunk},
      {"lone CR in chunk extension", chunked + "5;a\rb\r\nhello\r\n0\r\n\r\n", error::bad_chunk},
      {"no CRLF after chunk data", chunked + "5\r\nhelloXY0\r\n\r\n", error::bad_chunk},
      {"CR without LF after chunk data", chunked + "5\r\nhello\rX0\r\n\r\n", error::bad_chunk},
      {"bare LF after chunk data", chunked + "5\r\nhello\n0\r\n\r\n", error::bad_chunk},
      {"last chunk with bare LF", chunked + "5\r\nhello\r\n0\n\r\n", error::bad_chunk},
      // chunk_line_too_long
      {"chunk extension over the limit",
       chunked + "5;" + big + "\r\nhello\r\n0\r\n\r\n",
       error::chunk_line_too_long,
       {.max_chunk_line_bytes = 32}},
      {"incomplete chunk line over the limit",
       chunked + "5;" + big,
       error::chunk_line_too_long,
       {.max_chunk_line_bytes = 32}},
      // body_too_large
      {"CL over the body limit",
       ok + "Content-Length: 11\r\n\r\n",
       error::body_too_large,
       {.max_body_bytes = 10}},
      {"one chunk over the body limit", chunked + "b\r\n", error::body_too_large, {.max_body_bytes = 10}},
      {"chunks over the body limit",
       chunked + "6\r\n123456\r\n5\r\n12345\r\n0\r\n\r\n",
       error::body_too_large,
       {.max_body_bytes = 10}},
      {"close-delimited over the body limit",
       ok + "\r\n12345678901",
       error::body_too_large,
       {.max_body_bytes = 10},
       request_kind::normal,
       true},
      // unexpected_eof
      {"EOF before any byte", "", error::unexpected_eof, {}, request_kind::normal, true},
      {"EOF in the head", ok + "Content-Le", error::unexpected_eof, {}, request_kind::normal, true},
      {"EOF after an interim head",
       "HTTP/1.1 100 Continue\r\n\r\n",
       error::unexpected_eof,
       {},
       request_kind::normal,
       true},
      {"EOF in a Content-Length body",
       ok + "Content-Length: 10\r\n\r\nabc",
       error::unexpected_eof,
       {},
       request_kind::normal,
       true},
      {"EOF in chunk data", chunked + "5\r\nhel", error::unexpected_eof, {}, request_kind::normal, true},
      {"EOF in a chunk-size line",
       chunked + "5\r\nhello\r\n1",
       error::unexpected_eof,
       {},
       request_kind::normal,
       true},
      {"EOF before the last chunk",
       chunked + "5\r\nhello\r\n",
       error::unexpected_eof,
       {},
       request_kind::normal,
       true},
      {"EOF in the trailers",
       chunked + "0\r\nX: y\r\n",
       error::unexpected_eof,
       {},
       request_kind::normal,
       true},
  };
}

// A response head of exactly `len` bytes (padding in one field), followed by an empty body.
std::string head_of_length(std::size_t len) {
  const std::string start = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Pad: ";
  const std::string end = "\r\n\r\n";
  return start + std::string(len - start.size() - end.size(), 'p') + end;
}

}  // namespace

// ---- tests -----------------------------------------------------------------------------------------------

TEST_CASE("parser: realistic responses, whole, split at every byte, byte by byte", "[parser]") {
  for (const ok_case& c : ok_cases()) {
    SECTION(c.name) {
      const outcome whole = feed(c.wire, {}, c.limits, c.kind, c.close);
      check_expected(c, whole);
      for_every_feeding(c.wire, c.limits, c.kind, c.close, [&](const outcome& o, const std::string& how) {
        INFO(how);
        REQUIRE(o == whole);
      });
    }
  }
}

TEST_CASE("parser: every error, whole, split at every byte, byte by byte", "[parser]") {
  for (const error_case& c : error_cases()) {
    SECTION(c.name) {
      for_every_feeding(c.wire, c.limits, c.kind, c.close, [&](const outcome& o, const std::string& how) {
        INFO(how << "\n" << Catch::StringMaker<outcome>::convert(o));
        REQUIRE(o.ec == make_error_code(c.expected));
        REQUIRE_FALSE(o.done);
      });
    }
  }
}

namespace {

outcome feed_whole(const std::string& wire, parser_limits limits, bool close = false,
                   request_kind kind = request_kind::normal) {
  return feed(wire, {}, limits, kind, close);
}

// Requires the same outcome for every feeding (for an error: the same error; how much body was delivered
// before it depends on the pieces); returns the whole-message outcome.
outcome feed_all(const std::string& wire, parser_limits limits, bool close = false) {
  const outcome whole = feed_whole(wire, limits, close);
  for_every_feeding(wire, limits, request_kind::normal, close, [&](const outcome& o, const std::string& how) {
    INFO(how);
    if (whole.ec)
      REQUIRE(o.ec == whole.ec);
    else
      REQUIRE(o == whole);
  });
  return whole;
}

}  // namespace

TEST_CASE("parser: max_head_bytes counts the whole head, CRLFCRLF included", "[parser]") {
  const std::size_t limit = 256;
  const std::string wire = head_of_length(limit);
  REQUIRE(wire.size() == limit);

  const outcome at = feed_all(wire, {.max_head_bytes = limit});
  CHECK_FALSE(at.ec);
  CHECK(at.done);
  const outcome over = feed_all(wire, {.max_head_bytes = limit - 1});
  CHECK(over.ec == error::header_too_large);

  SECTION("and holds while the head is incomplete") {
    std::string buf = "HTTP/1.1 200 OK\r\nX: " + std::string(limit, 'x');
    response_parser p({.max_head_bytes = limit});
    p.reset();
    std::error_code ec;
    CHECK(p.parse_head(buf.data(), limit - 1, ec) == 0);
    CHECK_FALSE(ec);
    CHECK(p.parse_head(buf.data(), limit, ec) == 0);
    CHECK(ec == error::header_too_large);
  }
  SECTION("and applies to the trailer block") {
    const std::string start = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n";
    const std::string trailer_start = "X-Trailer: ";
    const std::string trailers =
        trailer_start + std::string(limit - trailer_start.size() - 4, 't') + "\r\n\r\n";
    REQUIRE(trailers.size() == limit);
    const outcome ok = feed_all(start + trailers, {.max_head_bytes = limit});
    CHECK_FALSE(ok.ec);
    CHECK(ok.done);
    REQUIRE(ok.trailers.size() == 1);
    CHECK(ok.trailers[0].value.size() == limit - trailer_start.size() - 4);
    CHECK(feed_all(start + trailers, {.max_head_bytes = limit - 1}).ec == error::header_too_large);
  }
}

TEST_CASE("parser: max_header_count, for fields and trailers", "[parser]") {
  const std::string fields = "A: 1\r\nB: 2\r\nContent-Length: 0\r\n";
  const std::string wire = "HTTP/1.1 200 OK\r\n" + fields + "\r\n";
  CHECK(feed_all(wire, {.max_header_count = 3}).done);
  CHECK(feed_all(wire, {.max_header_count = 2}).ec == error::too_many_headers);

  const std::string chunked =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT1: a\r\nT2: b\r\n\r\n";
  const outcome two = feed_all(chunked, {.max_header_count = 2});
  CHECK(two.done);
  CHECK(two.trailers.size() == 2);
  CHECK(feed_all(chunked, {.max_header_count = 1}).ec == error::too_many_headers);

  SECTION("obs-fold lines do not count as fields") {
    CHECK(
        feed_all("HTTP/1.1 200 OK\r\nA: 1\r\n 2\r\n 3\r\nContent-Length: 0\r\n\r\n", {.max_header_count = 2})
            .done);
  }
}

TEST_CASE("parser: max_chunk_line_bytes counts the whole line, CRLF included", "[parser]") {
  const std::size_t limit = 16;
  const std::string line = "5;" + std::string(limit - 4, 'e') + "\r\n";
  REQUIRE(line.size() == limit);
  const std::string wire =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + line + "hello\r\n0\r\n\r\n";
  const outcome at = feed_all(wire, {.max_chunk_line_bytes = limit});
  CHECK_FALSE(at.ec);
  CHECK(at.body == "hello");
  CHECK(feed_all(wire, {.max_chunk_line_bytes = limit - 1}).ec == error::chunk_line_too_long);

  SECTION("an incomplete line fails as soon as it reaches the limit") {
    response_parser p({.max_chunk_line_bytes = limit});
    p.reset();
    std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    std::error_code ec;
    REQUIRE(p.parse_head(head.data(), head.size(), ec) == head.size());
    std::string body = "5;" + std::string(100, 'e');
    std::string_view out;
    CHECK(p.parse_body(body.data(), limit - 1, out, ec) == 0);
    CHECK_FALSE(ec);
    CHECK(p.parse_body(body.data(), limit, out, ec) == 0);
    CHECK(ec == error::chunk_line_too_long);
  }
}

TEST_CASE("parser: max_body_bytes for Content-Length, chunked and close-delimited bodies", "[parser]") {
  const parser_limits limits{.max_body_bytes = 10};

  SECTION("Content-Length: the limit itself passes; one more fails at the head, before any body byte") {
    const outcome at = feed_all("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789", limits);
    CHECK(at.done);
    CHECK(at.body == "0123456789");
    response_parser p(limits);
    p.reset();
    std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n";
    std::error_code ec;
    CHECK(p.parse_head(head.data(), head.size(), ec) == 0);
    CHECK(ec == error::body_too_large);
  }
  SECTION("chunked: decoded bytes count, not wire bytes") {
    const std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    const outcome at = feed_all(head + "6;ext=long-extension\r\n012345\r\n4\r\n6789\r\n0\r\n\r\n", limits);
    CHECK(at.done);
    CHECK(at.body == "0123456789");
    CHECK(feed_all(head + "6\r\n012345\r\n5\r\n6789a\r\n0\r\n\r\n", limits).ec == error::body_too_large);
  }
  SECTION("close-delimited") {
    const outcome at = feed_all("HTTP/1.1 200 OK\r\n\r\n0123456789", limits, true);
    CHECK(at.done);
    CHECK(at.body == "0123456789");
    CHECK(feed_all("HTTP/1.1 200 OK\r\n\r\n0123456789a", limits, true).ec == error::body_too_large);
  }
  SECTION("0 means unlimited") {
    const outcome big = feed_whole("HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551615\r\n\r\nabc", {});
    REQUIRE(big.head);
    CHECK(big.head->content_length == 18446744073709551615u);
    CHECK(big.body == "abc");
    CHECK_FALSE(big.done);
  }
}

TEST_CASE("parser: an interim head prepares the parser for the next head", "[parser]") {
  response_parser p;
  p.reset();
  std::error_code ec;
  std::string first = "HTTP/1.1 100 Continue\r\n\r\n";
  REQUIRE(p.parse_head(first.data(), first.size(), ec) == first.size());
  CHECK(p.head().status == 100);
  CHECK(p.head().interim());
  CHECK_FALSE(p.head_done());
  CHECK_FALSE(p.done());

  // The caller dropped the interim head's bytes; what follows starts at data[0].
  std::string next = "HTTP/1.1 200 OK\r\nContent-Len";
  CHECK(p.parse_head(next.data(), next.size(), ec) == 0);
  CHECK_FALSE(ec);
  CHECK(p.head().status == 100);  // still the interim head until the next one is complete
  next += "gth: 2\r\n\r\nok";
  REQUIRE(p.parse_head(next.data(), next.size(), ec) == next.size() - 2);
  CHECK(p.head().status == 200);
  CHECK(p.head().fields.size() == 1);
  CHECK(p.head_done());
  std::string_view out;
  CHECK(p.parse_body(next.data() + next.size() - 2, 2, out, ec) == 2);
  CHECK(out == "ok");
  CHECK(p.done());
}

TEST_CASE("parser: 101 is final", "[parser]") {
  response_parser p;
  p.reset();
  std::error_code ec;
  std::string wire = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n";
  REQUIRE(p.parse_head(wire.data(), wire.size(), ec) == wire.size());
  CHECK_FALSE(p.head().interim());
  CHECK(p.head_done());
  CHECK(p.done());
  CHECK_FALSE(p.head().keep_alive);
}

TEST_CASE("parser: obs-fold is replaced with SP in the caller's buffer", "[parser]") {
  response_parser p;
  p.reset();
  std::error_code ec;
  std::string wire = "HTTP/1.1 200 OK\r\nX: a\r\n\tb\r\nContent-Length: 0\r\n\r\n";
  REQUIRE(p.parse_head(wire.data(), wire.size(), ec) == wire.size());
  // CRLF -> 2 SP, the fold's HTAB -> SP.
  CHECK(wire == "HTTP/1.1 200 OK\r\nX: a   b\r\nContent-Length: 0\r\n\r\n");
  REQUIRE(p.head().fields.size() == 2);
  CHECK(p.head().fields[0].value == "a   b");
  CHECK(p.head().fields[0].value.data() == wire.data() + 20);
}

TEST_CASE("parser: errors are final", "[parser]") {
  response_parser p;
  p.reset();
  std::error_code ec;
  std::string wire = "HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n";
  CHECK(p.parse_head(wire.data(), wire.size(), ec) == 0);
  CHECK(ec == error::bad_header);
  ec.clear();
  CHECK(p.parse_head(wire.data(), wire.size(), ec) == 0);
  CHECK(ec == error::bad_header);
  std::string_view out = "junk";
  CHECK(p.parse_body(wire.data(), wire.size(), out, ec) == 0);
  CHECK(ec == error::bad_header);
  CHECK(out.empty());
  p.on_eof(ec);
  CHECK(ec == error::bad_header);
  CHECK_FALSE(p.done());

  SECTION("until reset()") {
    std::string good = "HTTP/1.1 204 No Content\r\n\r\n";
    p.reset();
    CHECK(p.parse_head(good.data(), good.size(), ec) == good.size());
    CHECK_FALSE(ec);
    CHECK(p.done());
  }
}

TEST_CASE("parser: calls out of order report error::internal", "[parser]") {
  response_parser p;
  p.reset();
  std::error_code ec;
  std::string_view out;
  std::string wire = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx";
  CHECK(p.parse_body(wire.data(), wire.size(), out, ec) == 0);
  CHECK(ec == error::internal);

  p.reset();
  REQUIRE(p.parse_head(wire.data(), wire.size(), ec) == wire.size() - 1);
  CHECK(p.parse_head(wire.data(), wire.size(), ec) == 0);
  CHECK(ec == error::internal);
}

TEST_CASE("parser: on_eof", "[parser]") {
  std::error_code ec;
  std::string_view out;
  SECTION("completes a close-delimited body, even an empty one") {
    response_parser p;
    p.reset();
    std::string wire = "HTTP/1.0 200 OK\r\n\r\n";
    REQUIRE(p.parse_head(wire.data(), wire.size(), ec) == wire.size());
    CHECK_FALSE(p.done());
    p.on_eof(ec);
    CHECK_FALSE(ec);
    CHECK(p.done());
    CHECK(p.body_bytes() == 0);
  }
  SECTION("is harmless after a complete response") {
    response_parser p;
    p.reset();
    std::string wire = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx";
    REQUIRE(p.parse_head(wire.data(), wire.size(), ec) == wire.size() - 1);
    REQUIRE(p.parse_body(wire.data() + wire.size() - 1, 1, out, ec) == 1);
    p.on_eof(ec);
    CHECK_FALSE(ec);
    CHECK(p.done());
    CHECK(p.body_bytes() == 1);
  }
}

TEST_CASE("parser: one parser, many responses on one connection buffer", "[parser]") {
  // What a keep-alive connection does: reset() per request, parse over the same buffer.
  std::string wire =
      "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none"
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\ntwo\r\n0\r\nT: "
      "2\r\n\r\n"
      "HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n"
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nthree";
  const request_kind kinds[] = {request_kind::normal, request_kind::normal, request_kind::normal,
                                request_kind::head};
  const char* bodies[] = {"one", "two", "", ""};
  const int statuses[] = {200, 200, 304, 200};
  response_parser p;
  std::size_t start = 0;
  for (int i = 0; i < 4; ++i) {
    p.reset(kinds[i]);
    std::error_code ec;
    std::string body;
    while (!p.head_done()) {
      const std::size_t n = p.parse_head(wire.data() + start, wire.size() - start, ec);
      REQUIRE_FALSE(ec);
      REQUIRE(n > 0);
      start += n;
    }
    CHECK(p.head().status == statuses[i]);
    while (!p.done()) {
      std::string_view out;
      const std::size_t n = p.parse_body(wire.data() + start, wire.size() - start, out, ec);
      REQUIRE_FALSE(ec);
      REQUIRE(n > 0);
      body.append(out);
      start += n;
    }
    CHECK(body == bodies[i]);
    CHECK(p.trailers().size() == (i == 1 ? 1u : 0u));
  }
  CHECK(start == wire.size() - 5);  // the HEAD response's "three" is not its body
}

TEST_CASE("parser: a chunked call that ends the last chunk finishes the message", "[parser]") {
  // The connection learns done() with the last data, without another read.
  response_parser p;
  p.reset();
  std::error_code ec;
  std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  REQUIRE(p.parse_head(head.data(), head.size(), ec) == head.size());
  std::string body = "5\r\nhello\r\n0\r\n\r\n";
  std::string_view out;
  CHECK(p.parse_body(body.data(), body.size(), out, ec) == body.size());
  CHECK(out == "hello");
  CHECK(p.done());
  CHECK(p.body_bytes() == 5);
}

TEST_CASE("parser: a 64 KiB head fed byte by byte at the default limit", "[parser]") {
  const std::string wire = head_of_length(parser_limits{}.max_head_bytes);
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < wire.size(); ++i)
    cuts.push_back(i);
  const outcome o = feed(wire, cuts, {}, request_kind::normal, false);
  CHECK_FALSE(o.ec);
  CHECK(o.done);
  const std::string over = head_of_length(parser_limits{}.max_head_bytes + 1);
  CHECK(feed(over, {over.size() / 2}, {}, request_kind::normal, false).ec == error::header_too_large);
}

#ifndef SENTINEL_PARSER_TEST_ASAN
namespace {

// Parses one response from `data`, letting `step` more bytes "arrive" at a time; no allocation of its own.
bool parse_arriving(response_parser& p, char* data, std::size_t size, std::size_t step) {
  std::size_t have = 0;
  std::size_t start = 0;
  std::error_code ec;
  while (!p.done()) {
    if (have == size) return false;
    have = std::min(size, have + step);
    for (;;) {
      if (!p.head_done()) {
        const std::size_t n = p.parse_head(data + start, have - start, ec);
        if (ec) return false;
        if (n == 0) break;
        start += n;
        continue;
      }
      if (p.done()) break;
      std::string_view out;
      const std::size_t n = p.parse_body(data + start, have - start, out, ec);
      if (ec) return false;
      if (n == 0) break;
      start += n;
    }
  }
  return start == size;
}

}  // namespace
#endif

TEST_CASE("parser: steady-state parsing does not allocate", "[parser]") {
#ifdef SENTINEL_PARSER_TEST_ASAN
  WARN("skipped under AddressSanitizer: ASan owns operator new, so this build does not count allocations");
#else
  const std::string typical[] = {
      "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Mon, 15 Jan 2024 10:00:00 GMT\r\n"
      "Content-Type: application/json\r\nContent-Length: 16\r\nConnection: keep-alive\r\n"
      "Cache-Control: no-cache\r\nVary: Accept-Encoding\r\n\r\n{\"status\":\"ok\"}\n",
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n"
      "8;ext=1\r\n01234567\r\n3\r\nabc\r\n0\r\nX-Sum: 42\r\nX-Fold: a\r\n b\r\n\r\n",
  };
  char buffer[1024];
  response_parser p;
  auto run = [&](std::size_t step) {
    bool ok = true;
    for (const std::string& r : typical) {
      std::memcpy(buffer, r.data(), r.size());
      p.reset();
      ok = parse_arriving(p, buffer, r.size(), step) && ok;
    }
    return ok;
  };
  REQUIRE(run(1 << 20));  // warm-up: the field vectors reach their working size
  REQUIRE(run(1));

  allocations = 0;
  count_allocations = true;
  const bool whole = run(1 << 20);
  const bool split = run(7);
  const bool bytes = run(1);
  count_allocations = false;
  REQUIRE(whole);
  REQUIRE(split);
  REQUIRE(bytes);
  CHECK(allocations == 0);

  SECTION("the counter works") {
    // Through a volatile pointer: a new-expression whose result is unused may be elided.
    void* (*volatile allocate)(std::size_t) = static_cast<void* (*)(std::size_t)>(&::operator new);
    count_allocations = true;
    void* p = allocate(16);
    count_allocations = false;
    ::operator delete(p);
    CHECK(allocations == 1);
  }
#endif
}
