// sentinel test support: script_server implementation.
//
// Everything that touches sockets runs on the server's own thread (one io_context, one thread). The test
// thread only reads the observation state, under `mu`. On destruction the io_context is stopped and then
// destroyed, which destroys every suspended connection coroutine and so closes every socket.
#include "support/script_server.hpp"

#include "support/request_wire.hpp"

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/redirect_error.hpp>
#include <asio/ssl.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <openssl/ssl.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>
#include <type_traits>

namespace sentinel::test {

namespace {

using asio::ip::tcp;
using tls_stream = asio::ssl::stream<tcp::socket>;

constexpr std::size_t drain_limit = 16 << 20;  // bytes read and dropped before a graceful close

using namespace wire;  // the request reader shared with proxy_server

}  // namespace

// ---- received_request ----------------------------------------------------------------------------------

std::string_view received_request::header(std::string_view name) const {
  for (const auto& [n, v] : headers)
    if (iequals(n, name)) return v;
  return {};
}

bool received_request::has_header(std::string_view name) const {
  return std::any_of(headers.begin(), headers.end(), [&](const auto& h) { return iequals(h.first, name); });
}

std::size_t received_request::header_count(std::string_view name) const {
  return static_cast<std::size_t>(
      std::count_if(headers.begin(), headers.end(), [&](const auto& h) { return iequals(h.first, name); }));
}

// ---- state ---------------------------------------------------------------------------------------------

namespace detail {

struct script_server_state {
  using handler = script_server::handler;
  // Configuration: written before the thread starts, read-only afterwards.
  std::vector<script> scripts;
  script fallback;
  handler on_request;
  server_options opts;
  unsigned short port = 0;

  // Observation: guarded by mu, written by the server thread, read by any thread.
  mutable std::mutex mu;
  mutable std::condition_variable cv;
  std::size_t accepted = 0;
  std::size_t closed = 0;
  std::size_t received = 0;
  std::size_t bad = 0;
  std::size_t unexpected = 0;  // bytes seen by expect_nothing steps
  std::size_t tls_failed = 0;
  std::vector<std::vector<received_request>> per_connection;
  std::vector<tls_connection_info> tls_info;               // per connection
  std::vector<std::pair<std::size_t, std::size_t>> order;  // (connection, position) of each record

  // I/O. The ssl context must outlive the streams, which die with the io_context, so it comes first;
  // the io_context is destroyed before the observation state its coroutines update.
  std::optional<asio::ssl::context> ssl;
  asio::io_context ctx{1};
  std::thread thread;

  std::size_t add_connection() {
    std::lock_guard lock(mu);
    per_connection.emplace_back();
    tls_info.emplace_back();
    ++accepted;
    cv.notify_all();
    return accepted - 1;
  }

  void handshake_done(std::size_t index, SSL* ssl) {
    const char* sni = ::SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    const unsigned char* alpn = nullptr;
    unsigned int alpn_len = 0;
    ::SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
    std::lock_guard lock(mu);
    auto& t = tls_info[index];
    t.handshake_done = true;
    if (sni != nullptr) t.server_name = sni;
    if (alpn != nullptr) t.alpn.assign(reinterpret_cast<const char*>(alpn), alpn_len);
    t.resumed = ::SSL_session_reused(ssl) == 1;
    cv.notify_all();
  }

  void close_notify_received(std::size_t index) {
    std::lock_guard lock(mu);
    tls_info[index].close_notify_received = true;
    cv.notify_all();
  }

  void count(std::size_t script_server_state::*counter) {
    std::lock_guard lock(mu);
    ++(this->*counter);
    cv.notify_all();
  }

  void record(const received_request& r) {
    std::lock_guard lock(mu);
    ++received;
    if (opts.record_requests) {
      per_connection[r.connection].push_back(r);
      order.emplace_back(r.connection, per_connection[r.connection].size() - 1);
    }
    cv.notify_all();
  }

  // expect_body after expect_head: complete the record that expect_head made.
  void append_body(const received_request& r) {
    if (!opts.record_requests) return;
    std::lock_guard lock(mu);
    if (per_connection[r.connection].empty()) return;  // expect_body without expect_head
    auto& rec = per_connection[r.connection].back();
    rec.body = r.body;
    rec.raw = r.raw;
    rec.chunked = r.chunked;
  }

  bool wait(const std::size_t script_server_state::*counter, std::size_t n,
            std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, timeout, [&] { return this->*counter >= n; });
  }
};

}  // namespace detail

namespace {

using state = detail::script_server_state;

// One accepted connection: the stream, a read buffer that is reused for every request, and the script
// interpreter. Stream is tcp::socket or tls_stream.
template <class Stream>
class connection {
 public:
  connection(state& s, Stream stream, std::size_t index)
      : s_(s), stream_(std::move(stream)), index_(index), buf_(16384) {}

  static constexpr bool is_tls = std::is_same_v<Stream, tls_stream>;

  tcp::socket& socket() {
    if constexpr (is_tls)
      return stream_.next_layer();
    else
      return stream_;
  }

  asio::awaitable<void> run() {
    if constexpr (is_tls) {
      std::error_code ec;
      co_await stream_.async_handshake(asio::ssl::stream_base::server,
                                       asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        s_.count(&state::tls_failed);
        socket().close(ec);
        co_return;
      }
      s_.handshake_done(index_, stream_.native_handle());
    }
    if (s_.on_request)
      co_await serve();
    else
      co_await play(index_ < s_.scripts.size() ? s_.scripts[index_] : s_.fallback);
  }

 private:
  // Handler mode: answer requests until the client closes or a close condition holds.
  asio::awaitable<void> serve() {
    received_request req;  // reused: its strings and header vector keep their capacity
    body_framing fr;
    for (std::size_t served = 0;;) {
      if (!co_await read_head(req, fr)) co_return;
      if (s_.opts.auto_continue && (fr.chunked || fr.content_length > 0) &&
          iequals(req.header("Expect"), "100-continue")) {
        std::size_t unused = 0;
        if (parse_body(buffered(), fr, unused, nullptr) == parse_status::need_more &&
            !co_await write("HTTP/1.1 100 Continue\r\n\r\n"))
          co_return;
      }
      if (!co_await read_body(req, fr)) co_return;
      s_.record(req);
      std::string resp;
      try {
        resp = s_.on_request(req);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "script_server: handler threw: %s\n", e.what());
        co_return;
      }
      if (resp.empty() || !co_await write(resp)) break;
      ++served;
      if (request_closes(req) || response_closes(resp) ||
          (s_.opts.max_requests_per_connection != 0 && served >= s_.opts.max_requests_per_connection))
        break;
    }
    co_await graceful_close();
  }

  asio::awaitable<void> play(const script& steps) {
    received_request req;
    body_framing fr;
    for (const step& st : steps) {
      switch (st.what) {
        case step::kind::expect_request:
          if (!co_await read_head(req, fr) || !co_await read_body(req, fr)) co_return;
          s_.record(req);
          break;
        case step::kind::expect_head:
          if (!co_await read_head(req, fr)) co_return;
          s_.record(req);
          break;
        case step::kind::expect_body:
          if (!co_await read_body(req, fr)) co_return;
          s_.append_body(req);
          break;
        case step::kind::send:
          if (!co_await write(st.bytes)) co_return;
          break;
        case step::kind::send_drip:
          for (std::size_t i = 0; i < st.bytes.size(); ++i) {
            if (!co_await write(std::string_view(st.bytes).substr(i, 1))) co_return;
            if (i + 1 < st.bytes.size()) co_await sleep(st.duration);
          }
          break;
        case step::kind::expect_nothing: {
          const std::size_t n = co_await read_for(st.duration);
          std::lock_guard lock(s_.mu);
          s_.unexpected += n;
          break;
        }
        case step::kind::stall:
          co_await sleep(st.duration);
          break;
        case step::kind::stall_forever:
          co_await sleep(std::chrono::milliseconds::max());
          break;
        case step::kind::close:
          co_await graceful_close();
          co_return;
        case step::kind::shutdown_send:
          co_await shutdown_send();
          break;
        case step::kind::reset: {
          std::error_code ec;
          socket().set_option(asio::socket_base::linger(true, 0), ec);
          socket().close(ec);
          co_return;
        }
        case step::kind::wait_for_close:
          co_await wait_for_close();
          co_return;
        case step::kind::close_without_notify:
          tls_shut_ = true;  // never send close_notify on this connection
          co_await graceful_close();
          co_return;
      }
    }
    co_await graceful_close();
  }

  std::string_view buffered() const { return {buf_.data() + begin_, end_ - begin_}; }

  // Reads more bytes into the buffer, first moving the unread rest to the front (growing if full).
  // Returns false when the client closed or the read failed.
  asio::awaitable<bool> fill() {
    if (begin_ > 0) {
      std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    if (end_ == buf_.size()) buf_.resize(buf_.size() * 2);
    std::error_code ec;
    std::size_t n = co_await stream_.async_read_some(asio::buffer(buf_.data() + end_, buf_.size() - end_),
                                                     asio::redirect_error(asio::use_awaitable, ec));
    end_ += n;
    if constexpr (is_tls) {
      if (ec == asio::error::eof) s_.close_notify_received(index_);  // truncation is stream_truncated
    }
    co_return !ec || n > 0;
  }

  // Reads until a byte arrives, the client closes or `d` passes (the timer cancels the read); returns the
  // bytes buffered past what earlier steps consumed, which stay for the next step.
  asio::awaitable<std::size_t> read_for(std::chrono::milliseconds d) {
    if (end_ == begin_) {
      // `waiting`: a timer that expired just as bytes arrived still runs its handler, which must then not
      // cancel the next step's read (nor touch `this`, which is alive only while we wait).
      auto waiting = std::make_shared<bool>(true);
      asio::steady_timer timer(stream_.get_executor());
      timer.expires_after(d);
      timer.async_wait([this, waiting](std::error_code ec) {
        if (!ec && *waiting) socket().cancel(ec);
      });
      co_await fill();
      *waiting = false;
      timer.cancel();
    }
    co_return end_ - begin_;
  }

  asio::awaitable<bool> read_head(received_request& req, body_framing& fr) {
    std::size_t scanned = 0;
    for (;;) {
      std::size_t head_len = 0;
      switch (parse_head(buffered(), scanned, req, fr, head_len)) {
        case parse_status::done:
          req.connection = index_;
          req.sequence = sequence_++;
          req.raw.assign(buffered().substr(0, head_len));
          req.body.clear();
          begin_ += head_len;
          co_return true;
        case parse_status::bad:
          s_.count(&state::bad);
          co_return false;
        case parse_status::need_more:
          if (!co_await fill()) co_return false;
      }
    }
  }

  asio::awaitable<bool> read_body(received_request& req, const body_framing& fr) {
    for (;;) {
      std::size_t len = 0;
      switch (parse_body(buffered(), fr, len, nullptr)) {
        case parse_status::done:
          req.body.clear();
          parse_body(buffered(), fr, len, &req.body);
          req.raw.append(buffered().substr(0, len));
          begin_ += len;
          co_return true;
        case parse_status::bad:
          s_.count(&state::bad);
          co_return false;
        case parse_status::need_more:
          if (!co_await fill()) co_return false;
      }
    }
  }

  asio::awaitable<bool> write(std::string_view bytes) {
    std::error_code ec;
    co_await asio::async_write(stream_, asio::buffer(bytes.data(), bytes.size()),
                               asio::redirect_error(asio::use_awaitable, ec));
    co_return !ec;
  }

  asio::awaitable<void> sleep(std::chrono::milliseconds d) {
    asio::steady_timer timer(stream_.get_executor());
    if (d == std::chrono::milliseconds::max())
      timer.expires_at(asio::steady_timer::time_point::max());
    else
      timer.expires_after(d);
    std::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }

  // TLS: send close_notify without waiting for the peer's (a pooled client may not read for a long time).
  // Telling OpenSSL the peer's close_notify already arrived makes SSL_shutdown complete after writing ours.
  asio::awaitable<void> send_close_notify() {
    if constexpr (is_tls) {
      if (tls_shut_) co_return;
      tls_shut_ = true;
      SSL* ssl = stream_.native_handle();
      ::SSL_set_shutdown(ssl, ::SSL_get_shutdown(ssl) | SSL_RECEIVED_SHUTDOWN);
      std::error_code ec;
      co_await stream_.async_shutdown(asio::redirect_error(asio::use_awaitable, ec));
    }
  }

  asio::awaitable<void> shutdown_send() {
    co_await send_close_notify();
    std::error_code ec;
    socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  // FIN, then drop what the client already sent: closing with unread bytes would send a RST instead.
  asio::awaitable<void> graceful_close() {
    co_await shutdown_send();
    std::error_code ec;
    socket().non_blocking(true, ec);
    char sink[4096];
    for (std::size_t total = 0; total < drain_limit;) {
      std::size_t n = socket().read_some(asio::buffer(sink), ec);
      if (ec || n == 0) break;
      total += n;
    }
    socket().close(ec);
  }

  asio::awaitable<void> wait_for_close() {
    char sink[4096];
    std::error_code ec;
    while (!ec)
      co_await socket().async_read_some(asio::buffer(sink), asio::redirect_error(asio::use_awaitable, ec));
    socket().close(ec);
  }

  state& s_;
  Stream stream_;
  std::size_t index_;
  std::size_t sequence_ = 0;
  std::vector<char> buf_;
  std::size_t begin_ = 0;  // unread bytes are buf_[begin_, end_)
  std::size_t end_ = 0;
  bool tls_shut_ = false;
};

// Counts the connection as closed however its coroutine ends (including destruction at server stop).
struct closed_counter {
  state& s;
  ~closed_counter() { s.count(&state::closed); }
};

asio::awaitable<void> run_connection(state& s, tcp::socket sock, std::size_t index) {
  closed_counter guard{s};
  if (s.ssl) {
    connection<tls_stream> c(s, tls_stream(std::move(sock), *s.ssl), index);
    co_await c.run();
    std::error_code ec;
    c.socket().close(ec);
  } else {
    connection<tcp::socket> c(s, std::move(sock), index);
    co_await c.run();
    std::error_code ec;
    c.socket().close(ec);
  }
}

void report(std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    std::fprintf(stderr, "script_server: connection failed: %s\n", x.what());
  }
}

asio::awaitable<void> accept_loop(state& s, tcp::acceptor acceptor) {
  for (;;) {
    std::error_code ec;
    tcp::socket sock = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) {  // e.g. EMFILE: back off briefly instead of spinning
      asio::steady_timer t(s.ctx, std::chrono::milliseconds(10));
      co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    sock.set_option(tcp::no_delay(true), ec);  // drips and small replies go out at once
    std::size_t index = s.add_connection();
    asio::co_spawn(s.ctx, run_connection(s, std::move(sock), index), report);
  }
}

// ALPN: pick http/1.1 when the client offers it (recorded per connection); otherwise no ALPN at all.
int select_http11(SSL*, const unsigned char** out, unsigned char* out_len, const unsigned char* in,
                  unsigned int in_len, void*) {
  static constexpr unsigned char http11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  unsigned char* selected = nullptr;
  if (::SSL_select_next_proto(&selected, out_len, http11, sizeof http11, in, in_len) !=
      OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_NOACK;
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

void start(state& s) {
  if (s.opts.tls) {
    s.ssl.emplace(asio::ssl::context::tls_server);
    s.ssl->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3);
    s.ssl->use_certificate_chain_file(s.opts.tls->cert_chain_file);
    s.ssl->use_private_key_file(s.opts.tls->key_file, asio::ssl::context::pem);
    // Sessions are resumable (tickets, and the server cache for TLS 1.2). OpenSSL refuses to resume
    // without a session id context once client certificates are verified, as real servers set one.
    static constexpr unsigned char sid_ctx[] = "sentinel script_server";
    ::SSL_CTX_set_session_id_context(s.ssl->native_handle(), sid_ctx, sizeof sid_ctx - 1);
    ::SSL_CTX_set_alpn_select_cb(s.ssl->native_handle(), select_http11, nullptr);
    if (!s.opts.tls->client_ca_file.empty()) {
      s.ssl->load_verify_file(s.opts.tls->client_ca_file);
      s.ssl->set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert);
    }
  }
  tcp::endpoint ep(s.opts.ipv6 ? asio::ip::address(asio::ip::address_v6::loopback())
                               : asio::ip::address(asio::ip::address_v4::loopback()),
                   0);
  tcp::acceptor acceptor(s.ctx, ep);
  s.port = acceptor.local_endpoint().port();
  asio::co_spawn(s.ctx, accept_loop(s, std::move(acceptor)), report);
  s.thread = std::thread([&s] { s.ctx.run(); });
}

}  // namespace

// ---- script_server -------------------------------------------------------------------------------------

script_server::script_server(std::vector<script> scripts, script fallback, server_options opts)
    : s_(std::make_unique<detail::script_server_state>()) {
  s_->scripts = std::move(scripts);
  s_->fallback = std::move(fallback);
  s_->opts = std::move(opts);
  start(*s_);
}

script_server::script_server(handler h, server_options opts)
    : s_(std::make_unique<detail::script_server_state>()) {
  s_->on_request = std::move(h);
  s_->opts = std::move(opts);
  start(*s_);
}

script_server::~script_server() {
  s_->ctx.stop();
  if (s_->thread.joinable()) s_->thread.join();
  // s_ is destroyed next: the io_context first (suspended coroutines and their sockets), then the rest.
}

unsigned short script_server::port() const noexcept {
  return s_->port;
}

std::string script_server::host() const {
  return s_->opts.ipv6 ? "::1" : "127.0.0.1";
}

std::string script_server::url(std::string_view path) const {
  std::string u = s_->opts.tls ? "https://" : "http://";
  u += s_->opts.ipv6 ? "[::1]" : "127.0.0.1";
  u += ':';
  u += std::to_string(s_->port);
  if (path.empty() || path.front() != '/') u += '/';
  u += path;
  return u;
}

std::size_t script_server::connections_accepted() const {
  std::lock_guard lock(s_->mu);
  return s_->accepted;
}

std::size_t script_server::connections_closed() const {
  std::lock_guard lock(s_->mu);
  return s_->closed;
}

std::size_t script_server::requests_received() const {
  std::lock_guard lock(s_->mu);
  return s_->received;
}

std::size_t script_server::bad_requests() const {
  std::lock_guard lock(s_->mu);
  return s_->bad;
}

std::size_t script_server::unexpected_bytes() const {
  std::lock_guard lock(s_->mu);
  return s_->unexpected;
}

std::size_t script_server::tls_handshake_failures() const {
  std::lock_guard lock(s_->mu);
  return s_->tls_failed;
}

std::vector<tls_connection_info> script_server::tls_connections() const {
  std::lock_guard lock(s_->mu);
  return s_->tls_info;
}

std::vector<std::vector<received_request>> script_server::requests() const {
  std::lock_guard lock(s_->mu);
  return s_->per_connection;
}

std::vector<received_request> script_server::requests_on(std::size_t index) const {
  std::lock_guard lock(s_->mu);
  return index < s_->per_connection.size() ? s_->per_connection[index] : std::vector<received_request>{};
}

std::vector<received_request> script_server::all_requests() const {
  std::lock_guard lock(s_->mu);
  std::vector<received_request> out;
  out.reserve(s_->order.size());
  for (auto [c, i] : s_->order)
    out.push_back(s_->per_connection[c][i]);
  return out;
}

bool script_server::wait_for_connections(std::size_t n, std::chrono::milliseconds timeout) const {
  return s_->wait(&state::accepted, n, timeout);
}

bool script_server::wait_for_requests(std::size_t n, std::chrono::milliseconds timeout) const {
  return s_->wait(&state::received, n, timeout);
}

bool script_server::wait_for_closed(std::size_t n, std::chrono::milliseconds timeout) const {
  return s_->wait(&state::closed, n, timeout);
}

std::string_view script_server::reason(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 103:
      return "Early Hints";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 411:
      return "Length Required";
    case 413:
      return "Content Too Large";
    case 417:
      return "Expectation Failed";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Unknown";
  }
}

std::string script_server::response(int status, std::string_view body, const header_list& headers) {
  std::string out;
  out.reserve(64 + body.size() + headers.size() * 32);
  out += "HTTP/1.1 ";
  out += std::to_string(status);
  out += ' ';
  out += reason(status);
  out += "\r\n";
  bool have_length = false;
  for (const auto& [name, value] : headers) {
    have_length = have_length || iequals(name, "Content-Length");
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  if (!have_length) {
    out += "Content-Length: ";
    out += std::to_string(body.size());
    out += "\r\n";
  }
  out += "\r\n";
  out += body;
  return out;
}

std::string script_server::chunked_response(int status, const std::vector<std::string>& chunks,
                                            const header_list& headers, const header_list& trailers) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason(status)) + "\r\n";
  for (const auto& [name, value] : headers)
    out += name + ": " + value + "\r\n";
  out += "Transfer-Encoding: chunked\r\n\r\n";
  char size[32];
  for (const auto& c : chunks) {
    if (c.empty()) continue;  // an empty chunk would end the body
    std::snprintf(size, sizeof size, "%zx\r\n", c.size());
    out += size;
    out += c;
    out += "\r\n";
  }
  out += "0\r\n";
  for (const auto& [name, value] : trailers)
    out += name + ": " + value + "\r\n";
  out += "\r\n";
  return out;
}

}  // namespace sentinel::test
