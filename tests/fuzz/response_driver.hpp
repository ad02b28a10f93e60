// sentinel fuzz targets: drives http1::response_parser over a byte stream the way a connection does, and
// checks the parser's contract on every call. Shared by fuzz_response.cpp and fuzz_chunked.cpp.
//
// The stream is delivered in pieces ("arrivals"); after each arrival the driver parses the unconsumed bytes
// until the parser needs more. Every parse call gets a fresh heap copy of exactly the unconsumed bytes, so
// AddressSanitizer sees any read past them, and the parser may rewrite them (obs-fold) without touching the
// fuzzer's const input. A response that ends with keep_alive is followed by the next one on the leftover
// bytes (reset() in between), as on a keep-alive connection.
//
// Invariants checked (FUZZ_CHECK aborts):
//  - a call never consumes more than it was given; an error consumes nothing and delivers no body;
//  - errors are final: parse_head, parse_body and on_eof repeat the first error;
//  - every view (reason, field names and values, body, trailers) points inside the bytes of that call
//    (head views inside the head's own bytes, body inside the consumed bytes);
//  - heads are well-formed: status 100..999, version 1.0/1.1, token names, values without CR/LF/NUL and
//    without surrounding OWS; framing "none" for HEAD, 1xx, 204, 304 and 2xx-to-CONNECT; until_close is
//    never keep-alive; a Content-Length never exceeds max_body_bytes;
//  - body bytes delivered equal body_bytes(), never exceed max_body_bytes (when set) nor Content-Length,
//    and equal Content-Length when done; no body for framing "none"; trailers only after chunked;
//  - "need more" (0 consumed, no error) only while the message is incomplete.
// The caller then compares the outcome of the whole-buffer feed with a piecewise feed: they must agree
// (see same_outcome()).
#pragma once

#include "fuzz_check.hpp"
#include "wire/http1/parser.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace sentinel::fuzz {

using http1::body_framing;
using http1::parser_limits;
using http1::request_kind;
using http1::response_head;
using http1::response_parser;

struct field {
  std::string name, value;
  friend bool operator==(const field&, const field&) = default;
};

struct head_record {
  int status = 0;
  int version = 0;
  std::string reason;
  std::vector<field> fields;
  body_framing framing = body_framing::none;
  std::uint64_t content_length = 0;
  bool keep_alive = false;
  friend bool operator==(const head_record&, const head_record&) = default;
};

struct response_record {
  std::vector<head_record> interim;
  bool has_head = false;
  head_record head;
  std::string body;
  std::vector<field> trailers;
  friend bool operator==(const response_record&, const response_record&) = default;
};

struct stream_outcome {
  std::vector<response_record> done;  // complete responses, in order
  response_record partial;            // the response in progress when the stream ended or failed
  std::error_code ec;                 // the first error (final)
  std::string rest;                   // unconsumed bytes when parsing stopped without an error
  // Where the error was found, in stream offsets: the unconsumed bytes then were [error_from, error_end).
  // Fed byte by byte, error_end - 1 is the byte whose arrival revealed the error (error_end = stream size
  // when it was EOF).
  std::size_t error_from = 0, error_end = 0;
  bool stopped = false;  // a response ended the exchange (not keep-alive, tunnel, EOF): `rest` is not HTTP
};

/// How one fuzz input is driven: derived from its first byte (see decode_mode()).
struct stream_mode {
  parser_limits limits;
  int kind_pattern = 0;    // 0 normal, 1 head, 2 connect, 3 cycle normal/head/connect per response
  int split = 0;           // piecewise feeding strategy, see split_points()
  bool eof_at_end = true;  // the peer closes after the last byte
  std::uint32_t seed = 0;  // for the pseudo-random splits
};

/// Mode byte: bits 0-1 request kind pattern, bits 2-4 split strategy, bits 5-6 limits, bit 7 "no EOF".
inline stream_mode decode_mode(std::uint8_t b, std::size_t size) {
  stream_mode m;
  m.kind_pattern = b & 3;
  m.split = (b >> 2) & 7;
  switch ((b >> 5) & 3) {
    case 0:
      break;  // the defaults
    case 1:
      m.limits = {
          .max_head_bytes = 64, .max_header_count = 3, .max_body_bytes = 16, .max_chunk_line_bytes = 8};
      break;
    case 2:
      m.limits = {.max_head_bytes = 256,
                  .max_header_count = 8,
                  .max_body_bytes = 256,
                  .max_chunk_line_bytes = 24,
                  .max_header_line_bytes = 48};
      break;
    default:
      m.limits = {.max_head_bytes = 1024,
                  .max_header_count = 20,
                  .max_body_bytes = 64,
                  .max_chunk_line_bytes = 64,
                  .max_header_line_bytes = 128};
      break;
  }
  m.eof_at_end = (b & 0x80) == 0;
  m.seed = static_cast<std::uint32_t>(b) * 2654435761u ^ static_cast<std::uint32_t>(size);
  return m;
}

inline request_kind kind_for(int pattern, std::size_t index) {
  static constexpr request_kind cycle[] = {request_kind::normal, request_kind::head, request_kind::connect};
  if (pattern < 3) return cycle[pattern];
  return cycle[index % 3];
}

/// Where the piecewise feed cuts `size` bytes (strictly increasing, inside (0, size)).
inline std::vector<std::size_t> split_points(int strategy, std::uint32_t seed, std::size_t size) {
  std::vector<std::size_t> cuts;
  if (size < 2) return cuts;
  std::uint32_t x = seed | 1;
  auto next = [&x] {  // xorshift32: cheap, deterministic per input
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return x;
  };
  auto pieces_of = [&](auto piece_size) {
    for (std::size_t at = piece_size(); at < size; at += piece_size())
      cuts.push_back(at);
  };
  switch (strategy) {
    case 0:  // whole only: the piecewise feed is the same as the whole one
      break;
    case 1:  // two pieces
      cuts.push_back(1 + next() % (size - 1));
      break;
    case 2: {  // byte by byte (coarser for big inputs: each call re-copies the unconsumed bytes)
      const std::size_t step = size <= 1024 ? 1 : size / 1024 + 1;
      pieces_of([step] { return step; });
      break;
    }
    case 3: {  // fixed pieces of 1..16 bytes
      const std::size_t step = 1 + seed % 16;
      pieces_of([step] { return step; });
      break;
    }
    case 4:
      pieces_of([&] { return std::size_t{1} + next() % 64; });
      break;
    case 5:
      pieces_of([&] { return std::size_t{1} + next() % 8; });
      break;
    case 6: {  // three pieces
      std::size_t a = 1 + next() % (size - 1), b = 1 + next() % (size - 1);
      if (a > b) std::swap(a, b);
      cuts.push_back(a);
      if (b != a) cuts.push_back(b);
      break;
    }
    default:
      pieces_of([&] { return std::size_t{1} + next() % 512; });
      break;
  }
  return cuts;
}

class stream_driver {
 public:
  stream_driver(const parser_limits& limits, int kind_pattern)
      : parser_(limits), kind_pattern_(kind_pattern) {
    parser_.reset(kind_for(kind_pattern_, 0));
  }

  /// Bytes arrived from the peer.
  void receive(std::string_view bytes) {
    if (out_.ec) return;
    received_ += bytes.size();
    pending_.append(bytes);  // after a stop too: the rest (tunnel bytes, ...) is part of the outcome
    if (!stopped_) pump();
  }

  /// The peer closed the connection.
  void close() {
    if (out_.ec || stopped_) return;
    // A keep-alive connection closed between responses is not an error (the pool would just drop it).
    const bool started = !pending_.empty() || !out_.partial.interim.empty() || out_.partial.has_head;
    if (!started && !out_.done.empty()) return;
    std::error_code ec;
    parser_.on_eof(ec);
    if (ec) return failed(ec, nullptr, 0);
    FUZZ_CHECK(parser_.done());
    FUZZ_CHECK(out_.partial.has_head && out_.partial.head.framing == body_framing::until_close);
    finish_response();
    stopped_ = true;
  }

  stream_outcome finish() {
    if (!out_.ec) out_.rest = pending_;
    out_.stopped = stopped_;
    return std::move(out_);
  }

 private:
  static constexpr std::size_t max_responses = 32;

  static bool inside(std::string_view v, const char* data, std::size_t size) {
    return v.empty() || (v.data() >= data && v.data() + v.size() <= data + size);
  }

  static bool is_tchar(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  }

  static void check_field(const field_view& f, const char* data, std::size_t size) {
    FUZZ_CHECK(inside(f.name, data, size) && inside(f.value, data, size));
    FUZZ_CHECK(!f.name.empty());
    for (char c : f.name)
      FUZZ_CHECK(is_tchar(c));
    for (char c : f.value)
      FUZZ_CHECK(c != '\r' && c != '\n' && c != '\0');
    if (!f.value.empty()) {
      FUZZ_CHECK(f.value.front() != ' ' && f.value.front() != '\t');
      FUZZ_CHECK(f.value.back() != ' ' && f.value.back() != '\t');
    }
  }

  static std::vector<field> copy_fields(const std::vector<field_view>& in) {
    std::vector<field> out;
    out.reserve(in.size());
    for (const field_view& f : in)
      out.push_back({std::string(f.name), std::string(f.value)});
    return out;
  }

  head_record check_head(const response_head& h, const char* data, std::size_t n) const {
    FUZZ_CHECK(h.status >= 100 && h.status <= 999);
    FUZZ_CHECK(h.version == 10 || h.version == 11);
    FUZZ_CHECK(inside(h.reason, data, n));
    for (char c : h.reason)
      FUZZ_CHECK(c != '\r' && c != '\n' && c != '\0');
    FUZZ_CHECK(h.fields.size() <= parser_.limits().max_header_count);
    for (const field_view& f : h.fields)
      check_field(f, data, n);
    const request_kind kind = kind_for(kind_pattern_, out_.done.size());
    const bool bodiless = kind == request_kind::head || h.status < 200 || h.status == 204 ||
                          h.status == 304 || (kind == request_kind::connect && h.status < 300);
    if (bodiless) FUZZ_CHECK(h.framing == body_framing::none);
    if (h.framing == body_framing::until_close) FUZZ_CHECK(!h.keep_alive);
    if (h.status == 101) FUZZ_CHECK(!h.keep_alive);
    if (h.framing == body_framing::content_length && parser_.limits().max_body_bytes != 0)
      FUZZ_CHECK(h.content_length <= parser_.limits().max_body_bytes);
    if (h.framing != body_framing::content_length) FUZZ_CHECK(h.content_length == 0);
    return {h.status,  h.version,        std::string(h.reason), copy_fields(h.fields),
            h.framing, h.content_length, h.keep_alive};
  }

  // An error: nothing consumed, and the parser repeats it whatever is called next.
  void failed(std::error_code ec, const char* data, std::size_t size) {
    FUZZ_CHECK(ec.category() == sentinel::error_category());
    FUZZ_CHECK(!parser_.done());
    std::error_code again;
    auto copy = std::make_unique<char[]>(size);
    if (size != 0) std::memcpy(copy.get(), data, size);
    FUZZ_CHECK(parser_.parse_head(copy.get(), size, again) == 0 && again == ec);
    std::string_view out;
    FUZZ_CHECK(parser_.parse_body(copy.get(), size, out, again) == 0 && again == ec && out.empty());
    parser_.on_eof(again);
    FUZZ_CHECK(again == ec);
    out_.ec = ec;
    out_.error_from = consumed_;
    out_.error_end = received_;
  }

  void finish_response() {
    const head_record& h = out_.partial.head;
    FUZZ_CHECK(out_.partial.has_head);
    FUZZ_CHECK(parser_.body_bytes() == out_.partial.body.size());
    if (h.framing == body_framing::content_length) FUZZ_CHECK(out_.partial.body.size() == h.content_length);
    if (h.framing == body_framing::none) FUZZ_CHECK(out_.partial.body.empty());
    if (h.framing != body_framing::chunked) FUZZ_CHECK(parser_.trailers().empty());
    out_.done.push_back(std::move(out_.partial));
    out_.partial = {};
    if (!h.keep_alive || out_.done.size() >= max_responses) {
      stopped_ = true;
      return;
    }
    parser_.reset(kind_for(kind_pattern_, out_.done.size()));
  }

  void consume(std::size_t n) {
    pending_.erase(0, n);
    consumed_ += n;
  }

  void pump() {
    while (!out_.ec && !stopped_) {
      const std::size_t size = pending_.size();
      auto buf = std::make_unique<char[]>(size);  // exactly the unconsumed bytes (size 0 included)
      char* const data = buf.get();
      if (size != 0) std::memcpy(data, pending_.data(), size);
      std::error_code ec;
      if (!parser_.head_done()) {
        const std::size_t n = parser_.parse_head(data, size, ec);
        FUZZ_CHECK(n <= size);
        if (ec) {
          FUZZ_CHECK(n == 0);
          return failed(ec, pending_.data(), size);
        }
        if (n == 0) return;  // needs more
        head_record rec = check_head(parser_.head(), data, n);
        consume(n);
        if (parser_.head().interim()) {
          FUZZ_CHECK(!parser_.head_done());
          out_.partial.interim.push_back(std::move(rec));
          continue;
        }
        FUZZ_CHECK(parser_.head_done());
        out_.partial.has_head = true;
        out_.partial.head = std::move(rec);
        if (parser_.done()) finish_response();
        continue;
      }
      FUZZ_CHECK(!parser_.done());
      std::string_view body;
      const std::size_t n = parser_.parse_body(data, size, body, ec);
      FUZZ_CHECK(n <= size);
      if (ec) {
        FUZZ_CHECK(n == 0 && body.empty());
        return failed(ec, pending_.data(), size);
      }
      FUZZ_CHECK(inside(body, data, n));
      FUZZ_CHECK(body.empty() || out_.partial.head.framing != body_framing::none);
      out_.partial.body.append(body);
      const std::uint64_t delivered = out_.partial.body.size();
      FUZZ_CHECK(parser_.body_bytes() == delivered);
      if (parser_.limits().max_body_bytes != 0) FUZZ_CHECK(delivered <= parser_.limits().max_body_bytes);
      if (out_.partial.head.framing == body_framing::content_length)
        FUZZ_CHECK(delivered <= out_.partial.head.content_length);
      if (parser_.done()) {
        for (const field_view& f : parser_.trailers())
          check_field(f, data, n);
        FUZZ_CHECK(parser_.trailers().size() <= parser_.limits().max_header_count);
        out_.partial.trailers = copy_fields(parser_.trailers());
        consume(n);
        finish_response();
        continue;
      }
      consume(n);
      if (n == 0) {
        FUZZ_CHECK(body.empty());
        return;  // needs more
      }
    }
  }

  response_parser parser_;
  int kind_pattern_;
  std::string pending_;  // received, not yet consumed
  std::size_t received_ = 0, consumed_ = 0;
  stream_outcome out_;
  bool stopped_ = false;  // the connection would not be reused: nothing more is parsed
};

inline stream_outcome run_stream(std::string_view wire, const std::vector<std::size_t>& cuts,
                                 const stream_mode& m) {
  stream_driver d(m.limits, m.kind_pattern);
  std::size_t prev = 0;
  for (std::size_t cut : cuts) {
    d.receive(wire.substr(prev, cut - prev));
    prev = cut;
  }
  d.receive(wire.substr(prev));
  if (m.eof_at_end) d.close();
  return d.finish();
}

/// The piecewise feed must reach the same result as the whole-buffer one. When both fail, the body of the
/// failing response may differ by how much was delivered before the error (a close-delimited body over the
/// limit fails at once when whole, after some pieces when split): one must be a prefix of the other.
inline bool same_outcome(const stream_outcome& a, const stream_outcome& b) {
  if (a.ec != b.ec || a.done != b.done) return false;
  if (!a.ec) return a.partial == b.partial && a.rest == b.rest;
  const response_record& x = a.partial;
  const response_record& y = b.partial;
  if (x.interim != y.interim || x.has_head != y.has_head || x.head != y.head) return false;
  const std::size_t common = std::min(x.body.size(), y.body.size());
  return x.body.compare(0, common, y.body, 0, common) == 0;
}

/// The whole check for one input: whole feed, piecewise feed, comparison.
inline void check_stream(std::string_view wire, const stream_mode& m) {
  const stream_outcome whole = run_stream(wire, {}, m);
  const std::vector<std::size_t> cuts = split_points(m.split, m.seed, wire.size());
  if (cuts.empty()) return;
  const stream_outcome pieces = run_stream(wire, cuts, m);
  FUZZ_CHECK(same_outcome(whole, pieces));
}

}  // namespace sentinel::fuzz
