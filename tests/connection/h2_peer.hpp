// sentinel test support: the server side of an HTTP/2 connection, built on nghttp2's own server session,
// over the in-memory stream (h2_peer) or a TCP socket (tcp_h2_peer), and a client session wired to an
// h2_peer (fixture). Header-only: used by the HTTP/2 test files of this folder and by
// tests/loopback/http2_fault_test.cpp.
#pragma once

#include "http2/session.hpp"
#include "support/memory_stream.hpp"
#include "support/run_until.hpp"
#include "transport/context.hpp"
#include "transport/link.hpp"

#include <nghttp2/nghttp2.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace sentinel::test::h2 {

// (co_await never appears inside a Catch macro or a condition here: g++ 12.)

struct request_seen {
  std::map<std::string, std::string> fields;  // pseudo-headers included
  std::string body;
};

// A frame as it goes on the wire (RFC 9113 §4.1).
inline std::string frame(std::uint8_t type, std::uint8_t flags, std::uint32_t stream,
                         const std::string& payload) {
  std::string f;
  const auto n = payload.size();
  f += static_cast<char>(n >> 16);
  f += static_cast<char>(n >> 8);
  f += static_cast<char>(n);
  f += static_cast<char>(type);
  f += static_cast<char>(flags);
  f += static_cast<char>(stream >> 24);
  f += static_cast<char>(stream >> 16);
  f += static_cast<char>(stream >> 8);
  f += static_cast<char>(stream);
  return f + payload;
}

// The server side: an nghttp2 server session on the other end of a stream (the in-memory pipe: h2_peer; a
// TCP socket of a server on its own thread: tcp_h2_peer). `respond` decides each answer. Writes are
// synchronous: the pipe has no bound, and a TCP server runs on a thread of its own.
template <class Stream>
class basic_h2_peer {
 public:
  struct answer {
    int status = 200;
    std::string body;
    std::vector<std::pair<std::string, std::string>> trailers;
    bool interim_100 = false;                // a 100 Continue first
    std::uint32_t reset = NGHTTP2_NO_ERROR;  // reset the stream instead of answering
    bool silent = false;                     // never answer
    bool head_only = false;                  // send the head, then nothing more
    std::string declared_length = {};        // the content-length sent ("": the body's true size)
    std::vector<std::pair<std::string, std::string>> fields = {};  // more fields in the head
  };
  std::function<answer(const request_seen&)> respond;
  std::uint32_t max_streams = 100;
  std::map<std::int32_t, request_seen> requests;
  std::size_t answered = 0;
  std::set<std::int32_t> answered_ids;
  /// What a request with `expect: 100-continue` gets when its head arrives.
  enum class on_expect { send_100, answer_now, ignore } expect = on_expect::send_100;
  std::map<std::int32_t, std::uint32_t> closed;  // stream id -> the error code it closed with
  std::size_t pings = 0;                         // PING frames from the client (nghttp2 answers them)
  std::optional<std::uint32_t> goaway;           // the error code of the client's GOAWAY, if one came
  std::optional<std::uint32_t> initial_window;   // SETTINGS_INITIAL_WINDOW_SIZE in the first SETTINGS
  bool answer_early = false;                     // answer each request when its head arrives
  /// After this many answers (0: never), a GOAWAY (NO_ERROR) naming the last stream seen: the streams the
  /// client opens after it are left unprocessed, as nghttp2 leaves them.
  std::size_t goaway_after = 0;
  /// Close the stream once nghttp2 is done with the session (after a GOAWAY, with no stream open).
  bool close_when_done = false;
  /// While true, what the server sends is kept in `held` instead of written (the test writes it).
  bool hold_output = false;
  std::string held;

  explicit basic_h2_peer(Stream end) : s_(std::move(end)) {
    nghttp2_session_callbacks* cbs = nullptr;
    nghttp2_session_callbacks_new(&cbs);
    nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_close);
    nghttp2_session_server_new(&ng_, cbs, this);
    nghttp2_session_callbacks_del(cbs);
  }
  ~basic_h2_peer() { nghttp2_session_del(ng_); }
  basic_h2_peer(const basic_h2_peer&) = delete;
  basic_h2_peer& operator=(const basic_h2_peer&) = delete;

  /// Closes the server's end (the client reads the end of the stream).
  void close() {
    if constexpr (requires(Stream & x, std::error_code & e) { x.close(e); }) {
      std::error_code ec;
      s_.close(ec);
    } else {
      s_.close();
    }
  }
  /// Writes `bytes` to the client as they are.
  void write_raw(std::string_view bytes) {
    std::error_code ec;
    asio::write(s_, asio::buffer(bytes.data(), bytes.size()), ec);
  }
  /// Announces a new SETTINGS_MAX_CONCURRENT_STREAMS and sends it.
  void set_max_streams(std::uint32_t n) {
    max_streams = n;
    const nghttp2_settings_entry iv[] = {{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, n}};
    nghttp2_submit_settings(ng_, NGHTTP2_FLAG_NONE, iv, 1);
    send();
  }

  /// Announces a new SETTINGS_INITIAL_WINDOW_SIZE and sends it.
  void set_initial_window(std::uint32_t n) {
    const nghttp2_settings_entry iv[] = {{NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, n}};
    nghttp2_submit_settings(ng_, NGHTTP2_FLAG_NONE, iv, 1);
    send();
  }

  asio::awaitable<void> run() {
    const nghttp2_settings_entry iv[] = {{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, max_streams},
                                         {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, initial_window.value_or(0)}};
    nghttp2_submit_settings(ng_, NGHTTP2_FLAG_NONE, iv, initial_window ? 2 : 1);
    send();
    std::array<char, 16384> buf;
    for (;;) {
      std::error_code ec;
      const std::size_t n =
          co_await s_.async_read_some(asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      if (nghttp2_session_mem_recv(ng_, reinterpret_cast<const std::uint8_t*>(buf.data()), n) < 0) co_return;
      if (goaway_after > 0 && answered >= goaway_after && !goaway_sent_) {
        goaway_sent_ = true;
        nghttp2_submit_goaway(ng_, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(ng_),
                              NGHTTP2_NO_ERROR, nullptr, 0);
      }
      send();
      if (close_when_done && nghttp2_session_want_read(ng_) == 0 && nghttp2_session_want_write(ng_) == 0) {
        co_await linger(buf);
        co_return;
      }
    }
  }

 private:
  // Closes as servers do after a GOAWAY: our side first, then reading (and dropping) what the client still
  // sends until it closes too. Closing at once with unread bytes would reset the connection, and the
  // client's kernel could drop the GOAWAY before the client read it.
  asio::awaitable<void> linger(std::array<char, 16384>& buf) {
    std::error_code ec;
    if constexpr (requires(Stream & x) { x.shutdown(asio::socket_base::shutdown_send, ec); }) {
      s_.shutdown(asio::socket_base::shutdown_send, ec);
      while (!ec)
        co_await s_.async_read_some(asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
    }
    close();
  }

  struct outgoing {
    std::string body;
    std::size_t sent = 0;
    std::vector<std::pair<std::string, std::string>> trailers;
    std::vector<std::pair<std::string, std::string>> fields;
  };

  void send() {
    for (;;) {
      const std::uint8_t* data = nullptr;
      const auto n = nghttp2_session_mem_send(ng_, &data);
      if (n <= 0) break;
      if (hold_output) {
        held.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
        continue;
      }
      std::error_code ec;
      asio::write(s_, asio::buffer(data, static_cast<std::size_t>(n)), ec);
    }
  }

  static int on_header(nghttp2_session*, const nghttp2_frame* f, const std::uint8_t* n, std::size_t nl,
                       const std::uint8_t* v, std::size_t vl, std::uint8_t, void* ud) {
    auto* self = static_cast<basic_h2_peer*>(ud);
    self->requests[f->hd.stream_id].fields[std::string(reinterpret_cast<const char*>(n), nl)] =
        std::string(reinterpret_cast<const char*>(v), vl);
    return 0;
  }
  static int on_data(nghttp2_session*, std::uint8_t, std::int32_t id, const std::uint8_t* data,
                     std::size_t len, void* ud) {
    static_cast<basic_h2_peer*>(ud)->requests[id].body.append(reinterpret_cast<const char*>(data), len);
    return 0;
  }
  static int on_close(nghttp2_session*, std::int32_t id, std::uint32_t code, void* ud) {
    static_cast<basic_h2_peer*>(ud)->closed[id] = code;
    return 0;
  }
  static int on_frame(nghttp2_session* s, const nghttp2_frame* f, void* ud) {
    auto* self = static_cast<basic_h2_peer*>(ud);
    if (f->hd.type == NGHTTP2_PING && (f->hd.flags & NGHTTP2_FLAG_ACK) == 0) ++self->pings;
    if (f->hd.type == NGHTTP2_GOAWAY) self->goaway = f->goaway.error_code;
    const bool end = (f->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    if (f->hd.type == NGHTTP2_HEADERS && !end && self->requests[f->hd.stream_id].fields.count("expect") > 0) {
      if (self->expect == on_expect::send_100) {
        std::string k = ":status", v = "100";
        nghttp2_nv nv = make_nv(k, v);
        nghttp2_submit_headers(s, NGHTTP2_FLAG_NONE, f->hd.stream_id, nullptr, &nv, 1, nullptr);
      } else if (self->expect == on_expect::answer_now) {
        self->answer_stream(s, f->hd.stream_id);  // before the body: it may never come
      }
    }
    if (f->hd.type == NGHTTP2_HEADERS && self->answer_early && self->answered_ids.count(f->hd.stream_id) == 0)
      self->answer_stream(s, f->hd.stream_id);
    if ((f->hd.type == NGHTTP2_HEADERS || f->hd.type == NGHTTP2_DATA) && end &&
        self->answered_ids.count(f->hd.stream_id) == 0)
      self->answer_stream(s, f->hd.stream_id);
    return 0;
  }
  static ssize_t read_body(nghttp2_session* s, std::int32_t id, std::uint8_t* buf, std::size_t len,
                           std::uint32_t* flags, nghttp2_data_source* src, void*) {
    auto& o = *static_cast<outgoing*>(src->ptr);
    const std::size_t n = std::min(len, o.body.size() - o.sent);
    std::copy_n(o.body.data() + o.sent, n, buf);
    o.sent += n;
    if (o.sent == o.body.size()) {
      *flags |= NGHTTP2_DATA_FLAG_EOF;
      if (!o.trailers.empty()) {
        *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
        std::vector<nghttp2_nv> nv;
        for (auto& [k, v] : o.trailers)
          nv.push_back(make_nv(k, v));
        nghttp2_submit_trailer(s, id, nv.data(), nv.size());
      }
    }
    return static_cast<ssize_t>(n);
  }
  static nghttp2_nv make_nv(std::string& k, std::string& v) {
    return {reinterpret_cast<std::uint8_t*>(k.data()), reinterpret_cast<std::uint8_t*>(v.data()), k.size(),
            v.size(), NGHTTP2_NV_FLAG_NONE};
  }
  void answer_stream(nghttp2_session* s, std::int32_t id) {
    ++answered;
    answered_ids.insert(id);
    const answer a = respond(requests[id]);
    if (a.reset != NGHTTP2_NO_ERROR) {
      nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, id, a.reset);
      return;
    }
    if (a.silent) return;
    if (a.interim_100) {
      std::string k = ":status", v = "100";
      nghttp2_nv nv = make_nv(k, v);
      nghttp2_submit_headers(s, NGHTTP2_FLAG_NONE, id, nullptr, &nv, 1, nullptr);
    }
    auto& o = out_[id];
    o.body = a.body;
    o.trailers = a.trailers;
    std::string k1 = ":status", v1 = std::to_string(a.status), k2 = "content-length",
                v2 = a.declared_length.empty() ? std::to_string(a.body.size()) : a.declared_length;
    o.fields = a.fields;
    std::vector<nghttp2_nv> nv{make_nv(k1, v1), make_nv(k2, v2)};
    for (auto& [name, value] : o.fields)
      nv.push_back(make_nv(name, value));
    if (a.head_only) {
      nghttp2_submit_headers(s, NGHTTP2_FLAG_NONE, id, nullptr, nv.data(), nv.size(), nullptr);
      return;
    }
    nghttp2_data_provider prd{};
    prd.source.ptr = &o;
    prd.read_callback = read_body;
    nghttp2_submit_response(s, id, nv.data(), nv.size(), &prd);
  }

  Stream s_;
  nghttp2_session* ng_ = nullptr;
  bool goaway_sent_ = false;
  std::map<std::int32_t, outgoing> out_;
};

using h2_peer = basic_h2_peer<sentinel::test::memory_stream>;
using tcp_h2_peer = basic_h2_peer<asio::ip::tcp::socket>;

struct collect final : sentinel::detail::response_consumer {
  std::string body;
  bool ended = false;
  std::error_code on_head(sentinel::response&) override { return {}; }
  std::error_code on_body(std::string_view data) override {
    body.append(data);
    return {};
  }
  std::error_code on_end(sentinel::response&) override {
    ended = true;
    return {};
  }
};

// A session over a fresh pipe to a fresh peer.
struct fixture {
  explicit fixture(sentinel::detail::http2::connection_options options = {})
      : ctx(std::make_shared<sentinel::detail::connection_context>(io.get_executor(), sentinel::tls_options{},
                                                                   80 * 1024)) {
    auto [mine, theirs] = sentinel::test::make_memory_pipe(io.get_executor());
    auto l = std::make_shared<sentinel::detail::link>(io.get_executor());
    sentinel::test::attach_memory(l->io, mine, "h2");
    peer = std::make_unique<h2_peer>(theirs);
    conn = std::make_shared<sentinel::detail::http2::connection>(ctx, "http://h2.test:80", std::move(l),
                                                                 options);
  }
  ~fixture() { conn->close(); }

  void start_peer() { asio::co_spawn(io, peer->run(), asio::detached); }

  struct result {
    sentinel::detail::exchange_outcome out;
    sentinel::response res;
    std::string body;
  };
  asio::awaitable<result> send(std::string method, std::string target, std::string body = {},
                               sentinel::detail::exchange_params p = {}) {
    sentinel::detail::outgoing_body b;
    b.data = body;
    co_return co_await send_body(std::move(method), std::move(target), b, {}, p);
  }

  /// Any body: `x` says its length (body_length, length_unknown) and whether it waits for 100 Continue.
  asio::awaitable<result> send_body(std::string method, std::string target, sentinel::detail::outgoing_body b,
                                    sentinel::detail::request_extras x, sentinel::detail::exchange_params p) {
    sentinel::url u("http://h2.test" + target);
    sentinel::headers fields{{"X-Test", "yes"}, {"Connection", "keep-alive"}};
    x.user_agent = "sentinel-test";
    result r;
    REQUIRE_FALSE(conn->prepare({method, u, fields, b.data.size(), x}));
    collect c;
    p.consumer = &c;
    r.out = co_await sentinel::detail::async_run(conn->exchange(b, p, r.res),
                                                 co_await asio::this_coro::executor, asio::use_awaitable);
    r.body = c.body;
    if (!r.out.ec) CHECK(c.ended);
    co_return r;
  }

  /// Runs GET `path` (which the peer leaves unanswered) until it ends; once the peer has seen it,
  /// `then(peer)` writes what the test scripts (raw frames, the end of the stream).
  result send_then(const std::string& path, const std::function<void(h2_peer&)>& then) {
    return send_then_co(path, [&](h2_peer& p) -> asio::awaitable<void> {
      then(p);
      co_return;
    });
  }
  /// The same with a `then` that may wait (other exchanges, timers) before the request ends.
  result send_then_co(const std::string& path, const std::function<asio::awaitable<void>(h2_peer&)>& then) {
    result r;
    sentinel::test::run_until(io, [&]() -> asio::awaitable<void> {
      bool done = false;
      asio::co_spawn(
          io,
          [&]() -> asio::awaitable<void> {
            r = co_await send("GET", path);
            done = true;
          },
          asio::detached);
      while (peer->answered == 0)
        co_await pause();
      co_await then(*peer);
      while (!done)
        co_await pause();
    }());
    return r;
  }
  asio::awaitable<void> pause() {
    asio::steady_timer t(io, std::chrono::milliseconds(1));
    co_await t.async_wait(asio::use_awaitable);
  }

  asio::io_context io;
  std::shared_ptr<sentinel::detail::connection_context> ctx;
  std::unique_ptr<h2_peer> peer;
  std::shared_ptr<sentinel::detail::http2::connection> conn;
};

inline std::string echo_of(const request_seen& r) {
  return r.fields.at(":method") + " " + r.fields.at(":path") + " " + r.body;
}

}  // namespace sentinel::test::h2
