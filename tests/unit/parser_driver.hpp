// tests/unit: the driver the parser tests share. It feeds a response to http1::response_parser exactly as a
// connection does over its read buffer (append what arrived, parse the unconsumed bytes, drop what was
// consumed, moving the rest to the front before the next read, which invalidates views: everything is
// copied out first), and feeds it whole, split into two pieces at every byte position and byte by byte.
#pragma once

#include "wire/http1/parser.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace parser_test {

using sentinel::error;
using sentinel::field_view;
using sentinel::http1::body_framing;
using sentinel::http1::parser_limits;
using sentinel::http1::request_kind;
using sentinel::http1::response_head;
using sentinel::http1::response_parser;

// ---- owned copies of what the parser returns -------------------------------------------------------------
struct field {
  std::string name, value;
  friend bool operator==(const field&, const field&) = default;
};

inline std::vector<field> copy_fields(const std::vector<field_view>& in) {
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

inline head_copy copy_head(const response_head& h) {
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

inline std::string printable(std::string_view s) {
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

inline const char* framing_name(body_framing f) {
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

inline std::string describe(const std::vector<field>& fs) {
  std::string s = "{";
  for (const field& f : fs)
    s += " [" + printable(f.name) + ": " + printable(f.value) + "]";
  return s + " }";
}

inline std::string describe(const head_copy& h) {
  return std::to_string(h.status) + " v" + std::to_string(h.version) + " reason=\"" + printable(h.reason) +
         "\" fields=" + describe(h.fields) + " framing=" + framing_name(h.framing) +
         " cl=" + std::to_string(h.content_length) + " keep_alive=" + (h.keep_alive ? "1" : "0");
}

}  // namespace parser_test

namespace Catch {
template <>
struct StringMaker<parser_test::outcome> {
  static std::string convert(const parser_test::outcome& o) {
    std::string s = "\n  ec: " + (o.ec ? o.ec.message() : std::string("none"));
    for (const parser_test::head_copy& h : o.interim)
      s += "\n  interim: " + parser_test::describe(h);
    s += "\n  head: " + (o.head ? parser_test::describe(*o.head) : std::string("none"));
    s += "\n  body: \"" + parser_test::printable(o.body) +
         "\"\n  trailers: " + parser_test::describe(o.trailers);
    s +=
        "\n  done: " + std::string(o.done ? "1" : "0") + "  rest: \"" + parser_test::printable(o.rest) + "\"";
    s += "\n  views_inside: " + std::string(o.views_inside ? "1" : "0");
    return s;
  }
};
template <>
struct StringMaker<parser_test::field> {
  static std::string convert(const parser_test::field& f) {
    return "[" + parser_test::printable(f.name) + ": " + parser_test::printable(f.value) + "]";
  }
};
}  // namespace Catch

namespace parser_test {

// ---- the driver ------------------------------------------------------------------------------------------
inline bool inside(std::string_view v, const char* data, std::size_t size) {
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

inline outcome feed(std::string_view wire, const std::vector<std::size_t>& cuts, parser_limits limits,
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

inline outcome feed_whole(const std::string& wire, parser_limits limits, bool close = false,
                          request_kind kind = request_kind::normal) {
  return feed(wire, {}, limits, kind, close);
}

// Requires the same outcome for every feeding (for an error: the same error; how much body was delivered
// before it depends on the pieces); returns the whole-message outcome.
inline outcome feed_all(const std::string& wire, parser_limits limits, bool close = false) {
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

// A response head of exactly `len` bytes (padding in one field), followed by an empty body.
inline std::string head_of_length(std::size_t len) {
  const std::string start = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Pad: ";
  const std::string end = "\r\n\r\n";
  return start + std::string(len - start.size() - end.size(), 'p') + end;
}

}  // namespace parser_test
