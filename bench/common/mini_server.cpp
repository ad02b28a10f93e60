// sentinel benchmarks: the minimal server. See mini_server.hpp.
#include "mini_server.hpp"

#include "bench_common.hpp"

#include <asio/buffer.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/write.hpp>

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <vector>

namespace bench {
namespace {

using asio::ip::tcp;

struct counters {
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> connections{0};
};

// One connection: read, count complete request heads, write that many replies, read again.
class session : public std::enable_shared_from_this<session> {
 public:
  session(tcp::socket s, const std::string& reply, counters& c) : sock_(std::move(s)), reply_(reply), c_(c) {}

  void read() {
    sock_.async_read_some(asio::buffer(buf_), [self = shared_from_this()](std::error_code ec, std::size_t n) {
      if (!ec) self->on_read(n);
    });
  }

 private:
  void on_read(std::size_t n) {
    std::size_t heads = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const char ch = buf_[i];
      if (ch == '\r') {
        match_ = match_ == 2 ? 3 : 1;
      } else if (ch == '\n' && (match_ == 1 || match_ == 3)) {
        if (match_ == 3) {
          ++heads;
          match_ = 0;
        } else {
          match_ = 2;
        }
      } else {
        match_ = 0;
      }
    }
    if (heads == 0 || reply_.empty()) return read();  // an empty reply: a server that never answers
    c_.requests.fetch_add(heads, std::memory_order_relaxed);
    out_.assign(heads, asio::buffer(reply_));
    asio::async_write(sock_, out_, [self = shared_from_this()](std::error_code ec, std::size_t) {
      if (!ec) self->read();
    });
  }

  tcp::socket sock_;
  const std::string& reply_;
  counters& c_;
  std::array<char, 1024> buf_;
  std::vector<asio::const_buffer> out_;
  int match_ = 0;  // progress through "\r\n\r\n"
};

void accept_loop(tcp::acceptor& acc, const std::string& reply, counters& c) {
  acc.async_accept([&acc, &reply, &c](std::error_code ec, tcp::socket s) {
    if (ec == asio::error::operation_aborted || !acc.is_open()) return;
    if (!ec) {
      c.connections.fetch_add(1, std::memory_order_relaxed);
      std::error_code ignored;
      s.set_option(tcp::no_delay(true), ignored);
      std::make_shared<session>(std::move(s), reply, c)->read();
    }
    accept_loop(acc, reply, c);
  });
}

tcp::acceptor make_acceptor(asio::io_context& ctx) {
  tcp::acceptor acc(ctx);
  const tcp::endpoint ep(asio::ip::make_address_v4("127.0.0.1"), 0);
  acc.open(ep.protocol());
  acc.set_option(tcp::acceptor::reuse_address(true));
  acc.bind(ep);
  acc.listen(tcp::socket::max_listen_connections);
  return acc;
}

std::string url_for(unsigned short port, std::string_view path) {
  std::string u = "http://127.0.0.1:" + std::to_string(port);
  if (path.empty() || path[0] != '/') u += '/';
  u += path;
  return u;
}

}  // namespace

std::string hello_response() {
  return "HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello, World!";
}

// ---- in-process -----------------------------------------------------------------------------------------

struct mini_server::impl {
  explicit impl(std::string r) : reply(std::move(r)), acc(make_acceptor(ctx)) {}
  std::string reply;
  asio::io_context ctx{1};
  tcp::acceptor acc;
  counters c;
};

mini_server::mini_server(std::string response) : impl_(std::make_unique<impl>(std::move(response))) {
  port_ = impl_->acc.local_endpoint().port();
  accept_loop(impl_->acc, impl_->reply, impl_->c);
  thread_ = std::thread([this] { impl_->ctx.run(); });
}

mini_server::~mini_server() {
  impl_->ctx.stop();
  if (thread_.joinable()) thread_.join();
}

std::string mini_server::url(std::string_view path) const {
  return url_for(port_, path);
}

std::uint64_t mini_server::requests() const noexcept {
  return impl_->c.requests.load(std::memory_order_relaxed);
}

std::uint64_t mini_server::connections() const noexcept {
  return impl_->c.connections.load(std::memory_order_relaxed);
}

// ---- child process --------------------------------------------------------------------------------------

mini_server_process::mini_server_process(std::string response) {
  if (thread_count() > 1)
    throw std::logic_error("mini_server_process: construct it before the process starts threads (fork)");
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error("mini_server_process: pipe() failed");
  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("mini_server_process: fork() failed");
  if (pid_ == 0) {
    ::close(fds[0]);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(0);  // the parent died before prctl
    raise_fd_limit();
    try {
      asio::io_context ctx{1};
      tcp::acceptor acc = make_acceptor(ctx);
      const unsigned short port = acc.local_endpoint().port();
      if (::write(fds[1], &port, sizeof port) != sizeof port) ::_exit(1);
      ::close(fds[1]);
      counters c;
      accept_loop(acc, response, c);
      ctx.run();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "mini_server_process: %s\n", e.what());
      ::_exit(1);
    }
    ::_exit(0);
  }
  ::close(fds[1]);
  const ssize_t n = ::read(fds[0], &port_, sizeof port_);
  ::close(fds[0]);
  if (n != sizeof port_) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    throw std::runtime_error("mini_server_process: the child did not start");
  }
}

mini_server_process::~mini_server_process() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
  }
}

std::string mini_server_process::url(std::string_view path) const {
  return url_for(port_, path);
}

}  // namespace bench
