// sentinel: incremental, zero-copy HTTP/1.x response parser. No Asio, no sockets, no allocation in steady
// state (the field index keeps its capacity across responses).
//
// Written by hand rather than taken from libhttp-parser/llhttp: those are callback parsers that copy
// or re-scan; this one parses a complete head in one pass over the connection's own buffer (Zig's
// HeadParser shape) and never consumes a partial token, which keeps the connection's buffer logic trivial.
//
// Lenient where RFC 9112 lets a recipient be and real servers need it (a bare LF ends a line, §2.2;
// obs-fold is unfolded, §5.2); strict wherever two parsers could disagree about framing (a bare CR, space
// before a colon, chunk extensions off the grammar, conflicting Content-Length or Transfer-Encoding).
//
// Contract (Beast's): "need more" is the only resumable outcome; every error is final for the message and
// the connection must not be reused.
#pragma once

#include <sentinel/error.hpp>
#include <sentinel/headers.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <system_error>
#include <vector>

namespace sentinel::http1 {

struct parser_limits {
  std::size_t max_head_bytes = 64 * 1024;  // status line + header block; also the trailer block
  std::size_t max_header_count = 100;      // also the trailer field count
  std::size_t max_body_bytes = 0;          // 0 = unlimited
  std::size_t max_chunk_line_bytes = 4096;
  std::size_t max_header_line_bytes = 64 * 1024;  // one status, field or trailer line; 0 = no separate cap
};

/// How far phase 1 has searched a head or trailer block (offsets from the block's first byte).
struct block_scan {
  std::size_t scanned = 0;     // bytes already searched for LF
  std::size_t line_start = 0;  // where the line being searched starts (for max_header_line_bytes)
};

/// How the body of a response is delimited (RFC 9112 §6.3).
enum class body_framing : std::uint8_t {
  none,            // HEAD, 1xx, 204, 304, 2xx to CONNECT: no body whatever the headers say
  content_length,  // exactly content_length bytes (0 included)
  chunked,         // Transfer-Encoding: chunked
  until_close,     // no framing: the body ends when the peer closes; the connection is not reusable
};

/// What the request was, as far as framing the response is concerned.
enum class request_kind : std::uint8_t { normal, head, connect };

/// A parsed response head. Every view points into the buffer given to parse_head() and is valid until
/// that buffer is modified or the parser is reset.
struct response_head {
  int status = 0;
  int version = 11;  // 10 or 11
  std::string_view reason;
  std::vector<field_view> fields;  // in order, names and values as received (values trimmed of OWS)
  body_framing framing = body_framing::none;
  std::uint64_t content_length = 0;  // when framing == content_length
  bool keep_alive = true;            // the connection may carry another request after this response
  bool interim() const noexcept { return status >= 100 && status < 200 && status != 101; }
};

/// Parses one response at a time (reset() before each).
///
/// Head: call parse_head(data, size, ec) with *all* bytes received since the start of the head. It keeps
/// how far it scanned, so calling again with more bytes (same start, longer size) costs only the new
/// bytes. Returns 0 while the head is incomplete, or the head's length in bytes once its empty line
/// arrived; then head() is valid. For an interim (1xx but 101) head, the caller drops those bytes and calls
/// parse_head again on what follows: the parser prepares itself for the next head automatically.
///
/// Body: call parse_body(data, size, out, ec) with the unconsumed bytes after the head (or after what
/// earlier calls consumed). It returns how many bytes it consumed and sets `out` to body bytes inside
/// `data` (possibly empty, e.g. after consuming a chunk-size line). Call again on the rest until it
/// returns 0 (needs more bytes) or done() is true. It never consumes half a chunk-size line or half a
/// trailer block: those wait until complete (bounded by the limits).
///
/// Line ends: CRLF or a bare LF, mixed freely, in the status line, field lines, chunk-size lines, after
/// chunk data and in trailers (RFC 9112 §2.2 lets a recipient accept a bare LF and ignore a preceding CR,
/// as curl, Go and browsers do). A CR that is not right before an LF is never a line end: it is a byte of
/// the line, and every grammar here refuses it (a bare CR is what smuggling relies on).
///
/// obs-fold (a header line starting with SP/HTAB) is unfolded in place: the line end before it and the
/// fold's leading whitespace are overwritten with SP, as RFC 9112 §5.2 asks of user agents; that is why
/// `data` is mutable.
///
/// Errors (all final): header_too_large, header_line_too_long, too_many_headers, bad_status_line,
/// bad_header, bad_content_length, multiple_content_length, bad_transfer_encoding, body_too_large (a
/// Content-Length above the limit fails at the head), bad_chunk, chunk_line_too_long, unexpected_eof
/// (on_eof mid-body).
class response_parser {
 public:
  explicit response_parser(parser_limits limits = {}) : limits_(limits) {}

  void set_limits(const parser_limits& l) noexcept { limits_ = l; }
  const parser_limits& limits() const noexcept { return limits_; }

  /// Starts a new response for a request of the given kind.
  void reset(request_kind kind = request_kind::normal) noexcept;

  /// See the class comment. `data` must start at the first byte of the head.
  std::size_t parse_head(char* data, std::size_t size, std::error_code& ec);
  const response_head& head() const noexcept { return head_; }

  /// See the class comment.
  std::size_t parse_body(char* data, std::size_t size, std::string_view& out, std::error_code& ec);

  /// The peer closed the connection. Completes an until_close body; anything else not done() becomes
  /// unexpected_eof.
  void on_eof(std::error_code& ec) noexcept;

  /// True once the whole response (head and body) has been parsed.
  bool done() const noexcept { return state_ == state::done; }
  /// True once parse_head() returned a final (non-interim) head.
  bool head_done() const noexcept { return state_ >= state::body; }
  /// Body bytes delivered so far (after chunked decoding).
  std::uint64_t body_bytes() const noexcept { return body_bytes_; }
  /// Trailer fields of a chunked body; valid once done(), views into the last parse_body() data.
  const std::vector<field_view>& trailers() const noexcept { return trailers_; }

 private:
  enum class state : std::uint8_t {
    head,             // scanning for the end of the head
    body,             // (marker: head done) content_length body
    chunk_size,       // expecting a chunk-size line
    chunk_data,       // inside chunk data
    chunk_data_crlf,  // expecting CRLF (or LF) after chunk data
    trailers,         // expecting the trailer block (or just its empty line)
    until_close,      // reading until EOF
    done,
  };

  std::size_t fail(error e, std::error_code& ec) noexcept;
  error frame_head() noexcept;
  std::size_t parse_chunk_line(const char* data, std::size_t size, error& e) noexcept;
  std::size_t parse_trailers(char* data, std::size_t size, error& e);

  parser_limits limits_;
  response_head head_;
  std::vector<field_view> trailers_;
  request_kind kind_ = request_kind::normal;
  state state_ = state::head;
  block_scan scan_;              // how far the head / chunk-size line / trailer block was searched
  std::uint64_t remaining_ = 0;  // content_length left, or bytes left in the current chunk
  std::uint64_t body_bytes_ = 0;
  error failed_{};  // the first error (0 = none): errors are final, later calls repeat it
};

}  // namespace sentinel::http1
