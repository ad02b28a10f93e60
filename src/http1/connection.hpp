// sentinel: one HTTP/1.1 connection: a stream, its parser, its deadlines, one exchange at a time.
//
// It holds a narrow context (transport/context.hpp), never the client: opening goes through
// transport::connect, reading through response_reader, writing through upload.hpp. exchange() is the
// whole HTTP/1 story of one request: write the head (and an in-memory body) in one write, send a file or
// source body (after 100 Continue when asked), read and frame the response, and decide whether the
// connection may carry another request. While a body goes out it also watches for the response (a
// server may answer 413 and stop reading): a complete response ends the upload, and the connection is
// then never reused. TLS streams do not watch yet: they read the response after the request.
#pragma once

#include "http1/reader.hpp"
#include "http1/upload.hpp"
#include "session/exchange.hpp"
#include "session/session.hpp"
#include "transport/connect.hpp"
#include "transport/context.hpp"
#include "transport/deadlines.hpp"
#include "transport/link.hpp"
#include "transport/stream.hpp"
#include "wire/http1/parser.hpp"

#include <sentinel/response.hpp>

#include <asio/awaitable.hpp>

#include <memory>
#include <string>
#include <string_view>

namespace sentinel::detail {

class connection final : public session, private response_watch {
 public:
  /// A session on `l`, connected to `origin` (the pool connected it).
  connection(std::shared_ptr<connection_context> ctx, std::string origin, const http1::parser_limits& limits,
             std::shared_ptr<link> l);
  ~connection() override;

  // session: one exchange at a time.
  std::size_t capacity() const noexcept override { return 1; }
  std::size_t active() const noexcept override { return res_ != nullptr ? 1 : 0; }
  /// True when another request may be sent: the last response was complete, framed, and allowed it.
  bool reusable() const noexcept override { return reusable_ && stream_.is_open(); }
  /// Cheap liveness probe for an idle connection: false when the peer has closed it (readable EOF),
  /// reset it, or sent unsolicited bytes.
  bool idle_check() noexcept override { return reusable() && stream_.idle_check(); }

  /// Serializes the request head into the write buffer (http1::serialize_head: refuses CR, LF and NUL).
  std::error_code prepare(const exchange_request& req) override;
  /// Writes the prepared head + `body` and reads one complete response into `res` (head fields, body,
  /// trailers). On any error the connection is left non-reusable.
  task<exchange_outcome> exchange(const outgoing_body& body, const exchange_params& params,
                                  response& res) override;
  tcp::endpoint peer() const noexcept override { return link_->peer; }
  std::string_view alpn() const noexcept override { return stable_alpn(link_->io.alpn_protocol()); }

  /// Closes now. A TLS connection first tries to send close_notify (bounded, in the background).
  void close(bool graceful = true) noexcept override;
  /// Cancels pending I/O (the exchange fails with operation_aborted) without closing.
  void cancel() noexcept override { stream_.cancel(); }
  /// Cancels the deadline timer if it is pending, so an idle client leaves no work on its executor.
  void stop_timer() noexcept override { deadlines_.stop(); }

 private:
  // The request's first write: the head, and an in-memory body sent with it.
  struct first_write {
    std::string_view head, body;      // what is still to go
    std::size_t bytes = 0;            // both, for the counter
    response_watch* watch = nullptr;  // only a body may make the server answer before the request is out
  };
  first_write plan_first_write(const outgoing_body& body, bool& body_pending) noexcept;
  /// What write_now left of the first write (unless `written`), then a body that goes separately.
  task<std::error_code> send_request(first_write w, bool written, std::error_code ec,
                                     const outgoing_body& body, bool& body_pending);
  task<std::error_code> read_response(const outgoing_body& body, bool& body_pending, exchange_outcome& out,
                                      response& res);
  std::error_code on_eof(std::error_code read_ec, response& res);
  // response_watch: the response arriving while the request is still going out (readiness streams)
  asio::awaitable<bool> on_readable() override;
  asio::awaitable<bool> after_write_error() override;
  asio::awaitable<void> read_until_answered() override;
  /// EOF while the request is still going out: true when that completed the response.
  bool answered_by_eof(const std::error_code& read_ec);
  response_watch* watch() noexcept { return this; }
  std::error_code process(response_reader::chunk& c, std::size_t& consumed, response& res);
  void copy_head(response& res);
  std::weak_ptr<void> life() noexcept { return weak_from_this(); }

  std::shared_ptr<connection_context> ctx_;
  std::shared_ptr<link> link_;
  stream& stream_;           // link_->io
  deadline_set& deadlines_;  // link_->deadlines
  http1::response_parser parser_;
  response_reader reader_;
  std::string wbuf_;
  response_consumer* consumer_ = nullptr;  // during an exchange
  response* res_ = nullptr;                // during an exchange
  std::error_code early_ec_;               // reading the response while writing failed
  bool reusable_ = true;                   // opened: it may carry a first exchange
  bool continue_received_ = false;         // a 100 Continue arrived
  std::size_t exchanges_ = 0;              // exchanges begun on this connection
};

}  // namespace sentinel::detail
