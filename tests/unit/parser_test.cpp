// Unit tests of http1::response_parser: the tables. Every response in them is fed (a) whole, (b) split into
// two pieces at every byte position and (c) one byte at a time, through parser_driver.hpp's
// connection_sim, which drives the parser exactly as a connection does over its read buffer.
//
// Three tables: realistic responses that must parse, errors that must be reported, and the RFC 9110/9112
// decisions (one row per behaviour, with the clause it rests on: bare LF line ends, chunk extensions,
// field syntax, Transfer-Encoding and Content-Length).
#include "parser_driver.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

using namespace std::string_literals;
using namespace parser_test;

namespace {

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
      {"CTL in reason", "HTTP/1.1 200 O\x01K\r\n\r\n", error::bad_status_line},
      {"NUL in reason", "HTTP/1.1 200 O\0K\r\n\r\n"s, error::bad_status_line},
      {"DEL in reason", "HTTP/1.1 200 OK\x7f\r\n\r\n", error::bad_status_line},
      {"lone CR in reason", "HTTP/1.1 200 OK\r\r\n\r\n", error::bad_status_line},
      {"truncated status line", "HTTP/1.1\r\n\r\n", error::bad_status_line},
      // ... detected before the head is complete: a non-HTTP peer fails at once.
      {"SSH banner, no end of head", "SSH-2.0-OpenSSH_9.2p1\r\n", error::bad_status_line},
      {"HTML instead of a head", "<html><body>", error::bad_status_line},
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
      {"fold before the first field", ok + " X: a\r\n\r\n", error::bad_header},
      {"CTL in a folded line", ok + "X: a\r\n b\x01\r\n\r\n", error::bad_header},
      {"bad trailer field", chunked + "0\r\nX : y\r\n\r\n", error::bad_header},
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
      {"CTL in chunk extension", chunked + "5;a=\x01\r\nhello\r\n0\r\n\r\n", error::bad_chunk},
      {"lone CR in chunk extension", chunked + "5;a\rb\r\nhello\r\n0\r\n\r\n", error::bad_chunk},
      {"no CRLF after chunk data", chunked + "5\r\nhelloXY0\r\n\r\n", error::bad_chunk},
      {"CR without LF after chunk data", chunked + "5\r\nhello\rX0\r\n\r\n", error::bad_chunk},
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

// ---- the table of RFC 9110/9112 decisions -----------------------------------------------------------------
// One row per behaviour: the bytes, what every feeding must give, and the clause the decision rests on.
// Where the RFC leaves a choice (MAY), the comment says which way we went and why.
struct verdict {
  error ec{};  // the error every feeding reports; error{} = accepted, and the response is complete
  int status = 200;
  std::vector<field> fields = {};
  body_framing framing = body_framing::content_length;
  std::uint64_t content_length = 0;
  std::string body = {};
  std::vector<field> trailers = {};
  bool keep_alive = true;
  int version = 11;
  std::string rest = {};
};

struct rfc_case {
  const char* rfc;  // RFC 9112 unless it says 9110
  std::string name;
  std::string wire;
  verdict expect;
  bool close = false;  // the peer closes after the last byte
  parser_limits limits = {};
};

const std::string ok_line = "HTTP/1.1 200 OK\r\n";
const std::string te_line = "Transfer-Encoding: chunked\r\n";
const std::string chunked_head = ok_line + te_line + "\r\n";
const std::vector<field> te_field = {{"Transfer-Encoding", "chunked"}};

// A bare LF is a line end everywhere; a CR is dropped only right before an LF; any other CR is refused.
std::vector<rfc_case> line_end_cases() {
  const auto until_close = [](std::vector<field> f) {
    return verdict{.fields = std::move(f), .framing = body_framing::until_close, .keep_alive = false};
  };
  return {
      // §2.2: "a recipient MAY recognize a single LF as a line terminator and ignore any preceding CR".
      // curl, Go and browsers do; the four rows below expected bad_status_line / bad_header before.
      {"§2.2", "bare LF ends the status line", "HTTP/1.1 200 OK\nServer: x\r\n\r\n",
       until_close({{"Server", "x"}}), true},
      {"§2.2", "bare LF ends a field line", ok_line + "X: a\nY: b\r\n\r\n",
       until_close({{"X", "a"}, {"Y", "b"}}), true},
      {"§2.2", "bare LF ends the head", ok_line + "X: a\r\n\n", until_close({{"X", "a"}}), true},
      // These two failed at once before; now they are heads still waiting for their empty line.
      {"§2.2", "bare LF, no end of head", "HTTP/1.1 200 OK\nServer: x\r\n", {error::unexpected_eof}, true},
      {"§2.2", "bare LF in a field, no end of head", ok_line + "X: a\nY: b", {error::unexpected_eof}, true},
      {"§2.2",
       "every line LF-only",
       "HTTP/1.1 200 OK\nContent-Length: 5\nX-A: b\n\nhello",
       {.fields = {{"Content-Length", "5"}, {"X-A", "b"}}, .content_length = 5, .body = "hello"}},
      {"§2.2",
       "LF-only heads, the next response pipelined",
       "HTTP/1.1 200 OK\nContent-Length: 1\n\nxHTTP/1.1 204 No Content\n\n",
       {.fields = {{"Content-Length", "1"}},
        .content_length = 1,
        .body = "x",
        .rest = "HTTP/1.1 204 No Content\n\n"}},
      {"§2.2",
       "mixed: a CRLF empty line after LF lines",
       "HTTP/1.1 200 OK\nA: 1\r\nB: 2\nContent-Length: 2\r\n\r\nok",
       {.fields = {{"A", "1"}, {"B", "2"}, {"Content-Length", "2"}}, .content_length = 2, .body = "ok"}},
      {"§2.2",
       "mixed: an LF empty line after CRLF lines",
       ok_line + "Content-Length: 2\r\n\nok",
       {.fields = {{"Content-Length", "2"}}, .content_length = 2, .body = "ok"}},
      {"§2.2",
       "LF-only status line without a reason",
       "HTTP/1.1 204\n\n",
       {.status = 204, .framing = body_framing::none}},
      // §5.2: the line end before a fold becomes SP, whichever it was.
      {"§5.2",
       "obs-fold after a bare LF",
       ok_line + "X: a\n b\nContent-Length: 0\n\n",
       {.fields = {{"X", "a  b"}, {"Content-Length", "0"}}}},
      {"§5.2",
       "obs-fold with HTAB after CRLF, then an LF line end",
       ok_line + "X: a\r\n\tb\nContent-Length: 0\r\n\r\n",
       {.fields = {{"X", "a   b"}, {"Content-Length", "0"}}}},
      // §2.2: "A sender MUST NOT generate a bare CR ... A recipient of such a bare CR MUST consider that
      // element to be invalid or replace each bare CR with SP". We refuse: a parser that took it as a line
      // end would see a different head (the last row would end the head early for it).
      {"§2.2", "bare CR in the status line", "HTTP/1.1 200 OK\rServer: x\r\n\r\n", {error::bad_status_line}},
      {"§2.2", "CR CR LF: the first CR stays in the line", ok_line + "X: a\r\r\n\n", {error::bad_header}},
      {"§2.2", "bare CR in a value before an LF line end", ok_line + "X: a\rb\n\n", {error::bad_header}},
      {"§2.2",
       "bare CR where the empty line would be",
       ok_line + "Content-Length: 0\r\n\rX: y\r\n\r\n",
       {error::bad_header}},
  };
}

// The same line ends in chunked bodies: chunk-size lines, after chunk data, trailers (§7.1, §2.2).
std::vector<rfc_case> chunked_line_end_cases() {
  const auto body = [](std::string b, std::vector<field> trailers = {}) {
    return verdict{.fields = te_field,
                   .framing = body_framing::chunked,
                   .body = std::move(b),
                   .trailers = std::move(trailers)};
  };
  return {
      // These four expected bad_chunk / bad_header before.
      {"§2.2, §7.1", "chunk size line with bare LF", chunked_head + "5\nhello\r\n0\r\n\r\n", body("hello")},
      {"§2.2, §7.1", "bare LF after chunk data", chunked_head + "5\r\nhello\n0\r\n\r\n", body("hello")},
      {"§2.2, §7.1", "last chunk with bare LF", chunked_head + "5\r\nhello\r\n0\n\r\n", body("hello")},
      {"§2.2, §7.1.2", "bare LF ends the chunked body", chunked_head + "0\r\n\n", body("")},
      {"§2.2, §7.1", "chunked, every line LF-only, with trailers",
       "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n5\nhello\n6;x=1\n world\n0\nX-T: 1\n\n",
       body("hello world", {{"X-T", "1"}})},
      {"§2.2, §7.1.2", "CRLF trailers, then an LF empty line", chunked_head + "0\r\nX: y\r\n\n",
       body("", {{"X", "y"}})},
      {"§2.2, §7.1",
       "LF-only chunked body, the next response pipelined",
       chunked_head + "1\nx\n0\n\nHTTP/1.1 204 No Content\n\n",
       {.fields = te_field,
        .framing = body_framing::chunked,
        .body = "x",
        .rest = "HTTP/1.1 204 No Content\n\n"}},
      {"§2.2, §7.1",
       "CR CR LF after chunk data",
       chunked_head + "5\r\nhello\r\r\n0\r\n\r\n",
       {error::bad_chunk}},
      {"§2.2, §7.1",
       "bare CR in a chunk-size line",
       chunked_head + "5\r5\r\nhello\r\n0\r\n\r\n",
       {error::bad_chunk}},
      {"§2.2, §7.1.2", "bare CR in a trailer", chunked_head + "0\r\nX: y\rZ: w\r\n\r\n", {error::bad_header}},
  };
}

// chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ), name a token, value a token or a
// quoted-string (§7.1.1, RFC 9110 §5.6.4). Parsed, not skipped: every deviation is bad_chunk.
std::vector<rfc_case> chunk_ext_cases() {
  const auto with = [](const std::string& line) { return chunked_head + line + "\r\nhello\r\n0\r\n\r\n"; };
  const verdict hello{.fields = te_field, .framing = body_framing::chunked, .body = "hello"};
  const verdict bad{error::bad_chunk};
  return {
      {"§7.1.1", "ext: a name alone", with("5;name"), hello},
      {"§7.1.1", "ext: name=token", with("5;name=tok-en.1"), hello},
      {"§7.1.1", "ext: several", with("5;a=b;c;d=e"), hello},
      {"§7.1.1", "ext: BWS around ; and =", with("5 ; a = b ;c"), hello},
      {"§7.1.1", "ext: HTAB as BWS", with("5\t;\ta\t=\tb"), hello},
      {"§7.1.1", "ext: quoted-string with SP, ; and =", with("5;q=\"a b;c=d\""), hello},
      {"§7.1.1", "ext: quoted-pairs for DQUOTE and backslash", with("5;q=\"a\\\"b\\\\c\""), hello},
      {"§7.1.1", "ext: quoted-pair of HTAB", with("5;q=\"tab\\\tx\""), hello},
      {"§7.1.1", "ext: empty quoted-string", with("5;q=\"\""), hello},
      {"§7.1.1", "ext: obs-text in a quoted-string", with("5;q=\"caf\xc3\xa9\""), hello},
      {"§7.1.1", "ext on the last chunk", chunked_head + "5\r\nhello\r\n0;done=\"yes\"\r\n\r\n", hello},
      {"§7.1.1, §2.2", "ext with LF line ends", chunked_head + "5;q=\"x\"\nhello\n0\n\n", hello},
      {"§7.1.1", "ext: unbalanced quote", with("5;q=\"abc"), bad},
      {"§7.1.1", "ext: an escaped DQUOTE leaves the string open", with("5;q=\"abc\\\""), bad},
      {"§7.1.1", "ext: backslash at the end of the line", with("5;q=\"abc\\"), bad},
      {"§7.1.1", "ext: empty name", with("5;"), bad},
      {"§7.1.1", "ext: empty name before =", with("5;=v"), bad},
      {"§7.1.1", "ext: empty element between ;;", with("5;a;;b"), bad},
      {"§7.1.1", "ext: empty value", with("5;a="), bad},
      {"§7.1.1", "ext: value with SP", with("5;a=b c"), bad},
      {"§7.1.1", "ext: value with a separator", with("5;a=b@c"), bad},
      {"§7.1.1", "ext: name with a separator", with("5;a@b"), bad},
      {"§7.1.1", "ext: obs-text in a name (accepted before as opaque)", with("5;\xff\xfe"), bad},
      {"§7.1.1", "ext: CTL in a quoted-string", with("5;q=\"a\x01\""), bad},
      {"§7.1.1, §2.2", "ext: bare CR in a quoted-string", with("5;q=\"a\rb\""), bad},
      {"§7.1.1", "ext: DEL in a value", with("5;a=b\x7f"), bad},
      {"§7.1.1", "ext: NUL in a name", with("5;a\0"s), bad},
      {"§7.1.1", "ext: whitespace at the end", with("5;a=b "), bad},
      {"§7.1.1", "ext: DQUOTE inside a token", with("5;a=b\"c\""), bad},
      {"§7.1.1", "ext: text after a quoted-string", with("5;q=\"a\"b"), bad},
      {"§7.1", "whitespace after chunk-size without ;", with("5 a"), bad},
      {"§7.1.1", "ext on the last chunk, unbalanced", chunked_head + "5\r\nhello\r\n0;x=\"\r\n\r\n", bad},
      // The whole line, quoted extension and CRLF included, counts toward max_chunk_line_bytes (16 here).
      {"§7.1.1",
       "ext: quoted, line exactly at the limit",
       with("5;q=\"xxxxxxxx\""),
       hello,
       false,
       {.max_chunk_line_bytes = 16}},
      {"§7.1.1",
       "ext: quoted, one byte over the limit",
       with("5;q=\"xxxxxxxxx\""),
       {error::chunk_line_too_long},
       false,
       {.max_chunk_line_bytes = 16}},
  };
}

// Field syntax: obs-fold, whitespace before the colon, empty names (§5, §5.1, §5.2, RFC 9110 §5.1, §5.5).
std::vector<rfc_case> field_cases() {
  const verdict bad{error::bad_header};
  const std::string cl0 = "Content-Length: 0\r\n";
  return {
      // §5.2: a user agent "MUST replace each received obs-fold with one or more SP octets".
      {"§5.2",
       "obs-fold: SP in place of CRLF and the fold's whitespace",
       ok_line + "X: a\r\n b\r\n" + cl0 + "\r\n",
       {.fields = {{"X", "a   b"}, {"Content-Length", "0"}}}},
      {"§5.2",
       "obs-fold of whitespace only",
       ok_line + "X: a\r\n \t\r\n" + cl0 + "\r\n",
       {.fields = {{"X", "a"}, {"Content-Length", "0"}}}},
      {"§5.2, §7.1.2",
       "obs-fold in a trailer",
       chunked_head + "0\r\nT: a\r\n b\r\n\r\n",
       {.fields = te_field, .framing = body_framing::chunked, .trailers = {{"T", "a   b"}}}},
      // §2.2: whitespace between the start-line and the first field: "MUST either reject ... or consume each
      // whitespace-preceded line without further processing". We reject: ignoring it hides a field.
      {"§2.2", "obs-fold before the first field", ok_line + " X: a\r\n" + cl0 + "\r\n", bad},
      // §5.1: "No whitespace is allowed between the field name and colon" (it has led to smuggling).
      {"§5.1", "SP between name and colon", ok_line + "Content-Length : 0\r\n\r\n", bad},
      {"§5.1", "HTAB between name and colon", ok_line + "X\t: a\r\n\r\n", bad},
      {"§5.1", "SP before colon in Transfer-Encoding (the smuggling shape)",
       ok_line + "Transfer-Encoding : chunked\r\nContent-Length: 3\r\n\r\nabc", bad},
      {"§5.1, §7.1.2", "SP before colon in a trailer", chunked_head + "0\r\nT : v\r\n\r\n", bad},
      // RFC 9110 §5.1: field-name = token, so at least one tchar.
      {"9110 §5.1", "empty field name", ok_line + ": v\r\n\r\n", bad},
      {"9110 §5.1", "a colon alone", ok_line + ":\r\n\r\n", bad},
      {"9110 §5.1, §7.1.2", "empty field name in a trailer", chunked_head + "0\r\n: v\r\n\r\n", bad},
      // RFC 9110 §5.5: OWS around a value is not part of it.
      {"9110 §5.5",
       "OWS around a value trimmed",
       ok_line + "X: \t v \t\r\n" + cl0 + "\r\n",
       {.fields = {{"X", "v"}, {"Content-Length", "0"}}}},
  };
}

// Transfer-Encoding lists (§6.1, §6.3, §7).
std::vector<rfc_case> transfer_encoding_cases() {
  const auto te = [](std::string v) { return ok_line + "Transfer-Encoding: " + v + "\r\n\r\n0\r\n\r\n"; };
  const verdict bad{error::bad_transfer_encoding};
  return {
      {"§6.3 (4)",
       "TE chunked",
       chunked_head + "1\r\nx\r\n0\r\n\r\n",
       {.fields = te_field, .framing = body_framing::chunked, .body = "x"}},
      {"§7",
       "TE coding names are case-insensitive",
       te("CHUNKED"),
       {.fields = {{"Transfer-Encoding", "CHUNKED"}}, .framing = body_framing::chunked}},
      {"9110 §5.6.1",
       "TE empty list elements are ignored",
       te(", chunked ,"),
       {.fields = {{"Transfer-Encoding", ", chunked ,"}}, .framing = body_framing::chunked}},
      // §6.3 (4) frames "gzip, chunked" as chunked, but the gzip coding would then have to be undone here
      // (§7: a recipient decodes transfer codings). We only decode chunked: refused rather than handing
      // out still-coded bytes as the body. (We never send TE, so a server should not use gzip, §10.1.4.)
      {"§6.3 (4), §7", "TE gzip, chunked", te("gzip, chunked"), bad},
      // §6.1: "If any transfer coding other than chunked is applied to a response's content, the sender MUST
      // either apply chunked as the final transfer coding or terminate the message by closing the
      // connection" — this body would be close-delimited and coded; refused like gzip alone.
      {"§6.1, §6.3 (4)", "TE chunked, gzip", te("chunked, gzip"), bad},
      {"§6.3 (4)", "TE gzip alone", te("gzip"), bad},
      // §6.1: "A sender MUST NOT apply the chunked transfer coding more than once to a message body".
      {"§6.1", "TE chunked, chunked", te("chunked, chunked"), bad},
      {"§6.1, 9110 §5.3", "TE chunked in two fields", ok_line + te_line + te_line + "\r\n0\r\n\r\n", bad},
      {"§7", "TE chunked with a parameter (chunked defines none)", te("chunked;q=1"), bad},
      {"§7", "TE identity (not a transfer coding)", te("identity"), bad},
      {"§7", "TE as a quoted-string", te("\"chunked\""), bad},
      // §6.1: "A server or client that receives an HTTP/1.0 message containing a Transfer-Encoding header
      // field MUST treat the message as if the framing is faulty ... and close the connection after".
      {"§6.1",
       "TE in HTTP/1.0: framed, never reused",
       "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n" + te_line + "\r\n1\r\nx\r\n0\r\n\r\n",
       {.fields = {{"Connection", "keep-alive"}, {"Transfer-Encoding", "chunked"}},
        .framing = body_framing::chunked,
        .body = "x",
        .keep_alive = false,
        .version = 10}},
      // §6.3 (3): TE overrides CL; such a message "ought to be handled as an error": framed by TE, retired.
      {"§6.3 (3)",
       "TE with Content-Length: TE frames it, never reused",
       ok_line + "Content-Length: 1\r\n" + te_line + "\r\n2\r\nab\r\n0\r\n\r\n",
       {.fields = {{"Content-Length", "1"}, {"Transfer-Encoding", "chunked"}},
        .framing = body_framing::chunked,
        .body = "ab",
        .keep_alive = false}},
      {"§6.3 (1)",
       "TE on a 304: no body",
       "HTTP/1.1 304 Not Modified\r\n" + te_line + "\r\n",
       {.status = 304, .fields = te_field, .framing = body_framing::none}},
  };
}

// Content-Length = 1*DIGIT (RFC 9110 §8.6).
std::vector<rfc_case> content_length_cases() {
  const auto cl = [](std::string v, std::string body = {}) {
    return ok_line + "Content-Length: " + v + "\r\n\r\n" + body;
  };
  const auto len = [](std::string v, std::uint64_t n, std::string body) {
    return verdict{
        .fields = {{"Content-Length", std::move(v)}}, .content_length = n, .body = std::move(body)};
  };
  const verdict bad{error::bad_content_length};
  return {
      // §8.6: a list of identical values (one field, or repeated fields) "MAY" be replaced by one value or
      // rejected. We accept: it is what a proxy that merged duplicates makes of a correct response, and it
      // frames the same either way. Different values are always refused.
      {"9110 §8.6", "CL list of identical values", cl("5, 5", "hello"), len("5, 5", 5, "hello")},
      {"9110 §8.6",
       "CL repeated, identical",
       ok_line + "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
       {.fields = {{"Content-Length", "5"}, {"Content-Length", "5"}}, .content_length = 5, .body = "hello"}},
      {"9110 §8.6", "CL list of different values", cl("5, 6"), {error::multiple_content_length}},
      {"9110 §8.6", "CL leading zeros (1*DIGIT)", cl("007", "seven!!"), len("007", 7, "seven!!")},
      {"9110 §8.6, §5.5", "CL with trailing OWS", cl("2 \t", "ok"), len("2", 2, "ok")},
      {"9110 §8.6", "CL +5 (no sign in 1*DIGIT)", cl("+5", "hello"), bad},
      {"9110 §8.6", "CL -0", cl("-0"), bad},
      {"9110 §8.6", "CL in exponent form", cl("1e3"), bad},
      {"9110 §8.6", "CL with an empty element (not a list of identical values)", cl("5,", "hello"), bad},
      // §8.6: "a recipient MUST anticipate potentially large decimal numerals and prevent parsing errors due
      // to integer conversion overflows": the largest 64-bit value parses (and meets the body limit), one
      // more
      // does not.
      {"9110 §8.6",
       "CL 2^64-1 parses, then meets max_body_bytes",
       cl("18446744073709551615"),
       {error::body_too_large},
       false,
       {.max_body_bytes = 10}},
      {"9110 §8.6", "CL 2^64 overflows", cl("18446744073709551616"), bad},
      {"9110 §8.6", "CL with 30 digits", cl(std::string(30, '9')), bad},
      {"§6.3 (1)",
       "CL on a 204 is ignored",
       "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n",
       {.status = 204, .fields = {{"Content-Length", "5"}}, .framing = body_framing::none}},
  };
}

std::vector<rfc_case> rfc_cases() {
  std::vector<rfc_case> all;
  for (auto&& part : {line_end_cases(), chunked_line_end_cases(), chunk_ext_cases(), field_cases(),
                      transfer_encoding_cases(), content_length_cases()})
    all.insert(all.end(), part.begin(), part.end());
  return all;
}

void check_verdict(const verdict& v, const outcome& o) {
  INFO(Catch::StringMaker<outcome>::convert(o));
  if (v.ec != error{}) {
    REQUIRE(o.ec == make_error_code(v.ec));
    REQUIRE_FALSE(o.done);
    return;
  }
  REQUIRE_FALSE(o.ec);
  REQUIRE(o.done);
  REQUIRE(o.views_inside);
  REQUIRE(o.head.has_value());
  CHECK(o.head->status == v.status);
  CHECK(o.head->version == v.version);
  CHECK(o.head->fields == v.fields);
  CHECK(o.head->framing == v.framing);
  CHECK(o.head->content_length == v.content_length);
  CHECK(o.head->keep_alive == v.keep_alive);
  CHECK(o.body == v.body);
  CHECK(o.trailers == v.trailers);
  CHECK(o.rest == v.rest);
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

TEST_CASE("parser: RFC 9110/9112 decisions, whole, split at every byte, byte by byte", "[parser][rfc]") {
  for (const rfc_case& c : rfc_cases()) {
    SECTION(c.name) {
      INFO("RFC " << c.rfc << ": " << c.name);
      const outcome whole = feed(c.wire, {}, c.limits, request_kind::normal, c.close);
      check_verdict(c.expect, whole);
      for_every_feeding(c.wire, c.limits, request_kind::normal, c.close,
                        [&](const outcome& o, const std::string& how) {
                          INFO(how);
                          if (c.expect.ec != error{})
                            check_verdict(c.expect, o);
                          else
                            REQUIRE(o == whole);
                        });
    }
  }
}
