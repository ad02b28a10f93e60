// sentinel test support: proxy_server implementation.
//
// Like script_server: everything that touches sockets runs on the proxy's own thread (one io_context, one
// thread), the test thread only reads the observation state under `mu`, and destroying the io_context
// destroys every suspended coroutine and so closes every socket, tunnels included. Requests are read with
// the same reader as script_server.cpp (request_wire.hpp).
#include "support/proxy_server.hpp"

#include "support/request_wire.hpp"

#include <asio/co_spawn.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <utility>

namespace sentinel::test {

namespace {

using asio::ip::tcp;

constexpr std::size_t drain_limit = 16 << 20;  // bytes read and dropped before a graceful close
constexpr std::size_t relay_buffer = 16384;

constexpr std::string_view established = "HTTP/1.1 200 Connection Established\r\n\r\n";
constexpr std::string_view continue_100 = "HTTP/1.1 100 Continue\r\n\r\n";

// The proxy's own answers; all keep the connection usable.
std::string_view own_answer(int status) {
  switch (status) {
    case 400:
      return "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
    case 403:
      return "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n";
    case 407:
      return "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic "
             "realm=\"test\"\r\nContent-Length: 0\r\n\r\n";
    default:
      return "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n";
  }
}

using namespace wire;  // the request reader shared with script_server

// What the proxy makes of a target's whole response (everything up to the target's EOF).
struct response_info {
  int status = 0;         // the final status code; 0 without a valid status line
  bool reusable = false;  // complete and framed, no Connection: close: the client connection may stay open
};

response_info inspect_response(std::string_view resp, bool head_request) {
  response_info info;
  for (;;) {
    std::size_t end = resp.find("\r\n\r\n");
    if (end == std::string_view::npos || resp.size() < 12 || resp.substr(0, 7) != "HTTP/1." || resp[8] != ' ')
      return info;
    std::size_t code = 0;
    if (!parse_decimal(resp.substr(9, 3), code) || code < 100 || code > 999) return info;
    info.status = static_cast<int>(code);
    std::string_view head = resp.substr(0, end + 2);
    std::string_view body = resp.substr(end + 4);
    if (code < 200 && code != 101) {  // interim (100 Continue, 103 Early Hints): the final one follows
      resp = body;
      continue;
    }
    bool closes = code == 101, chunked = false, have_length = false;
    std::size_t length = 0;
    for (std::size_t pos = head.find("\r\n") + 2; pos < head.size();) {
      std::size_t next = head.find("\r\n", pos);
      std::string_view line = head.substr(pos, next - pos);
      pos = next + 2;
      std::size_t colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      std::string_view name = line.substr(0, colon), value = trim(line.substr(colon + 1));
      if (iequals(name, "Connection") && has_token(value, "close")) closes = true;
      if (iequals(name, "Transfer-Encoding") && has_token(value, "chunked")) chunked = true;
      if (iequals(name, "Content-Length")) have_length = parse_decimal(value, length);
    }
    if (closes) return info;
    if (head_request || code == 204 || code == 304) {
      info.reusable = body.empty();
    } else if (chunked) {
      body_framing fr;
      fr.chunked = true;
      std::size_t len = 0;
      info.reusable = parse_body(body, fr, len, nullptr) == parse_status::done && len == body.size();
    } else {
      info.reusable = have_length && body.size() == length;
    }
    return info;
  }
}

// A target: host and port from a CONNECT authority or an absolute URL.
struct target {
  std::string host;  // as written, without brackets
  unsigned short port = 0;
};

// "host:port", "[v6]:port"; without a port, `default_port` (0: a port is required).
std::optional<target> parse_authority(std::string_view a, unsigned short default_port) {
  if (a.empty() || a.find('@') != std::string_view::npos) return std::nullopt;
  target t;
  std::string_view rest;
  if (a.front() == '[') {
    std::size_t close = a.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    t.host.assign(a.substr(1, close - 1));
    rest = a.substr(close + 1);
  } else {
    std::size_t colon = a.rfind(':');
    t.host.assign(a.substr(0, colon));
    if (colon != std::string_view::npos) rest = a.substr(colon);
  }
  if (t.host.empty()) return std::nullopt;
  if (rest.empty()) {
    if (default_port == 0) return std::nullopt;
    t.port = default_port;
    return t;
  }
  std::size_t port = 0;
  if (rest.front() != ':' || rest.size() > 6 || !parse_decimal(rest.substr(1), port) || port == 0 ||
      port > 65535)
    return std::nullopt;
  t.port = static_cast<unsigned short>(port);
  return t;
}

// "http://authority/path?query#fragment" -> the target and the origin form "/path?query".
std::optional<target> parse_absolute(std::string_view url, std::string& origin_form) {
  constexpr std::string_view scheme = "http://";
  if (url.size() < scheme.size() || !iequals(url.substr(0, scheme.size()), scheme)) return std::nullopt;
  url.remove_prefix(scheme.size());
  std::size_t auth_end = url.find_first_of("/?#");
  std::optional<target> t = parse_authority(url.substr(0, auth_end), 80);
  std::string_view path = auth_end == std::string_view::npos ? std::string_view() : url.substr(auth_end);
  path = path.substr(0, path.find('#'));
  origin_form.clear();
  if (path.empty() || path.front() != '/') origin_form = '/';
  origin_form += path;
  return t;
}

// The loopback address a target names, if it names one of 127.0.0.1, localhost and ::1.
std::optional<asio::ip::address> loopback_address(const target& t) {
  if (t.host == "127.0.0.1" || iequals(t.host, "localhost")) return asio::ip::address_v4::loopback();
  if (t.host == "::1") return asio::ip::address_v6::loopback();
  return std::nullopt;
}

}  // namespace

// ---- state ---------------------------------------------------------------------------------------------

namespace detail {

struct proxy_server_state {
  // Configuration: written before the thread starts, read-only afterwards.
  proxy_options opts;
  unsigned short port = 0;

  // Observation: guarded by mu, written by the proxy thread, read by any thread.
  mutable std::mutex mu;
  mutable std::condition_variable cv;
  std::size_t accepted = 0;
  std::size_t closed = 0;
  std::size_t connects = 0;
  std::size_t tunnels = 0;
  std::size_t forwarded = 0;
  std::size_t auth_failed = 0;
  std::size_t received = 0;
  std::size_t bad = 0;
  std::vector<proxied_request> records;

  // I/O: destroyed before the observation state its coroutines update.
  asio::io_context ctx{1};
  std::thread thread;

  std::size_t add_connection() {
    std::lock_guard lock(mu);
    ++accepted;
    cv.notify_all();
    return accepted - 1;
  }

  void count(std::size_t proxy_server_state::*counter) {
    std::lock_guard lock(mu);
    ++(this->*counter);
    cv.notify_all();
  }

  // A request was answered: its record and every counter it affects change together.
  void record(const proxied_request& r, bool was_forwarded) {
    std::lock_guard lock(mu);
    ++received;
    if (r.method == "CONNECT") {
      ++connects;
      if (r.status == 200) ++tunnels;
    }
    if (was_forwarded) ++forwarded;
    if (r.status == 407) ++auth_failed;
    records.push_back(r);
    cv.notify_all();
  }

  bool wait(const std::size_t proxy_server_state::*counter, std::size_t n,
            std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, timeout, [&] { return this->*counter >= n; });
  }
};

}  // namespace detail

namespace {

using state = detail::proxy_server_state;

asio::awaitable<bool> write(tcp::socket& sock, std::string_view bytes) {
  std::error_code ec;
  co_await asio::async_write(sock, asio::buffer(bytes.data(), bytes.size()),
                             asio::redirect_error(asio::use_awaitable, ec));
  co_return !ec;
}

// FIN, then drop what the peer already sent (closing with unread bytes would send a RST), then close.
void graceful_close(tcp::socket& sock) {
  if (!sock.is_open()) return;
  std::error_code ec;
  sock.shutdown(tcp::socket::shutdown_send, ec);
  sock.non_blocking(true, ec);
  char sink[4096];
  for (std::size_t total = 0; total < drain_limit;) {
    std::size_t n = sock.read_some(asio::buffer(sink), ec);
    if (ec || n == 0) break;
    total += n;
  }
  sock.close(ec);
}

// One direction of a tunnel: copies until `from` ends or a write fails (or the pump is cancelled).
asio::awaitable<void> pump(tcp::socket& from, tcp::socket& to) {
  std::vector<char> buf(relay_buffer);
  for (;;) {
    std::error_code ec;
    std::size_t n =
        co_await from.async_read_some(asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
    if (n > 0 && !co_await write(to, std::string_view(buf.data(), n))) co_return;
    if (ec) co_return;
  }
}

// One client connection: a keep-alive loop of proxy requests, until the client closes, asks to close, a
// response cannot be reused, or the connection becomes a tunnel.
class connection {
 public:
  connection(state& s, tcp::socket sock, std::size_t index)
      : s_(s), sock_(std::move(sock)), index_(index), buf_(16384) {}

  tcp::socket& socket() { return sock_; }

  asio::awaitable<void> run() {
    proxied_request req;  // reused: its strings and header vector keep their capacity
    body_framing fr;
    for (;;) {
      std::size_t head_len = 0;
      if (!co_await read_head(req, fr, head_len)) break;
      if ((fr.chunked || fr.content_length > 0) && iequals(req.header("Expect"), "100-continue")) {
        std::size_t unused = 0;
        if (parse_body(buffered(), fr, unused, nullptr) == parse_status::need_more &&
            !co_await write(sock_, continue_100))
          break;
      }
      if (!co_await read_body(req, fr)) break;
      req.status = 0;
      const bool client_closes = request_closes(req);
      bool more = false;
      if (req.method == "CONNECT")
        more = co_await connect(req);
      else
        more = co_await forward(req, head_len);
      if (!more || client_closes) break;
    }
    graceful_close(sock_);
  }

 private:
  bool authorized(const proxied_request& req) const {
    return s_.opts.required_auth.empty() || (req.header_count("Proxy-Authorization") == 1 &&
                                             req.header("Proxy-Authorization") == s_.opts.required_auth);
  }

  // Records the proxy's own answer and writes it. Returns whether the write succeeded.
  asio::awaitable<bool> answer(proxied_request& req, int status) {
    req.status = status;
    s_.record(req, false);
    co_return co_await write(sock_, own_answer(status));
  }

  // Opens a connection to a loopback target; returns whether it succeeded.
  static asio::awaitable<bool> open(tcp::socket& up, const asio::ip::address& addr, unsigned short port) {
    std::error_code ec;
    co_await up.async_connect(tcp::endpoint(addr, port), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return false;
    up.set_option(tcp::no_delay(true), ec);
    co_return true;
  }

  // CONNECT. Returns whether the client connection may carry another request: after an error answer it
  // may, after a tunnel it is closed.
  asio::awaitable<bool> connect(proxied_request& req) {
    if (!authorized(req)) co_return co_await answer(req, 407);
    std::optional<target> t = parse_authority(req.target, 0);
    if (!t) co_return co_await answer(req, 400);
    std::optional<asio::ip::address> addr = loopback_address(*t);
    if (!addr) co_return co_await answer(req, 403);
    if (s_.opts.refuse_connect) co_return co_await answer(req, 502);
    tcp::socket up(sock_.get_executor());
    if (!co_await open(up, *addr, t->port)) co_return co_await answer(req, 502);

    req.status = 200;
    s_.record(req, false);
    bool ok = co_await write(sock_, established);
    // Bytes the client sent right after the CONNECT head (say, a TLS ClientHello) belong to the target.
    if (ok && !buffered().empty()) ok = co_await write(up, buffered());
    begin_ = end_ = 0;
    if (ok) {
      using namespace asio::experimental::awaitable_operators;
      co_await (pump(sock_, up) || pump(up, sock_));  // the first direction to end cancels the other
    }
    graceful_close(up);
    graceful_close(sock_);
    co_return false;
  }

  // An absolute-form request. Returns whether the client connection may carry another request.
  asio::awaitable<bool> forward(proxied_request& req, std::size_t head_len) {
    if (!authorized(req)) co_return co_await answer(req, 407);
    std::string origin_form;
    std::optional<target> t = parse_absolute(req.target, origin_form);
    if (!t) co_return co_await answer(req, 400);
    std::optional<asio::ip::address> addr = loopback_address(*t);
    if (!addr) co_return co_await answer(req, 403);
    tcp::socket up(sock_.get_executor());
    if (!co_await open(up, *addr, t->port)) co_return co_await answer(req, 502);

    std::string out = req.method + ' ' + origin_form + ' ' + req.version + "\r\n";
    for (const auto& [name, value] : req.headers) {
      if (iequals(name, "Proxy-Authorization") || iequals(name, "Proxy-Connection") ||
          iequals(name, "Connection"))
        continue;
      out += name;
      out += ": ";
      out += value;
      out += "\r\n";
    }
    out += "Connection: close\r\n\r\n";
    out.append(req.raw, head_len);  // the body exactly as received, framing included
    if (!co_await write(up, out)) {
      graceful_close(up);
      co_return co_await answer(req, 502);
    }

    std::string resp;  // the target's whole response: it closes after it (Connection: close)
    std::vector<char> buf(relay_buffer);
    for (;;) {
      std::error_code ec;
      std::size_t n =
          co_await up.async_read_some(asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
      resp.append(buf.data(), n);
      if (ec) break;
    }
    graceful_close(up);
    if (resp.empty()) {
      req.status = 502;
      s_.record(req, true);
      co_return co_await write(sock_, own_answer(502));
    }
    response_info info = inspect_response(resp, req.method == "HEAD");
    req.status = info.status;
    s_.record(req, true);
    co_return co_await write(sock_, resp) && info.reusable;
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
    std::size_t n = co_await sock_.async_read_some(asio::buffer(buf_.data() + end_, buf_.size() - end_),
                                                   asio::redirect_error(asio::use_awaitable, ec));
    end_ += n;
    co_return !ec || n > 0;
  }

  asio::awaitable<bool> read_head(proxied_request& req, body_framing& fr, std::size_t& head_len) {
    std::size_t scanned = 0;
    for (;;) {
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

  asio::awaitable<bool> read_body(proxied_request& req, const body_framing& fr) {
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

  state& s_;
  tcp::socket sock_;
  std::size_t index_;
  std::size_t sequence_ = 0;
  std::vector<char> buf_;
  std::size_t begin_ = 0;  // unread bytes are buf_[begin_, end_)
  std::size_t end_ = 0;
};

// Counts the connection as closed however its coroutine ends (including destruction at proxy stop).
struct closed_counter {
  state& s;
  ~closed_counter() { s.count(&state::closed); }
};

asio::awaitable<void> run_connection(state& s, tcp::socket sock, std::size_t index) {
  closed_counter guard{s};
  connection c(s, std::move(sock), index);
  co_await c.run();
  std::error_code ec;
  c.socket().close(ec);
}

void report(std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    std::fprintf(stderr, "proxy_server: connection failed: %s\n", x.what());
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
    sock.set_option(tcp::no_delay(true), ec);
    std::size_t index = s.add_connection();
    asio::co_spawn(s.ctx, run_connection(s, std::move(sock), index), report);
  }
}

}  // namespace

// ---- proxy_server --------------------------------------------------------------------------------------

proxy_server::proxy_server(proxy_options opts) : s_(std::make_unique<detail::proxy_server_state>()) {
  s_->opts = std::move(opts);
  tcp::acceptor acceptor(s_->ctx, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  s_->port = acceptor.local_endpoint().port();
  asio::co_spawn(s_->ctx, accept_loop(*s_, std::move(acceptor)), report);
  s_->thread = std::thread([s = s_.get()] { s->ctx.run(); });
}

proxy_server::~proxy_server() {
  s_->ctx.stop();
  if (s_->thread.joinable()) s_->thread.join();
  // s_ is destroyed next: the io_context first (suspended coroutines and their sockets), then the rest.
}

unsigned short proxy_server::port() const noexcept {
  return s_->port;
}

std::string proxy_server::url() const {
  return "http://127.0.0.1:" + std::to_string(s_->port);
}

std::size_t proxy_server::connections_accepted() const {
  std::lock_guard lock(s_->mu);
  return s_->accepted;
}

std::size_t proxy_server::connections_closed() const {
  std::lock_guard lock(s_->mu);
  return s_->closed;
}

std::size_t proxy_server::connects() const {
  std::lock_guard lock(s_->mu);
  return s_->connects;
}

std::size_t proxy_server::tunnels() const {
  std::lock_guard lock(s_->mu);
  return s_->tunnels;
}

std::size_t proxy_server::forwarded() const {
  std::lock_guard lock(s_->mu);
  return s_->forwarded;
}

std::size_t proxy_server::auth_failures() const {
  std::lock_guard lock(s_->mu);
  return s_->auth_failed;
}

std::size_t proxy_server::requests_received() const {
  std::lock_guard lock(s_->mu);
  return s_->received;
}

std::size_t proxy_server::bad_requests() const {
  std::lock_guard lock(s_->mu);
  return s_->bad;
}

std::vector<proxied_request> proxy_server::requests() const {
  std::lock_guard lock(s_->mu);
  return s_->records;
}

bool proxy_server::wait_for_connections(std::size_t n, std::chrono::milliseconds timeout) const {
  return s_->wait(&detail::proxy_server_state::accepted, n, timeout);
}

bool proxy_server::wait_for_closed(std::size_t n, std::chrono::milliseconds timeout) const {
  return s_->wait(&detail::proxy_server_state::closed, n, timeout);
}

bool proxy_server::wait_for_connects(std::size_t n, std::chrono::milliseconds timeout) const {
  return s_->wait(&detail::proxy_server_state::connects, n, timeout);
}

bool proxy_server::wait_for_forwarded(std::size_t n, std::chrono::milliseconds timeout) const {
  return s_->wait(&detail::proxy_server_state::forwarded, n, timeout);
}

bool proxy_server::wait_for_requests(std::size_t n, std::chrono::milliseconds timeout) const {
  return s_->wait(&detail::proxy_server_state::received, n, timeout);
}

}  // namespace sentinel::test
