// sentinel: nghttp2's callbacks for a client session: they record what arrived in the stream's state and
// queue resets; they never send (the connection's writer does) and never return a fatal error for one
// stream's trouble. See stream_state.hpp.
#include "http2/stream_state.hpp"

#include <sentinel/error.hpp>

#include <asio/error.hpp>

#include <algorithm>
#include <charconv>
#include <new>
#include <optional>

namespace sentinel::detail::http2 {
namespace {

using stream_state = connection::stream_state;

std::string_view view(const std::uint8_t* p, std::size_t n) noexcept {
  return {reinterpret_cast<const char*>(p), n};
}

stream_state* state_of(nghttp2_session* s, std::int32_t id) noexcept {
  return static_cast<stream_state*>(nghttp2_session_get_stream_user_data(s, id));
}

// The consumer's verdict on what it was handed; what it throws (no memory for the body) becomes an error
// code here, since nothing may unwind through nghttp2's C frames.
template <class F>
std::error_code guarded(F&& f) noexcept {
  try {
    return f();
  } catch (...) {
    return make_error_code(std::errc::not_enough_memory);
  }
}

// The response's content-length, when it has a valid one.
std::optional<std::uint64_t> declared_length(const response& res) noexcept {
  const auto field = res.headers().get("content-length");
  std::uint64_t n = 0;
  if (!field || std::from_chars(field->data(), field->data() + field->size(), n).ec != std::errc{})
    return std::nullopt;
  return n;
}

// A consumer or framing error ends this stream alone: reset it (sent by the writer, after the callback).
void fail_stream(nghttp2_session* s, std::int32_t id, stream_state& st, std::error_code ec) noexcept {
  if (!st.ec) st.ec = ec;
  nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
}

void finish(nghttp2_session* s, std::int32_t id, stream_state& st) noexcept {
  if (st.ended || st.ec) return;
  st.ended = true;
  if (auto e = guarded([&] { return st.consumer->on_end(*st.res); })) {
    fail_stream(s, id, st, e);
  } else if (!st.body_done) {
    // A complete response before the whole request (an early 413, or no 100 for a held body): it
    // stands, and our half of the stream ends without the rest (RFC 9113 §8.1).
    nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, id, NGHTTP2_NO_ERROR);
  }
}

// The limits of a head (or trailer block), as HTTP/1 counts them: each field a line `name: value\r\n`.
std::error_code count_field(stream_state& st, const header_limits& l, std::string_view n,
                            std::string_view v) noexcept {
  const std::size_t line = n.size() + v.size() + 4;
  st.block_bytes += line;
  if (n.empty() || n.front() != ':') ++st.block_fields;
  if (l.max_header_line_bytes > 0 && line > l.max_header_line_bytes)
    return make_error_code(error::header_line_too_long);
  if (st.block_bytes > l.max_head_bytes) return make_error_code(error::header_too_large);
  if (st.block_fields > l.max_header_count) return make_error_code(error::too_many_headers);
  return {};
}

int on_begin_headers(nghttp2_session* s, const nghttp2_frame* frame, void*) {
  if (stream_state* st = state_of(s, frame->hd.stream_id)) st->block_bytes = st->block_fields = 0;
  return 0;
}

int on_header(nghttp2_session* s, const nghttp2_frame* frame, const std::uint8_t* name, std::size_t namelen,
              const std::uint8_t* value, std::size_t valuelen, std::uint8_t, void* conn) {
  if (frame->hd.type != NGHTTP2_HEADERS) return 0;
  stream_state* st = state_of(s, frame->hd.stream_id);
  if (st == nullptr || st->ec) return 0;
  const std::string_view n = view(name, namelen), v = view(value, valuelen);
  if (const std::error_code e = count_field(*st, static_cast<const connection*>(conn)->limits(), n, v)) {
    st->ec = e;
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;  // nghttp2 resets the stream and skips the rest
  }
  try {                   // nothing may unwind through nghttp2's C frames
    if (st->head_done) {  // a trailer block
      st->res->trailers().add(n, v);
    } else if (n == ":status") {
      std::from_chars(v.data(), v.data() + v.size(), st->status);
    } else if (n.empty() || n.front() != ':') {
      st->fields.add(n, v);
    }
  } catch (...) {
    fail_stream(s, frame->hd.stream_id, *st, make_error_code(std::errc::not_enough_memory));
  }
  return 0;
}

void on_head(nghttp2_session* s, std::int32_t id, stream_state& st) noexcept {
  // nghttp2 checks that :status has three digits, not that it is at least 100 ("099" passes).
  if (st.status < 100) {
    fail_stream(s, id, st, make_error_code(error::bad_status_line));
    return;
  }
  if (st.status >= 100 && st.status < 200) {  // 100 Continue, 103 Early Hints: the final head follows
    if (st.status == 100 && st.hold) {
      st.hold = false;  // the body may go (the reader flushes after this callback)
      nghttp2_session_resume_data(s, id);
    }
    st.status = 0;
    st.fields.clear();
    return;
  }
  st.head_done = true;
  // The idle deadline starts now: wake the exchange to arm it.
  st.rearm = true;
  st.wake.cancel();
  response& res = *st.res;
  res.set_status(st.status);
  res.set_version(20);
  res.set_reason({});
  res.headers() = std::move(st.fields);
  res.trailers().clear();
  res.body().clear();
  // A declared length over the limit fails now, as HTTP/1's does, before a byte of the body.
  const auto declared = declared_length(res);
  if (st.max_body > 0 && declared && *declared > st.max_body) {
    fail_stream(s, id, st, make_error_code(error::body_too_large));
    return;
  }
  if (auto e = guarded([&] { return st.consumer->on_head(res); })) fail_stream(s, id, st, e);
}

int on_frame_recv(nghttp2_session* s, const nghttp2_frame* frame, void* conn) {
  if (frame->hd.type == NGHTTP2_PING && (frame->hd.flags & NGHTTP2_FLAG_ACK) != 0)
    static_cast<connection*>(conn)->on_ping_ack();
  if (frame->hd.type == NGHTTP2_GOAWAY) static_cast<connection*>(conn)->on_goaway(frame->goaway.error_code);
  const std::int32_t id = frame->hd.stream_id;
  if (id == 0) return 0;
  stream_state* st = state_of(s, id);
  if (st == nullptr || st->ec) return 0;
  if (frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) st->last_byte = clock::now();
  if (frame->hd.type == NGHTTP2_HEADERS && !st->head_done) on_head(s, id, *st);
  if ((frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) &&
      (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0 && st->head_done)
    finish(s, id, *st);
  return 0;
}

int on_data_chunk(nghttp2_session* s, std::uint8_t, std::int32_t id, const std::uint8_t* data,
                  std::size_t len, void*) {
  stream_state* st = state_of(s, id);
  if (st == nullptr) return 0;
  st->bytes += len;
  if (st->ec) return 0;
  st->last_byte = clock::now();
  if (st->max_body > 0 && st->bytes > st->max_body) {
    fail_stream(s, id, *st, make_error_code(error::body_too_large));
    return 0;
  }
  if (auto e = guarded([&] { return st->consumer->on_body(view(data, len)); })) fail_stream(s, id, *st, e);
  return 0;
}

// Whether a frame carries nothing for an exchange in flight: what a flood is made of (CVE-2019-9512
// PING, -9515 SETTINGS, -9518 empty frames; resets and heads of streams whose exchange is gone). Not
// WINDOW_UPDATE: a server sends one for each block of an upload it reads. Not CONTINUATION:
// header_block_frame() bounds a block's frames. (Frames nghttp2 skips unread, of unknown types or for
// closed streams, never reach this callback: they cost what their bytes cost.)
// `st` is the frame's stream's state (null: none, or its exchange is gone).
bool carries_nothing(const nghttp2_frame_hd& hd, const stream_state* st) noexcept {
  switch (hd.type) {
    case NGHTTP2_DATA:
      return hd.length == 0 && (hd.flags & NGHTTP2_FLAG_END_STREAM) == 0;
    case NGHTTP2_HEADERS:
    case NGHTTP2_RST_STREAM:
      return st == nullptr;
    case NGHTTP2_WINDOW_UPDATE:
    case NGHTTP2_CONTINUATION:
    case NGHTTP2_PUSH_PROMISE:  // a protocol error: push is off (SETTINGS_ENABLE_PUSH 0)
      return false;
    default:
      return true;  // PING, SETTINGS, PRIORITY, GOAWAY
  }
}

// Frame headers as they arrive, before nghttp2 judges them: what a stream it then resets for breaking the
// HTTP messaging rules was sent.
int on_begin_frame(nghttp2_session* s, const nghttp2_frame_hd* hd, void* conn) {
  const bool of_stream = hd->stream_id != 0 && (hd->type == NGHTTP2_DATA || hd->type == NGHTTP2_HEADERS ||
                                                hd->type == NGHTTP2_RST_STREAM);
  stream_state* st = of_stream ? state_of(s, hd->stream_id) : nullptr;  // one lookup for both uses
  if (carries_nothing(*hd, st) && !static_cast<connection*>(conn)->overhead_frame())
    return NGHTTP2_ERR_CALLBACK_FAILURE;  // the whole connection: receive() fails it with frame_flood
  if ((hd->type == NGHTTP2_HEADERS || hd->type == NGHTTP2_CONTINUATION) &&
      !static_cast<connection*>(conn)->header_block_frame(hd->length,
                                                          (hd->flags & NGHTTP2_FLAG_END_HEADERS) != 0))
    return NGHTTP2_ERR_CALLBACK_FAILURE;  // the whole connection: receive() fails it with header_too_large
  if (st == nullptr || hd->type == NGHTTP2_RST_STREAM) return 0;
  st->heard = true;
  if (hd->type == NGHTTP2_DATA) st->framed += hd->length;
  if ((hd->flags & NGHTTP2_FLAG_END_STREAM) != 0) st->end_seen = true;
  return 0;
}

// Why a stream that did not end well closed (`code` is the RST_STREAM's, ours or the server's).
std::error_code close_reason(stream_state& st, std::uint32_t code) noexcept {
  if (code == NGHTTP2_NO_ERROR) return make_error_code(error::unexpected_eof);
  if (code == NGHTTP2_REFUSED_STREAM) return make_error_code(error::stream_refused);
  const auto declared = st.head_done ? declared_length(*st.res) : std::nullopt;
  if (code == NGHTTP2_PROTOCOL_ERROR && declared) {
    // nghttp2 resets a stream whose DATA disagrees with its content-length (RFC 9113 §8.1.1).
    if (st.framed > *declared) return make_error_code(error::body_length_mismatch);
    if (st.end_seen && st.bytes < *declared) return make_error_code(error::unexpected_eof);  // cut short
  }
  st.reset_code = code;
  return make_error_code(error::stream_reset);
}

int on_frame_send(nghttp2_session*, const nghttp2_frame* frame, void* conn) {
  if (frame->hd.type == NGHTTP2_GOAWAY && frame->goaway.error_code != NGHTTP2_NO_ERROR)
    static_cast<connection*>(conn)->on_goaway_sent(frame->goaway.error_code);
  return 0;
}

// Never a fatal error here (nghttp2 would tear the whole session down for one stream).
int on_stream_close(nghttp2_session* s, std::int32_t id, std::uint32_t code, void*) {
  stream_state* st = state_of(s, id);
  if (st == nullptr) return 0;
  st->closed = true;
  if (!st->ended && !st->ec) {
    st->refused = code == NGHTTP2_REFUSED_STREAM;
    st->ec = close_reason(*st, code);
  }
  st->wake.cancel();
  return 0;
}

struct session_callbacks {
  nghttp2_session_callbacks* cbs = nullptr;
  session_callbacks() {
    if (nghttp2_session_callbacks_new(&cbs) != 0) throw std::bad_alloc();
    nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data_chunk);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_stream_close);
    nghttp2_session_callbacks_set_on_begin_frame_callback(cbs, on_begin_frame);
    nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, on_begin_headers);
    nghttp2_session_callbacks_set_on_frame_send_callback(cbs, on_frame_send);
  }
  ~session_callbacks() { nghttp2_session_callbacks_del(cbs); }
};

}  // namespace

const nghttp2_session_callbacks* client_callbacks() {
  static const session_callbacks callbacks;
  return callbacks.cbs;
}

ssize_t read_body(nghttp2_session* s, std::int32_t id, std::uint8_t* buf, std::size_t length,
                  std::uint32_t* flags, nghttp2_data_source*, void*) {
  // The stream's user data, not the provider's source pointer: an exchange that ended (a deadline, a
  // cancellation) cleared it before its state went away, and nghttp2 then resets the stream.
  stream_state* found = state_of(s, id);
  if (found == nullptr) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  stream_state& st = *found;
  if (st.hold) return NGHTTP2_ERR_DEFERRED;
  if (st.chunk.empty() && !st.body_end) {
    st.body_wanted = true;  // the exchange produces the next block, then resumes the stream
    st.rearm = true;
    st.wake.cancel();
    return NGHTTP2_ERR_DEFERRED;
  }
  const std::size_t n = std::min(length, st.chunk.size());
  std::copy_n(st.chunk.data(), n, buf);
  st.chunk.remove_prefix(n);
  if (st.chunk.empty() && st.body_end) {
    *flags |= NGHTTP2_DATA_FLAG_EOF;
    st.body_done = true;
  }
  return static_cast<ssize_t>(n);
}

}  // namespace sentinel::detail::http2
