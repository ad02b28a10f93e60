// sentinel: one HTTP/2 connection: an nghttp2 client session on a link, carrying many exchanges at once.
//
// nghttp2's memory API, as its users' bug reports teach: every byte read is fed to
// nghttp2_session_mem_recv; what nghttp2_session_mem_send produces is copied out at once (its buffer lives
// only until the next call) and written by the connection's one writer, never from inside a callback. One
// reader loop and one writer per connection, both on the worker that owns it; an exchange waits on its own
// stream's state, never on the socket. Written on nghttp2 (libnghttp2-dev 1.52 in Debian 12) rather than by
// hand: HPACK, flow control and the frame rules are its job.
//
// Part 1 of HTTP/2 (this file): request bodies from memory, files and sources (a deferred data provider
// fed block by block by the exchange) and Expect: 100-continue; the response head, body and trailers to
// the exchange's consumer, 1xx skipped; per-stream deadlines (total, response head, idle) and the body
// limit; capacity from the server's SETTINGS_MAX_CONCURRENT_STREAMS; large windows; a stream reset by the
// server as an error of that exchange alone. Not yet: GOAWAY beyond failing what is open (part 2).
#pragma once

#include "session/session.hpp"
#include "transport/context.hpp"
#include "transport/deadlines.hpp"
#include "transport/inbound.hpp"
#include "transport/link.hpp"

#include <asio/awaitable.hpp>
#include <asio/cancellation_signal.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

struct nghttp2_session;

namespace sentinel::detail::http2 {

/// How large the receive windows are: the 64 KiB default throttles downloads (one round trip per 64 KiB).
constexpr std::int32_t stream_window = 16 * 1024 * 1024;
constexpr std::int32_t connection_window = 64 * 1024 * 1024;

/// What one header block from the server may hold (the client's limit_options, as HTTP/1 applies them):
/// each field counts as the HTTP/1 line it would be, `name: value` and its line end.
struct header_limits {
  std::size_t max_head_bytes = 64 * 1024;         ///< error::header_too_large
  std::size_t max_header_count = 100;             ///< error::too_many_headers (pseudo-headers aside)
  std::size_t max_header_line_bytes = 64 * 1024;  ///< error::header_line_too_long (0: none of its own)
};

/// How many frames that carry nothing for an exchange (PING, SETTINGS, PRIORITY, GOAWAY, empty DATA, a reset
/// or head of a stream whose exchange is gone) a server may send: a token bucket of `burst` frames,
/// refilled at `per_second`. A well-behaved server sends a few per connection; a flood (CVE-2019-9512,
/// -9515, -9518) fails the connection with error::frame_flood after `burst` of them at most. `burst` 0: no
/// limit.
struct flood_limits {
  std::size_t burst = 1000;
  std::size_t per_second = 100;
};

/// How a connection behaves (the client's options, as the session factory passes them on).
struct connection_options {
  std::size_t max_streams = 100;  ///< exchanges carried at once at most (the server may allow fewer); 0: 1
  header_limits heads;
  /// A connection that heard nothing from its server for this long is checked with a PING before its next
  /// exchange (connection_pool_options::ping_after_idle); zero: never.
  clock::duration ping_after_idle{};
  flood_limits flood;
};

class connection final : public session {
 public:
  connection(std::shared_ptr<connection_context> ctx, std::string origin, std::shared_ptr<link> l,
             connection_options o = {});
  ~connection() override;

  std::size_t capacity() const noexcept override;
  std::size_t active() const noexcept override { return streams_.size(); }
  bool reusable() const noexcept override;
  /// An idle HTTP/2 connection may receive frames (PING, SETTINGS, GOAWAY) at any time: usable while no
  /// GOAWAY came and the stream has not ended. A parked reader's pending bytes are processed first.
  bool idle_check() noexcept override;

  /// Builds the request's header block (pseudo-headers from the request, lower-case names, no
  /// connection-specific fields) for the next exchange(), which follows at once on the same thread.
  std::error_code prepare(const exchange_request& req) override;
  /// The exchange runs as an awaitable (the HTTP/2 session's code is written on Asio's coroutines).
  task<exchange_outcome> exchange(const outgoing_body& body, const exchange_params& params,
                                  response& res) override {
    return from_awaitable(run_exchange(body, params, res));
  }
  tcp::endpoint peer() const noexcept override { return link_->peer; }
  std::string_view alpn() const noexcept override { return stable_alpn(link_->io.alpn_protocol()); }

  void close(bool graceful = true) noexcept override;
  void cancel() noexcept override;
  /// The client went idle (its user's run() should return): an idle connection parks its reader, which
  /// the next exchange() starts again. Nothing else waits: the writer runs only while there is output.
  void stop_timer() noexcept override;

  /// Starts the reader (again, after parking) and sends what is queued (the first time: the preface and
  /// SETTINGS). Done by exchange(): the session must be owned by a shared_ptr by then.
  void start();

  struct stream_state;  // one exchange (session.cpp)

  const header_limits& limits() const noexcept { return limits_; }
  /// A HEADERS or CONTINUATION frame of `length` bytes begins (callbacks.cpp): false when the header
  /// block it belongs to grew past what any head within the limits needs, in bytes or in frames (the
  /// CONTINUATION flood of CVE-2024-27316 / CVE-2024-28182, whatever nghttp2's version does about it).
  /// The connection then fails with error::header_too_large.
  bool header_block_frame(std::size_t length, bool ends_block) noexcept;
  /// A frame that carries nothing for an exchange arrived (callbacks.cpp): false once the server sent more
  /// of them than flood_limits allow. The connection then fails with error::frame_flood.
  bool overhead_frame() noexcept;
  /// The server answered our PING (callbacks.cpp).
  void on_ping_ack() noexcept;
  /// A GOAWAY arrived: an error code other than NO_ERROR names why the streams the connection's end
  /// fails were lost (their http2_error).
  void on_goaway(std::uint32_t code) noexcept {
    if (code != 0) goaway_error_ = code;
  }
  /// nghttp2 sent our GOAWAY with an error code: the server broke the protocol (a connection error).
  void on_goaway_sent(std::uint32_t code) noexcept { sent_goaway_error_ = code; }

 private:
  asio::awaitable<exchange_outcome> run_exchange(const outgoing_body& body, const exchange_params& params,
                                                 response& res);
  asio::awaitable<void> read_loop(std::shared_ptr<session> keep_alive);  // both hold the session
  /// Submits the prepared request as `st` (with a data provider when it has a body) and sends it: the
  /// stream id, or nghttp2's negative error.
  std::int32_t submit(stream_state& st, bool has_body);
  /// Carries `st` to its end: what ended it early (a deadline, the body, a cancellation), if anything.
  asio::awaitable<std::error_code> run_stream(stream_state& st, const outgoing_body& body,
                                              const exchange_params& params, exchange_outcome& out);
  /// Waits until `st` closes, wants its next body block, or one of its deadlines passes (or the caller
  /// cancels): which deadline, if any. The response head is due by `head_deadline`; a held body is let
  /// go at `continue_deadline`.
  asio::awaitable<std::error_code> wait_for_stream(stream_state& st, const exchange_params& params,
                                                   clock::time_point head_deadline,
                                                   clock::time_point continue_deadline);
  /// Feeds `c` to nghttp2 and sends what that produced; false when the connection failed.
  bool receive(inbound::chunk c) noexcept;
  void flush() noexcept;  // drains nghttp2's output and starts the writer if it is not running
  asio::awaitable<void> write_loop(std::shared_ptr<session> keep_alive);
  void fail_all(std::error_code ec) noexcept;
  /// Before an exchange on a connection silent for ping_after_idle: a PING, answered within `timeout`
  /// (zero: no bound), or the connection fails (health.cpp).
  bool needs_health_check() const noexcept;
  asio::awaitable<std::error_code> check_health(clock::duration timeout);

  std::shared_ptr<connection_context> ctx_;
  std::shared_ptr<link> link_;
  nghttp2_session* ng_ = nullptr;
  std::unordered_map<std::int32_t, stream_state*> streams_;
  std::vector<std::string> prepared_;  // name, value, name, value, ... for the next exchange
  std::string out_;                    // bytes nghttp2 produced, not yet written
  inbound in_;                         // outlives a parked reader: bytes it kept wait for the next one
  asio::cancellation_signal park_;     // parks the reader (stop_timer)
  std::size_t exchanges_ = 0;          // exchanges started on this connection
  std::error_code dead_;               // set once the connection failed: no new exchanges
  bool writing_ = false;               // the writer runs (until out_ is empty)
  bool reading_ = false;               // the reader runs
  bool parking_ = false;               // the reader was asked to park
  bool closed_ = false;
  std::size_t max_streams_;  // the client's cap on capacity()
  header_limits limits_;
  clock::duration ping_after_idle_;
  clock::time_point last_heard_;  // when bytes last came from the server
  asio::steady_timer ping_wait_;  // the exchange that sent a PING waits here for its answer
  bool ping_pending_ = false;     // a PING is out, unanswered
  bool ping_answered_ = false;
  std::size_t block_bytes_ = 0;     // the header block being received: its frames' bytes so far
  std::size_t block_frames_ = 0;    // and its frames
  std::error_code failure_;         // why a callback failed the connection (else nghttp2's protocol error)
  std::uint32_t goaway_error_ = 0;  // the error code of the server's GOAWAY, if not NO_ERROR
  std::uint32_t sent_goaway_error_ = 0;  // the error code of ours, when nghttp2 ended the connection
  flood_limits flood_;
  std::size_t flood_tokens_;          // overhead frames the server may still send at once
  clock::time_point flood_refilled_;  // when the bucket was last refilled (read only for such frames)
};

}  // namespace sentinel::detail::http2
