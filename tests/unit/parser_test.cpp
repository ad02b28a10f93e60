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
