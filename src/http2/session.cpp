// sentinel: one HTTP/2 connection on nghttp2. See session.hpp.
#include "http2/session.hpp"

#include "http2/stream_state.hpp"
#include "session/body_blocks.hpp"
#include "transport/cancel.hpp"
#include "transport/deadlines.hpp"
#include "transport/inbound.hpp"
#include "transport/outbound.hpp"
#include "wire/chars.hpp"

#include <nghttp2/nghttp2.h>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/redirect_error.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>
#include <charconv>
#include <string_view>

namespace sentinel::detail::http2 {

namespace {

// Fields a request must not carry over HTTP/2 (RFC 9113 §8.2.2), and Host (it becomes :authority).
bool dropped(std::string_view lower_name, std::string_view value) noexcept {
  if (lower_name == "te") return !chars::iequals(value, "trailers");
  return lower_name == "connection" || lower_name == "keep-alive" || lower_name == "proxy-connection" ||
         lower_name == "transfer-encoding" || lower_name == "upgrade" || lower_name == "host";
}

std::uint32_t max_header_list_size(const header_limits& l) noexcept {
  // Saturating: the CLI has no field count (SIZE_MAX).
  constexpr std::uint64_t most = 0xffffffffu;
  const std::uint64_t per_field = std::min<std::uint64_t>(l.max_header_count, most / 28) * 28;
  return static_cast<std::uint32_t>(
      std::min<std::uint64_t>(std::uint64_t{l.max_head_bytes} + per_field, most));
}

}  // namespace

connection::connection(std::shared_ptr<connection_context> ctx, std::string origin, std::shared_ptr<link> l,
                       connection_options o)
    : session(std::move(origin)),
      ctx_(std::move(ctx)),
      link_(std::move(l)),
      max_streams_(o.max_streams),
      limits_(o.heads),
      ping_after_idle_(o.ping_after_idle),
      last_heard_(clock::now()),
      ping_wait_(ctx_->ex),
      flood_(o.flood),
      flood_tokens_(o.flood.burst),
      flood_refilled_(last_heard_) {
  // The link's deadlines bounded its connect by the opening request's total deadline; the connection
  // outlives that request, and each stream keeps its own deadlines (wait_for_stream).
  link_->deadlines.stop();
  nghttp2_option* opt = nullptr;
  if (nghttp2_option_new(&opt) != 0) throw std::bad_alloc();
  nghttp2_option_set_no_auto_window_update(opt, 0);  // the consumer takes each chunk as it comes
  const int rv = nghttp2_session_client_new2(&ng_, client_callbacks(), this, opt);
  nghttp2_option_del(opt);
  if (rv != 0) throw std::bad_alloc();
  const nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, static_cast<std::uint32_t>(stream_window)},
      // RFC 9113 counts 32 bytes per field where the limit counts a line end and ": " (4): a head a server
      // sends within this is one the limits accept.
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, max_header_list_size(limits_)},
  };
  nghttp2_submit_settings(ng_, NGHTTP2_FLAG_NONE, settings, std::size(settings));
  nghttp2_session_set_local_window_size(ng_, NGHTTP2_FLAG_NONE, 0, connection_window);
}

connection::~connection() {
  nghttp2_session_del(ng_);
}

std::size_t connection::capacity() const noexcept {
  // Until the server's SETTINGS arrive nghttp2 assumes no limit, and queues what goes beyond the real one
  // once they do. The client's own cap (connection_pool_options::max_streams_per_connection) defaults to
  // 100, what RFC 9113 §6.5.2 recommends a server allow at least.
  const std::uint32_t limit =
      nghttp2_session_get_remote_settings(ng_, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
  return std::max<std::size_t>(1, std::min<std::size_t>(limit, max_streams_));
}

bool connection::reusable() const noexcept {
  return !closed_ && !dead_ && nghttp2_session_check_request_allowed(ng_) != 0;
}

std::error_code connection::prepare(const exchange_request& req) {
  // The same rules as every protocol (wire/request_check), then HTTP/2's own shape.
  prepared_.clear();
  const url& u = req.target;
  std::string authority;
  if (const auto host = req.fields.get("Host")) {
    authority = std::string(*host);  // the request's own Host becomes :authority (RFC 9113 §8.3.1)
  } else {
    u.append_host(authority);
    if (u.has_non_default_port()) authority += ':' + std::to_string(u.port());
  }
  prepared_.insert(prepared_.end(), {":method", std::string(req.method), ":scheme", std::string(u.scheme()),
                                     ":authority", std::move(authority), ":path", std::string(u.target())});
  for (const field_view f : req.fields) {
    std::string name(f.name);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](char c) { return static_cast<char>(chars::to_lower(c)); });
    if (dropped(name, f.value)) continue;
    prepared_.push_back(std::move(name));
    prepared_.emplace_back(f.value);
  }
  const request_extras& x = req.extras;
  if (!x.user_agent.empty() && !req.fields.contains("User-Agent"))
    prepared_.insert(prepared_.end(), {"user-agent", std::string(x.user_agent)});
  if (!x.accept_encoding.empty() && !req.fields.contains("Accept-Encoding"))
    prepared_.insert(prepared_.end(), {"accept-encoding", std::string(x.accept_encoding)});
  const std::uint64_t length = x.body_length.value_or(req.body_size);
  if (!req.fields.contains("Content-Length") && !x.length_unknown && length > 0)
    prepared_.insert(prepared_.end(), {"content-length", std::to_string(length)});
  if (x.expect_continue && !req.fields.contains("Expect"))
    prepared_.insert(prepared_.end(), {"expect", "100-continue"});
  return {};
}

void connection::start() {
  parking_ = false;
  if (!reading_ && !dead_ && !closed_) {
    reading_ = true;
    asio::co_spawn(ctx_->ex, read_loop(shared_from_this()), asio::detached);
  }
  flush();  // the first time: the preface and our SETTINGS
}

void connection::stop_timer() noexcept {
  link_->deadlines.stop();
  if (reading_ && streams_.empty()) {
    parking_ = true;
    park_.emit(asio::cancellation_type::all);
  }
}

bool connection::idle_check() noexcept {
  if (!reading_ && reusable()) {
    // Parked: what arrived meanwhile (a PING, SETTINGS, a GOAWAY, the end of the stream) decides.
    for (;;) {
      inbound::chunk c;
      const std::error_code ec = in_.take(link_->io, *ctx_, c);
      if (c.size > 0 && ec != asio::error::would_block && !receive(c)) break;
      if (ec == asio::error::would_block) break;
      if (ec) {
        fail_all(is_end_of_stream(ec) ? make_error_code(error::unexpected_eof) : ec);
        break;
      }
    }
  }
  return reusable();
}

asio::awaitable<exchange_outcome> connection::run_exchange(const outgoing_body& body,
                                                           const exchange_params& params, response& res) {
  exchange_outcome out;
  start();
  if (!reusable()) {
    out.ec = dead_ ? dead_ : make_error_code(error::unexpected_eof);
    out.not_processed = true;  // no stream was opened
    co_return out;
  }
  if (needs_health_check()) {
    if (const std::error_code ec = co_await check_health(params.ping_timeout)) {
      out.ec = ec;
      out.not_processed = out.refused = true;  // nothing was sent: any method may go elsewhere
      co_return out;
    }
  }
  stream_state st(ctx_->ex);
  st.on_reused = exchanges_++ > 0;
  st.max_body = params.max_body_bytes;
  st.consumer = params.consumer;
  st.res = &res;
  const bool has_body = !body.empty();
  if (body.in_memory()) {
    st.chunk = body.data;
    st.body_end = true;
  }
  st.body_done = !has_body;
  st.hold = has_body && body.expect_continue;
  const std::int32_t id = submit(st, has_body);
  if (id < 0) {
    out.ec = make_error_code(std::errc::protocol_error);
    out.not_processed = true;
    co_return out;
  }
  const std::error_code late = co_await run_stream(st, body, params, out);
  if (!st.closed) {
    // A deadline passed, the body failed, or the caller cancelled: end this stream alone.
    st.ec = late;
    nghttp2_submit_rst_stream(ng_, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
    flush();
  }
  // `st` dies with this frame: nghttp2 must not reach it again, whether it closed the stream or fail_all()
  // ended it while nghttp2 still holds it open (a no-op for a stream nghttp2 has forgotten).
  nghttp2_session_set_stream_user_data(ng_, id, nullptr);
  streams_.erase(id);
  out.ec = st.ec;
  out.bytes_received = st.bytes;
  out.request_written = st.body_done;
  out.not_processed = st.refused || st.stale;
  out.refused = st.refused;
  out.http2_error = st.reset_code;
  res.info().bytes_received = st.bytes;
  co_return out;
}

std::int32_t connection::submit(stream_state& st, bool has_body) {
  std::vector<nghttp2_nv> nva;
  nva.reserve(prepared_.size() / 2);
  for (std::size_t i = 0; i + 1 < prepared_.size(); i += 2) {
    auto& n = prepared_[i];
    auto& v = prepared_[i + 1];
    nva.push_back({reinterpret_cast<std::uint8_t*>(n.data()), reinterpret_cast<std::uint8_t*>(v.data()),
                   n.size(), v.size(), NGHTTP2_NV_FLAG_NONE});
  }
  nghttp2_data_provider provider{};
  provider.read_callback = read_body;
  st.id = nghttp2_submit_request(ng_, nullptr, nva.data(), nva.size(), has_body ? &provider : nullptr, &st);
  if (st.id < 0) return st.id;
  streams_.emplace(st.id, &st);
  flush();
  return st.id;
}

asio::awaitable<std::error_code> connection::run_stream(stream_state& st, const outgoing_body& body,
                                                        const exchange_params& params,
                                                        exchange_outcome& out) {
  // Waits for the stream; whenever the data provider runs dry, produces the next block of a file or
  // source body (user code may run here: the stream waits, the connection does not).
  // Both from the start of the exchange, however many blocks the body takes.
  const clock::time_point head_deadline = deadline_after(params.response_head_timeout);
  const clock::time_point continue_deadline =
      st.hold ? deadline_after(body.continue_timeout) : clock::time_point::max();
  std::unique_ptr<char[]> block;
  constexpr std::size_t block_size = 64 * 1024;
  std::uint64_t produced = 0;
  for (;;) {
    const std::error_code late = co_await wait_for_stream(st, params, head_deadline, continue_deadline);
    if (late || st.closed || !st.body_wanted) co_return late;
    st.body_wanted = false;
    st.rearm = false;
    if (!block) block = std::make_unique<char[]>(block_size);
    std::size_t n = 0;
    if (const std::error_code ec = co_await next_block(body, produced, block.get(), block_size, n)) {
      out.failed_sending = true;
      co_return ec;
    }
    if (st.closed) co_return std::error_code{};  // answered (or reset) while the block was made
    produced += n;
    st.chunk = std::string_view(block.get(), n);
    st.body_end = n == 0;
    nghttp2_session_resume_data(ng_, st.id);
    flush();
  }
}

asio::awaitable<std::error_code> connection::wait_for_stream(stream_state& st, const exchange_params& params,
                                                             clock::time_point head_deadline,
                                                             clock::time_point continue_deadline) {
  // The stream's own deadlines, as HTTP/1's (docs/architecture.md): the whole exchange; the response head
  // from the start; then no frame of this stream for idle_read_timeout. None touches the connection.
  for (;;) {
    if (st.closed || st.body_wanted) co_return std::error_code{};
    clock::time_point next = params.total_deadline;
    if (st.hold) next = std::min(next, continue_deadline);
    if (!st.head_done) next = std::min(next, head_deadline);
    if (st.head_done && params.idle_read_timeout.count() > 0)
      next = std::min(next, st.last_byte + params.idle_read_timeout);
    st.wake.expires_at(next);
    std::error_code ec;
    co_await st.wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (st.closed) co_return std::error_code{};
    if (ec == asio::error::operation_aborted && st.rearm) {
      st.rearm = false;
      // A cancellation that came at the same moment is in the coroutine's state, not in `ec`.
      if (!was_cancelled(co_await asio::this_coro::cancellation_state)) continue;
    }
    if (ec == asio::error::operation_aborted) co_return ec;  // the caller's cancellation
    const clock::time_point now = clock::now();
    if (st.hold && now >= continue_deadline) {
      st.hold = false;  // no 100 in time: the body goes anyway (RFC 9110 §10.1.1)
      nghttp2_session_resume_data(ng_, st.id);
      flush();
      continue;
    }
    if (now >= params.total_deadline) co_return make_error_code(error::request_timeout);
    if (!st.head_done && now >= head_deadline) co_return make_error_code(error::response_timeout);
    if (st.head_done && params.idle_read_timeout.count() > 0 &&
        now >= st.last_byte + params.idle_read_timeout)
      co_return make_error_code(error::idle_timeout);
  }
}

bool connection::receive(inbound::chunk c) noexcept {
  if (ping_after_idle_.count() > 0) last_heard_ = clock::now();  // no clock read nothing needs
  const auto n = nghttp2_session_mem_recv(ng_, reinterpret_cast<const std::uint8_t*>(c.data), c.size);
  in_.keep(link_->io, c, c.size);
  if (n < 0) {
    // -905 is NGHTTP2_ERR_TOO_MANY_CONTINUATIONS (nghttp2 1.61, in Debian 12's 1.52 by backport): the
    // flood header_block_frame() guards against, caught by nghttp2 first. NGHTTP2_ERR_FLOODED: more
    // answers (PING and SETTINGS acknowledgements) queued than nghttp2 keeps.
    if (!failure_) {
      failure_ = n == -905                  ? make_error_code(error::header_too_large)
                 : n == NGHTTP2_ERR_FLOODED ? make_error_code(error::frame_flood)
                                            : make_error_code(std::errc::protocol_error);
    }
    fail_all(failure_);
    return false;
  }
  flush();  // WINDOW_UPDATE, SETTINGS ACK, PING ACK, resets
  if (sent_goaway_error_ != 0 && nghttp2_session_want_read(ng_) == 0) {
    // The server broke the protocol: nghttp2 ended the connection with a GOAWAY (written by the writer,
    // which outlives dead_) and reads nothing more, so no stream would ever hear back.
    goaway_error_ = sent_goaway_error_;
    failure_ = make_error_code(error::http2_protocol_error);
    fail_all(failure_);
    return false;
  }
  return true;
}

asio::awaitable<void> connection::read_loop(std::shared_ptr<session> /*keep_alive*/) {
  stream& s = link_->io;
  for (;;) {
    inbound::chunk c;
    std::error_code ec = in_.take(s, *ctx_, c);
    if (ec == asio::error::would_block) {
      co_await in_.async_wait(
          s, *ctx_,
          asio::bind_cancellation_slot(park_.slot(), asio::redirect_error(asio::use_awaitable, ec)));
      if (ec == asio::error::operation_aborted && !closed_ && !dead_) {
        if (parking_) break;  // parked by stop_timer()
        continue;             // a park that start() called off before the reader saw it
      }
      if (ec) {
        fail_all(ec);
        break;
      }
      continue;
    }
    if (dead_) break;  // failed meanwhile (a write error): nothing more is read into its streams
    if (c.size > 0 && !receive(c)) break;
    if (ec) {  // the end of the stream, or its error
      fail_all(is_end_of_stream(ec) ? make_error_code(error::unexpected_eof) : ec);
      break;
    }
  }
  reading_ = false;
  parking_ = false;
}

void connection::flush() noexcept {
  if (closed_) return;
  try {
    for (;;) {
      const std::uint8_t* data = nullptr;
      const auto n = nghttp2_session_mem_send(ng_, &data);
      if (n <= 0) break;
      out_.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));  // valid until next call
    }
  } catch (...) {
    fail_all(make_error_code(std::errc::not_enough_memory));
    return;
  }
  if (out_.empty() || writing_ || dead_) return;
  try {
    writing_ = true;
    asio::co_spawn(ctx_->ex, write_loop(shared_from_this()), asio::detached);
  } catch (...) {
    writing_ = false;
    fail_all(make_error_code(std::errc::not_enough_memory));
  }
}

asio::awaitable<void> connection::write_loop(std::shared_ptr<session> /*keep_alive*/) {
  // Runs while there is output, so that an idle connection leaves nothing waiting on its executor.
  std::string buf;
  while (!out_.empty() && !closed_) {  // after a failure too: a GOAWAY telling the server why
    buf.clear();
    buf.swap(out_);
    const std::error_code ec = co_await write_all(link_->io, link_->deadlines, buf, {});
    if (!ec) ctx_->counters.bytes_sent.add(buf.size());
    if (ec) {
      fail_all(ec);
      break;
    }
  }
  writing_ = false;
}

bool connection::header_block_frame(std::size_t length, bool ends_block) noexcept {
  block_bytes_ += length;
  ++block_frames_;
  // The compressed block is at most about the size of what it decodes to; padding adds up to 255 bytes
  // a frame, and a frame holds 16 KiB or more: a head within the limits fits these with room to spare.
  const std::size_t max_bytes = limits_.max_head_bytes + 16 * 1024;
  const std::size_t max_frames = 8 + limits_.max_head_bytes / 1024;
  if (block_bytes_ > max_bytes || block_frames_ > max_frames) {
    failure_ = make_error_code(error::header_too_large);
    return false;
  }
  if (ends_block) block_bytes_ = block_frames_ = 0;
  return true;
}

bool connection::overhead_frame() noexcept {
  if (flood_.burst == 0) return true;  // no limit
  const auto now = clock::now();
  if (flood_tokens_ == flood_.burst) {
    flood_refilled_ = now;  // a full bucket earns nothing
  } else if (flood_.per_second > 0) {
    const auto per_token = std::chrono::duration_cast<clock::duration>(std::chrono::seconds(1)) /
                           static_cast<clock::rep>(flood_.per_second);
    const auto earned = static_cast<std::size_t>((now - flood_refilled_) / per_token);
    if (earned >= flood_.burst - flood_tokens_) {
      flood_tokens_ = flood_.burst;
      flood_refilled_ = now;
    } else {
      flood_tokens_ += earned;
      flood_refilled_ += per_token * static_cast<clock::rep>(earned);
    }
  }
  if (flood_tokens_ == 0) {
    failure_ = make_error_code(error::frame_flood);
    return false;
  }
  --flood_tokens_;
  return true;
}

void connection::fail_all(std::error_code ec) noexcept {
  if (!dead_) dead_ = ec;
  ping_wait_.cancel();  // a health check waiting for its PING's answer
  for (auto& [id, st] : streams_) {
    if (!st->closed && !st->ended && !st->ec) {
      st->ec = ec;
      st->reset_code = goaway_error_;  // the server said why it ended the connection
      // HTTP/1's stale-connection rule (docs/retry.md): a reused connection that died before a single
      // frame of this stream came back (most likely closed by the server while it sat idle) did not
      // process it. Not when the connection was ended from here.
      st->stale = st->on_reused && !st->heard && ec != asio::error::operation_aborted;
    }
    st->closed = true;
    st->wake.cancel();
  }
  if (reading_) park_.emit(asio::cancellation_type::all);  // the reader ends (dead_ is set: no parking)
}

void connection::close(bool) noexcept {
  if (closed_) return;
  closed_ = true;
  fail_all(make_error_code(asio::error::operation_aborted));
  link_->io.close();
}

void connection::cancel() noexcept {
  fail_all(make_error_code(asio::error::operation_aborted));  // every stream, and the reader
  link_->io.cancel();
}

}  // namespace sentinel::detail::http2
