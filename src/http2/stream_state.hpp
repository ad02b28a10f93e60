// sentinel: what an HTTP/2 exchange shares with nghttp2's callbacks: the stream's state, and the
// callbacks themselves (callbacks.cpp). Internal to http2/.
#pragma once

#include "http2/session.hpp"

#include <nghttp2/nghttp2.h>

#include <asio/steady_timer.hpp>

#include <cstdint>
#include <string_view>
#include <system_error>

namespace sentinel::detail::http2 {

/// One exchange: what the callbacks fill in, and the timer its exchange() waits on.
struct connection::stream_state {
  explicit stream_state(const asio::any_io_executor& ex) : wake(ex, asio::steady_timer::time_point::max()) {}
  response_consumer* consumer = nullptr;
  response* res = nullptr;
  std::int32_t id = 0;
  // The request body, as the data provider hands it to nghttp2: the in-memory body, or the block the
  // exchange produced last (a file or a source).
  std::string_view chunk;
  bool body_end = false;     // `chunk` is the rest of the body
  bool body_wanted = false;  // the provider ran dry: the exchange produces the next block
  bool body_done = false;    // the whole body went to nghttp2 (the END_STREAM flag with it)
  bool hold = false;         // Expect: 100-continue: the body waits for a 100 or continue_timeout
  int status = 0;
  headers fields;
  bool head_done = false;        // the final response head was handed to the consumer
  bool rearm = false;            // the exchange's wait was woken to re-arm its deadline, not cancelled
  bool ended = false;            // the whole response arrived
  bool closed = false;           // nghttp2 closed the stream
  bool refused = false;          // reset with REFUSED_STREAM (or above a GOAWAY's last stream id)
  bool stale = false;            // on a reused connection that died before a frame of it came back
  std::uint32_t reset_code = 0;  // the RST_STREAM (or error GOAWAY) code that ended it
  std::size_t bytes = 0;         // DATA bytes received
  std::uint64_t framed = 0;      // DATA frame payload announced (padding included), valid or not
  bool end_seen = false;         // a frame with END_STREAM arrived, valid or not
  bool heard = false;            // a HEADERS or DATA frame of this stream arrived
  std::size_t block_bytes = 0;   // the header block being received, counted as HTTP/1 lines
  std::size_t block_fields = 0;  // and its fields (pseudo-headers aside)
  bool on_reused = false;        // it was not the connection's first exchange
  std::uint64_t max_body = 0;    // zero: unlimited
  clock::time_point last_byte;   // when the last frame of the response came (idle deadline)
  std::error_code ec;
  asio::steady_timer wake;  // exchange() waits here; cancelled when the stream closes
};

/// The callbacks of every client session (read-only once made: shared by every worker's sessions).
const nghttp2_session_callbacks* client_callbacks();

/// The data provider's read callback: hands the stream's body to nghttp2, deferring when it runs dry.
ssize_t read_body(nghttp2_session* s, std::int32_t id, std::uint8_t* buf, std::size_t length,
                  std::uint32_t* flags, nghttp2_data_source*, void*);

}  // namespace sentinel::detail::http2
