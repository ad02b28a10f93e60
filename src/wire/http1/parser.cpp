// sentinel: incremental, zero-copy HTTP/1.x response parser. See parser.hpp for the contract.
//
// Shape (style.md §b, Zig's HeadParser): phase 1 looks for the end of the head with memchr('\n') from where
// the previous call stopped, so feeding a head in N pieces costs O(size), not O(size * N); phase 2 parses
// the complete head in one pass into views over the caller's buffer. Chunk-size lines and the trailer block
// are handled the same way: they are consumed only once complete, so the caller never keeps parser-owned
// partial state and its buffer logic stays "drop what was consumed, append what arrives".
//
// Line ends: every line, wherever it is, ends at an LF; a CR right before that LF is dropped with it
// (content_end()). That one rule is the whole of the bare-LF support (RFC 9112 §2.2), and phase 1 needs no
// state for it: a line is empty when its content is, whichever line end it had. Any other CR stays in the
// line's content, and every grammar below refuses a CR there.
#include "wire/http1/parser.hpp"

#include "wire/http1/syntax.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

namespace sentinel::http1 {
namespace {

using namespace syntax;

// Where a line ends (RFC 9112 §2.2): at its LF, or at the CR right before it. A recipient MAY take a bare LF
// as a line terminator and ignore a preceding CR, as curl, Go and browsers do, so "\r\n" and "\n" are both
// accepted, mixed freely. A CR anywhere else stays in the line, where every grammar below refuses it: a bare
// CR is what some parsers take as a line end and others do not, which is how responses get smuggled.
inline std::size_t content_end(const char* data, std::size_t line_start, std::size_t lf) noexcept {
  return lf > line_start && data[lf - 1] == '\r' ? lf - 1 : lf;
}
inline char* content_end(char* line, char* lf) noexcept {
  return lf > line && lf[-1] == '\r' ? lf - 1 : lf;
}

// Phase 1: finds the end of a block of lines that ends with an empty line (a head, or a trailer block, which
// may be just the empty line). Searches only from where the last call stopped, so a re-call with more bytes
// costs only the new ones, and never past either limit: the block (max_head_bytes, final line end included)
// and each line in it (max_header_line_bytes, its line end included; 0 = no separate cap). A limit holds
// even while the block is incomplete: a peer cannot make us buffer an endless head or line.
// Returns the block length and sets `final_line` to where its empty line starts, or returns 0 with `e`
// unset (need more) or set (header_too_large, header_line_too_long).
std::size_t find_block_end(const char* data, std::size_t size, block_scan& s, const parser_limits& l,
                           std::size_t& final_line, error& e) noexcept {
  const std::size_t block_end = std::min(size, l.max_head_bytes);
  const std::size_t line_cap = l.max_header_line_bytes == 0 ? size : l.max_header_line_bytes;
  std::size_t i = std::min(s.scanned, block_end);
  for (;;) {
    const std::size_t stop = std::min(block_end, s.line_start + std::min(line_cap, size - s.line_start));
    const void* hit = i < stop ? std::memchr(data + i, '\n', stop - i) : nullptr;
    if (hit == nullptr) {
      i = std::max(i, stop);
      break;
    }
    const std::size_t lf = static_cast<std::size_t>(static_cast<const char*>(hit) - data);
    const std::size_t start = s.line_start;
    i = s.line_start = lf + 1;
    if (content_end(data, start, lf) == start) {
      s.scanned = i;
      final_line = start;
      return i;
    }
  }
  s.scanned = i;
  // On a tie the block's limit is named: it is the one a caller raises first.
  if (size >= l.max_head_bytes && i == l.max_head_bytes)
    e = error::header_too_large;
  else if (l.max_header_line_bytes != 0 && i - s.line_start >= l.max_header_line_bytes)
    e = error::header_line_too_long;
  return 0;
}

// status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112 §4). "HTTP/1.1 200" without the
// second SP is accepted too: servers send it, and the reason carries no meaning (RFC 9112 §4). A minor
// version above 1 is read as 1.1, the highest we conform to (RFC 9110 §2.5 "SHOULD process the message as if
// it were in the highest minor version within that major version").
error parse_status_line(const char* p, std::size_t n, response_head& h) noexcept {
  if (n < 12 || std::memcmp(p, "HTTP/1.", 7) != 0 || p[7] < '0' || p[7] > '9' || p[8] != ' ')
    return error::bad_status_line;
  if (p[9] < '1' || p[9] > '9' || p[10] < '0' || p[10] > '9' || p[11] < '0' || p[11] > '9')
    return error::bad_status_line;
  if (n > 12 && p[12] != ' ') return error::bad_status_line;
  const char* reason = p + std::min<std::size_t>(n, 13);
  if (!all_text(reason, p + n)) return error::bad_status_line;
  h.version = p[7] == '0' ? 10 : 11;
  h.status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
  h.reason = {reason, static_cast<std::size_t>(p + n - reason)};
  return {};
}

// Phase 2 for field lines: [p, end) is a run of complete "name: value" lines, each ending in LF or CRLF.
// Appends views to `out`, at most `max_count` fields in all.
error parse_fields(char* p, char* end, std::vector<field_view>& out, std::size_t max_count) {
  const char* raw_value = nullptr;  // where the last field's value starts, before OWS trimming
  while (p != end) {
    char* const lf = static_cast<char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
    char* const eol = content_end(p, lf);
    if (is_ows(*p)) {
      // obs-fold (RFC 9112 §5.2): a user agent replaces it with SP. A fold before the first field is a
      // whitespace-preceded line that must be rejected (RFC 9112 §2.2).
      if (raw_value == nullptr || !all_text(p, eol)) return error::bad_header;
      // The previous line's end ("\r\n" or "\n") becomes SP. Its content holds no CR (all_text refused
      // it), so a CR right before this line's start belongs to that line end.
      p[-1] = ' ';
      if (p[-2] == '\r') p[-2] = ' ';
      for (char* q = p; q != eol && is_ows(*q); ++q)
        *q = ' ';
      out.back().value = trim_ows(raw_value, eol);
      p = lf + 1;
      continue;
    }
    // field-line = field-name ":" OWS field-value OWS (RFC 9112 §5); no whitespace before the colon (§5.1).
    char* q = p;
    while (q != eol && is_tchar(*q))
      ++q;
    if (q == p || q == eol || *q != ':') return error::bad_header;
    const std::string_view name{p, static_cast<std::size_t>(q - p)};
    ++q;
    if (!all_text(q, eol)) return error::bad_header;
    if (out.size() >= max_count) return error::too_many_headers;
    out.push_back({name, trim_ows(q, eol)});
    raw_value = q;
    p = lf + 1;
  }
  return {};
}

// What the framing decision needs from the fields (Connection, Content-Length, Transfer-Encoding).
struct framing_fields {
  bool close = false;       // Connection: close
  bool keep_alive = false;  // Connection: keep-alive
  bool te = false;          // some Transfer-Encoding field
  std::size_t codings = 0;  // non-empty transfer-codings over all TE fields
  bool only_chunked = true;
  bool cl = false;  // some Content-Length field
  bool cl_bad = false;
  bool cl_conflict = false;
  bool cl_seen = false;  // cl_value holds the first valid value
  std::uint64_t cl_value = 0;
};

// Content-Length = 1*DIGIT (RFC 9110 §8.6). A list of identical values ("5, 5", or repeated fields) is what
// a proxy makes of duplicates and may be accepted as one value; anything else is refused, never guessed.
void scan_content_length(std::string_view v, framing_fields& s) noexcept {
  for_each_element(v, [&](std::string_view e) {
    if (e.empty()) {
      s.cl_bad = true;
      return;
    }
    std::uint64_t n = 0;
    for (char c : e) {
      const unsigned d = static_cast<unsigned char>(c) - unsigned{'0'};
      if (d > 9 || n > (std::numeric_limits<std::uint64_t>::max() - d) / 10) {
        s.cl_bad = true;
        return;
      }
      n = n * 10 + d;
    }
    if (!s.cl_seen) {
      s.cl_seen = true;
      s.cl_value = n;
    } else if (n != s.cl_value) {
      s.cl_conflict = true;
    }
  });
}

framing_fields summarize(const std::vector<field_view>& fields) noexcept {
  framing_fields s;
  for (const field_view& f : fields) {
    // Dispatch on the length first: most fields are none of the three.
    switch (f.name.size()) {
      case 10:
        if (iequals_lower(f.name, "connection"))
          for_each_element(f.value, [&](std::string_view t) {
            if (iequals_lower(t, "close"))
              s.close = true;
            else if (iequals_lower(t, "keep-alive"))
              s.keep_alive = true;
          });
        break;
      case 14:
        if (iequals_lower(f.name, "content-length")) {
          s.cl = true;
          scan_content_length(f.value, s);
        }
        break;
      case 17:
        if (iequals_lower(f.name, "transfer-encoding")) {
          s.te = true;
          for_each_element(f.value, [&](std::string_view c) {
            if (c.empty()) return;  // empty list elements are ignored (RFC 9110 §5.6.1)
            ++s.codings;
            if (!iequals_lower(c, "chunked")) s.only_chunked = false;
          });
        }
        break;
      default:
        break;
    }
  }
  return s;
}

}  // namespace

void response_parser::reset(request_kind kind) noexcept {
  // clear() keeps the vectors' capacity: steady state does not allocate.
  head_.fields.clear();
  head_.status = 0;
  head_.version = 11;
  head_.reason = {};
  head_.framing = body_framing::none;
  head_.content_length = 0;
  head_.keep_alive = true;
  trailers_.clear();
  kind_ = kind;
  state_ = state::head;
  failed_ = {};
  scan_ = {};
  remaining_ = 0;
  body_bytes_ = 0;
}

std::size_t response_parser::fail(error e, std::error_code& ec) noexcept {
  failed_ = e;  // errors are final: later calls repeat this one
  ec = make_error_code(e);
  return 0;
}

std::size_t response_parser::parse_head(char* data, std::size_t size, std::error_code& ec) {
  ec = {};
  if (failed_ != error{}) return fail(failed_, ec);
  if (state_ != state::head) return fail(error::internal, ec);  // the final head was already returned

  // Phase 1. Refuse a non-HTTP peer at once instead of waiting for max_head_bytes of garbage.
  if (size == 0) return 0;  // (memcmp/memchr must not see a null `data`, even with a zero length)
  if (scan_.scanned < 5 && std::memcmp(data, "HTTP/", std::min<std::size_t>(size, 5)) != 0)
    return fail(error::bad_status_line, ec);
  error e{};
  std::size_t final_line = 0;
  const std::size_t len = find_block_end(data, size, scan_, limits_, final_line, e);
  if (e != error{}) return fail(e, ec);
  if (len == 0) return 0;

  // Phase 2: the whole head is in [data, data + len); its empty line starts at final_line ("HTTP/" means
  // the status line is not that empty line).
  head_.fields.clear();
  char* const status_lf = static_cast<char*>(std::memchr(data, '\n', len));
  e = parse_status_line(data, static_cast<std::size_t>(content_end(data, status_lf) - data), head_);
  if (e == error{})
    e = parse_fields(status_lf + 1, data + final_line, head_.fields, limits_.max_header_count);
  if (e == error{}) e = frame_head();
  if (e != error{}) return fail(e, ec);

  if (head_.interim()) {
    // An interim response (RFC 9110 §15.2) is followed by another head. The caller drops these `len` bytes
    // and calls parse_head on what follows: staying in state::head with a fresh scan is all the "reset"
    // needed (kind_ is kept: a 100 to a HEAD is still followed by a bodiless final response). head() keeps
    // describing the interim response until the next head is complete.
    scan_ = {};
    return len;
  }
  switch (head_.framing) {
    case body_framing::none:
      state_ = state::done;
      break;
    case body_framing::content_length:
      remaining_ = head_.content_length;
      state_ = remaining_ == 0 ? state::done : state::body;
      break;
    case body_framing::chunked:
      scan_ = {};
      state_ = state::chunk_size;
      break;
    case body_framing::until_close:
      state_ = state::until_close;
      break;
  }
  return len;
}

// Message body length, RFC 9112 §6.3, in the RFC's order; keep-alive per RFC 9112 §9.3.
error response_parser::frame_head() noexcept {
  response_head& h = head_;
  const framing_fields s = summarize(h.fields);
  h.keep_alive = h.version == 11 ? !s.close : s.keep_alive && !s.close;
  h.content_length = 0;
  h.framing = body_framing::none;

  // 1. HEAD, 1xx, 204 and 304 have no body whatever the fields say. 101 hands the connection to another
  //    protocol: it never carries another HTTP/1.1 request.
  if (kind_ == request_kind::head || h.status < 200 || h.status == 204 || h.status == 304) {
    if (h.status == 101) h.keep_alive = false;
    return {};
  }
  // 2. A 2xx to CONNECT turns the connection into a tunnel.
  if (kind_ == request_kind::connect && h.status < 300) {
    h.keep_alive = false;
    return {};
  }
  // 3./4. Transfer-Encoding overrides Content-Length. We only frame "chunked" alone: a response whose final
  //    coding is not chunked would be close-delimited, and codings before chunked (gzip, chunked) are
  //    content we would have to undo at this layer; both are refused rather than half-supported.
  if (s.te) {
    if (s.codings != 1 || !s.only_chunked) return error::bad_transfer_encoding;
    h.framing = body_framing::chunked;
    // TE with CL is a smuggling signature (§6.3 item 3), and TE in an HTTP/1.0 message means faulty framing
    // (§6.1): parse it, but never reuse the connection.
    if (s.cl || h.version == 10) h.keep_alive = false;
    return {};
  }
  // 5./6. Content-Length.
  if (s.cl) {
    if (s.cl_bad) return error::bad_content_length;
    if (s.cl_conflict) return error::multiple_content_length;
    if (limits_.max_body_bytes != 0 && s.cl_value > limits_.max_body_bytes) return error::body_too_large;
    h.framing = body_framing::content_length;
    h.content_length = s.cl_value;
    return {};
  }
  // 7. Otherwise the body runs until the peer closes.
  h.framing = body_framing::until_close;
  h.keep_alive = false;
  return {};
}

// chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF (RFC 9112 §7.1), the line ends as in §2.2 (LF or
// CRLF). Consumes one complete chunk-size line, or nothing. The whole line, its line end included, counts
// toward max_chunk_line_bytes: extensions carry nothing we use, but must not make us buffer without bound.
std::size_t response_parser::parse_chunk_line(const char* data, std::size_t size, error& e) noexcept {
  const std::size_t limit = limits_.max_chunk_line_bytes;
  const std::size_t end = std::min(size, limit);
  const std::size_t from = std::min(scan_.scanned, end);
  const void* hit = from < end ? std::memchr(data + from, '\n', end - from) : nullptr;
  if (hit == nullptr) {
    scan_.scanned = end;
    if (size >= limit) e = error::chunk_line_too_long;
    return 0;
  }
  const std::size_t lf = static_cast<std::size_t>(static_cast<const char*>(hit) - data);
  const std::size_t n = content_end(data, 0, lf);
  std::size_t i = 0;
  std::uint64_t v = 0;
  for (; i < n; ++i) {
    const int d = hex_value(data[i]);
    if (d < 0) break;
    // chunk-size = 1*HEXDIG: leading zeros are valid however many (RFC 9112 §7.1); refuse only a value that
    // does not fit 64 bits ("prevent parsing errors due to integer conversion overflows").
    if (v > (std::numeric_limits<std::uint64_t>::max() >> 4)) {
      e = error::bad_chunk;
      return 0;
    }
    v = v << 4 | static_cast<unsigned>(d);
  }
  // Extensions are parsed to the grammar (§7.1.1), not skipped to the line end: a quote left open, a CTL or
  // a bare CR in them is where two parsers could disagree about where the chunk data starts.
  if (i == 0 || !is_chunk_ext(data + i, data + n)) {
    e = error::bad_chunk;
    return 0;
  }
  scan_ = {};
  if (v == 0) {
    state_ = state::trailers;
  } else {
    // The limit counts decoded bytes; checking the announced size fails before any of it is buffered.
    if (limits_.max_body_bytes != 0 && v > limits_.max_body_bytes - body_bytes_) {
      e = error::body_too_large;
      return 0;
    }
    remaining_ = v;
    state_ = state::chunk_data;
  }
  return lf + 1;
}

// trailer-section = *( field-line CRLF ) CRLF (RFC 9112 §7.1.2): same rules, line ends and limits as the
// head.
std::size_t response_parser::parse_trailers(char* data, std::size_t size, error& e) {
  std::size_t final_line = 0;
  const std::size_t len = find_block_end(data, size, scan_, limits_, final_line, e);
  if (len == 0) return 0;
  trailers_.clear();
  e = parse_fields(data, data + final_line, trailers_, limits_.max_header_count);
  if (e != error{}) return 0;
  state_ = state::done;
  return len;
}

std::size_t response_parser::parse_body(char* data, std::size_t size, std::string_view& out,
                                        std::error_code& ec) {
  out = {};
  ec = {};
  if (failed_ != error{}) return fail(failed_, ec);
  // On error nothing counts as delivered: the message is broken and the connection is retired.
  const auto bad = [&](error x) {
    out = {};
    return fail(x, ec);
  };
  error e{};
  std::size_t pos = 0;
  // Chunked: loop over lines while no data was produced, so that a call which ends a chunk also consumes
  // the next chunk-size line (and, for the last chunk, the trailers): done() turns true with the last data.
  // It stops before a second run of data, since `out` is one contiguous span.
  for (;;) {
    switch (state_) {
      case state::head:
        return bad(error::internal);  // parse_body before the final head
      case state::done:
        return pos;
      case state::body: {
        const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(size, remaining_));
        out = {data, n};
        remaining_ -= n;
        body_bytes_ += n;
        if (remaining_ == 0) state_ = state::done;
        return n;
      }
      case state::until_close:
        if (limits_.max_body_bytes != 0 && size > limits_.max_body_bytes - body_bytes_)
          return bad(error::body_too_large);
        out = {data, size};
        body_bytes_ += size;
        return size;
      case state::chunk_size: {
        const std::size_t n = parse_chunk_line(data + pos, size - pos, e);
        if (e != error{}) return bad(e);
        if (n == 0) return pos;
        pos += n;
        break;
      }
      case state::chunk_data: {
        if (!out.empty() || pos == size) return pos;
        const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(size - pos, remaining_));
        out = {data + pos, n};
        pos += n;
        remaining_ -= n;
        body_bytes_ += n;
        if (remaining_ != 0) return pos;
        state_ = state::chunk_data_crlf;
        break;
      }
      case state::chunk_data_crlf: {
        // CRLF, or a bare LF (RFC 9112 §2.2). A wrong byte fails at once; a CR waits for the byte after it.
        const std::size_t avail = size - pos;
        if (avail == 0) return pos;
        const std::size_t crlf = data[pos] == '\n' ? 1 : data[pos] == '\r' ? 2 : 0;
        if (crlf == 0 || (crlf == 2 && avail >= 2 && data[pos + 1] != '\n')) return bad(error::bad_chunk);
        if (avail < crlf) return pos;
        pos += crlf;
        scan_ = {};
        state_ = state::chunk_size;
        break;
      }
      case state::trailers: {
        const std::size_t n = parse_trailers(data + pos, size - pos, e);
        if (e != error{}) return bad(e);
        return pos + n;
      }
    }
  }
}

void response_parser::on_eof(std::error_code& ec) noexcept {
  ec = {};
  if (failed_ != error{}) {
    ec = make_error_code(failed_);
    return;
  }
  if (state_ == state::until_close) state_ = state::done;
  if (state_ != state::done) fail(error::unexpected_eof, ec);
}

}  // namespace sentinel::http1
