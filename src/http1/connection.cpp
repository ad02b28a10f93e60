// sentinel: one HTTP/1.1 connection. See connection.hpp.
#include "http1/connection.hpp"

#include "http1/upload.hpp"

#include "transport/cancel.hpp"
#include "wire/http1/serializer.hpp"

#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <array>

namespace sentinel::detail {
namespace {

// Errors that mean "the server closed or reset a connection we believed alive". Only these, on a reused
// connection, before any response byte, prove the request was not processed (the silent retry).
bool is_stale_error(const std::error_code& ec) noexcept {
  return ec == error::empty_reply || ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::error::connection_aborted || ec == asio::error::eof;
}

http1::request_kind kind_of(method_kind k) noexcept {
  switch (k) {
    case method_kind::head:
      return http1::request_kind::head;
    case method_kind::connect:
      return http1::request_kind::connect;
    case method_kind::normal:
      break;
  }
  return http1::request_kind::normal;
}

}  // namespace

connection::connection(std::shared_ptr<connection_context> ctx, std::string origin,
                       const http1::parser_limits& limits, std::shared_ptr<link> l)
    : session(std::move(origin)),
      ctx_(std::move(ctx)),
      link_(std::move(l)),
      stream_(link_->io),
      deadlines_(link_->deadlines) {
  parser_.set_limits(limits);
}

connection::~connection() {
  stream_.close();
}

// ---- exchange -----------------------------------------------------------------------------------------

std::error_code connection::prepare(const exchange_request& req) {
  const request_extras& x = req.extras;
  http1::head_extras extras;
  extras.user_agent = x.user_agent;
  extras.accept_encoding = x.accept_encoding;
  extras.absolute_form = x.forward_proxy;
  extras.proxy_authorization = x.proxy_authorization;
  extras.body_length = x.body_length;
  extras.chunked = x.length_unknown;
  extras.expect_continue = x.expect_continue;
  wbuf_.clear();
  return http1::serialize_head({req.method, req.target, req.fields, req.body_size}, extras, wbuf_);
}

task<exchange_outcome> connection::exchange(const outgoing_body& body, const exchange_params& params,
                                            response& res) {
  const bool reused = exchanges_++ > 0;
  exchange_outcome out;
  reusable_ = false;  // until a complete, reusable response proves otherwise
  continue_received_ = false;
  deadlines_.reset_fired();
  http1_deadlines::end_continue(deadlines_);
  deadlines_.set_total(params.total_deadline);
  deadlines_.set_phase(deadline_after(params.response_head_timeout), error::response_timeout);
  reader_.set_idle_timeout(deadlines_, params.idle_read_timeout);
  deadlines_.arm(life());

  auto limits = parser_.limits();
  limits.max_body_bytes = params.max_body_bytes;
  parser_.set_limits(limits);
  parser_.reset(kind_of(params.kind));
  consumer_ = params.consumer;
  res_ = &res;
  early_ec_.clear();
  responded_ = false;
  reader_.start(true);  // the response cannot be there yet: skip the read that would say EAGAIN

  // Most requests go out whole in one non-blocking write, with no coroutine frame for sending.
  bool body_pending = false;
  first_write w = plan_first_write(body, body_pending);
  std::error_code ec;
  const bool written = write_now(stream_, deadlines_, w.head, w.body, w.watch, ec);
  if (!written || (!ec && body_pending)) ec = co_await send_request(w, written, ec, body, body_pending);
  ctx_->counters.bytes_sent.add(w.bytes);
  out.ec = ec;
  out.failed_sending = out.ec.operator bool();
  if (!out.ec && early_ec_) out.ec = early_ec_;
  if (!out.ec && responded_) {
    // The server answered before the request was all out (it may never read the rest): the response
    // stands, and the connection, whose request stream is cut short, is not reused.
    reusable_ = false;
  } else if (!out.ec) {
    out.request_written = !body_pending;
    out.ec = co_await read_response(body, body_pending, out, res);
  }
  out.bytes_received = reader_.bytes();
  res.info().bytes_received = reader_.bytes();
  // A reused connection that died before a single response byte: the server most likely closed it while
  // it sat idle, and never saw the request. A fresh connection's failure is real.
  out.not_processed = reused && out.bytes_received == 0 && is_stale_error(out.ec);
  reader_.release();
  if (out.ec) reusable_ = false;
  deadlines_.clear();
  consumer_ = nullptr;
  res_ = nullptr;
  co_return out;
}

connection::first_write connection::plan_first_write(const outgoing_body& body, bool& body_pending) noexcept {
  // A body held back for 100 Continue, and file and source bodies, follow separately.
  body_pending = !body.empty() && (body.expect_continue || !body.in_memory());
  first_write w;
  w.head = wbuf_;
  if (body.in_memory() && !body.expect_continue) w.body = body.data;
  w.bytes = w.head.size() + w.body.size();
  if (!w.body.empty()) w.watch = watch();
  return w;
}

task<std::error_code> connection::send_request(first_write w, bool written, std::error_code ec,
                                               const outgoing_body& body, bool& body_pending) {
  // Over TLS an unwatched request goes out by a task of its own; a remainder that must wait and a watched
  // write (a body) take write_all. (Two statements, not a conditional: g++ 12 mishandles co_await there.)
  if (!written && w.watch == nullptr && !stream_.reads_by_readiness())
    ec = co_await write_whole(stream_, deadlines_, w.head, w.body);
  else if (!written)
    ec = co_await from_awaitable(write_all(stream_, deadlines_, w.head, w.body, w.watch));
  if (!ec && !responded_ && body_pending && !body.expect_continue) {
    ec = co_await from_awaitable(send_body(stream_, deadlines_, ctx_->counters, body, watch()));
    body_pending = false;
  }
  if (!ec && body_pending) {
    http1_deadlines::set_continue(deadlines_, deadline_after(body.continue_timeout));
    deadlines_.arm(life());
  }
  co_return ec;
}

task<std::error_code> connection::read_response(const outgoing_body& body, bool& body_pending,
                                                exchange_outcome& out, response& res) {
  for (;;) {
    response_reader::chunk c;
    const std::error_code read_ec = co_await reader_.fill(stream_, deadlines_, *ctx_, life(), c);
    if (read_ec) co_return is_end_of_stream(read_ec) ? on_eof(read_ec, res) : read_ec;
    std::size_t consumed = 0;
    if (auto ec = process(c, consumed, res)) co_return ec;
    if (parser_.done()) {
      // Bytes after the response would be a reply to a request we never sent; and a body we held back
      // for 100 Continue was never sent, so the server may still be waiting for it: do not reuse.
      reusable_ = parser_.head().keep_alive && consumed == c.size && !body_pending;
      co_return std::error_code{};
    }
    reader_.keep(stream_, c, consumed);
    if (body_pending && (continue_received_ || http1_deadlines::continue_expired(deadlines_))) {
      http1_deadlines::end_continue(deadlines_);
      body_pending = false;
      if (auto ec = co_await from_awaitable(send_body(stream_, deadlines_, ctx_->counters, body, watch()))) {
        out.failed_sending = true;
        co_return ec;
      }
      if (early_ec_) co_return early_ec_;
      if (responded_) {
        reusable_ = false;  // answered before the body was all out (see exchange())
        co_return std::error_code{};
      }
      out.request_written = true;
    }
  }
}

asio::awaitable<bool> connection::on_readable() {
  response_reader::chunk c;
  reader_.start_reading();  // it is readable now: read at once
  const std::error_code ec = co_await reader_.fill_awaitable(stream_, deadlines_, *ctx_, life(), c);
  if (ec) {
    // EOF or an error: the peer is going away; the next write says so, and after_write_error() reads
    // what is left. Keep what arrived.
    if (c.size > 0) reader_.keep(stream_, c, 0);
    co_return false;
  }
  std::size_t consumed = 0;
  if ((early_ec_ = process(c, consumed, *res_))) co_return true;
  if (parser_.done()) co_return (responded_ = true);
  reader_.keep(stream_, c, consumed);
  co_return false;
}

asio::awaitable<void> connection::read_until_answered() {
  for (;;) {
    // The write may have finished (and cancelled us) between two reads.
    if (was_cancelled(co_await asio::this_coro::cancellation_state)) co_return;
    response_reader::chunk c;
    const std::error_code ec = co_await reader_.fill_awaitable(stream_, deadlines_, *ctx_, life(), c);
    if (ec == asio::error::operation_aborted || deadlines_.fired()) {
      if (c.size > 0)
        reader_.keep(stream_, c, 0);  // bytes that came with the cancellation: for the next reader
      co_return;
    }
    std::size_t consumed = 0;
    if ((early_ec_ = process(c, consumed, *res_))) co_return;
    if (parser_.done()) {
      responded_ = true;
      co_return;
    }
    reader_.keep(stream_, c, consumed);
    if (ec) {
      if (is_end_of_stream(ec) && answered_by_eof(ec)) co_return;
      break;  // EOF or a reset without a whole answer: the write will fail too; its error stands
    }
  }
  if (was_cancelled(co_await asio::this_coro::cancellation_state)) co_return;
  asio::steady_timer park(ctx_->ex, asio::steady_timer::time_point::max());
  std::error_code ignored;
  co_await park.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
}

bool connection::answered_by_eof(const std::error_code& read_ec) {
  if (reader_.bytes() == 0 || on_eof(read_ec, *res_)) return false;  // an until-close body may end here
  return parser_.done() && (responded_ = true);
}

asio::awaitable<bool> connection::after_write_error() {
  // What the peer sent before it went away. Over TCP it is in the receive queue already (TCP delivers it
  // before the reset or the EOF): read without waiting. Over TLS read_until_answered() took what came
  // while the write was in flight, and a broken connection answers a read at once, with its last bytes
  // or its error. Nothing there means the write's error stands.
  for (;;) {
    response_reader::chunk c;
    const std::error_code ec = co_await reader_.fill_after_peer_gone(stream_, deadlines_, *ctx_, life(), c);
    if (ec == asio::error::would_block) co_return false;  // nothing there: the write's error stands
    std::size_t consumed = 0;
    if (c.size > 0 && process(c, consumed, *res_)) co_return false;
    if (parser_.done()) co_return (responded_ = true);
    if (ec) co_return is_end_of_stream(ec) && answered_by_eof(ec);  // an until-close body may end here
    reader_.keep(stream_, c, consumed);
  }
}

// The peer closed. Complete only an until-close body, and over TLS only after close_notify: a truncated
// TLS stream could be an attacker cutting the body short (RFC 9112 §9.8).
std::error_code connection::on_eof(std::error_code read_ec, response& res) {
  if (reader_.bytes() == 0) return make_error_code(error::empty_reply);
  std::error_code ec;
  parser_.on_eof(ec);
  if (!ec && is_truncation(read_ec)) ec = error::unexpected_eof;
  if (!ec && parser_.done()) {
    reusable_ = false;
    ec = consumer_->on_end(res);  // an until-close body ends here
  }
  return ec;
}

std::error_code connection::process(response_reader::chunk& c, std::size_t& pos, response& res) {
  std::error_code ec;
  pos = 0;
  while (!parser_.done()) {
    if (!parser_.head_done()) {
      const std::size_t n = parser_.parse_head(c.data + pos, c.size - pos, ec);
      if (ec) return ec;
      if (n == 0) return {};  // the head is not complete yet
      if (parser_.head().interim()) {
        if (parser_.head().status == 100) continue_received_ = true;
        pos += n;  // 100 Continue, 103 Early Hints: skipped, the final response follows
        continue;
      }
      copy_head(res);
      pos += n;
      deadlines_.end_phase();  // the head arrived: only the idle and total deadlines remain
      if (auto e = consumer_->on_head(res)) return e;
      if (parser_.done()) return consumer_->on_end(res);  // a response without a body
      continue;
    }
    std::string_view data;
    const std::size_t n = parser_.parse_body(c.data + pos, c.size - pos, data, ec);
    if (ec) return ec;
    if (!data.empty()) {
      if (auto e = consumer_->on_body(data)) return e;
    }
    pos += n;
    if (parser_.done()) {
      for (const auto& f : parser_.trailers())
        res.trailers().add(f.name, f.value);
      return consumer_->on_end(res);
    }
    if (n == 0 && data.empty()) break;  // needs more bytes
  }
  return {};
}

void connection::copy_head(response& res) {
  const auto& h = parser_.head();
  res.set_status(h.status);
  res.set_version(h.version);
  res.set_reason(h.reason);
  auto& fields = res.headers();
  fields.clear();
  for (const auto& f : h.fields)
    fields.add(f.name, f.value);
  res.trailers().clear();
  res.body().clear();
}

// ---- closing ------------------------------------------------------------------------------------------

void connection::close(bool graceful) noexcept {
  reusable_ = false;
  deadlines_.stop();
  if (!graceful || !stream_.has_closing_handshake() || !stream_.is_open()) {
    stream_.close();
    return;
  }
  // TLS: send close_notify so the server can tell a clean close from a truncation, but never wait for
  // the peer's reply longer than a second. Both handlers hold the connection until they ran.
  try {
    auto self = std::static_pointer_cast<connection>(shared_from_this());
    deadlines_.lend(std::chrono::seconds(1), [self](std::error_code ec) {
      if (!ec) self->stream_.close();
    });
    stream_.async_shutdown([self](std::error_code) {
      self->deadlines_.cancel_loan();
      self->stream_.close();
    });
  } catch (...) {
    stream_.close();
  }
}

}  // namespace sentinel::detail
