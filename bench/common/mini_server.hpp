// sentinel benchmarks: a minimal HTTP/1.1 server that answers every request with the same bytes.
//
// It exists to be cheap, not to be a server: no parsing beyond finding "\r\n\r\n", no request bodies, one
// pre-built reply written from one buffer, keep-alive forever. Binds 127.0.0.1, port 0.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

namespace bench {

/// "HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello, World!": 13 body bytes, 52 bytes in all.
std::string hello_response();

/// An empty `response` makes a server that reads requests and never answers (for measuring requests in
/// flight).
///
/// The server on its own thread in this process (for benchmarks that measure one client thread only).
class mini_server {
 public:
  explicit mini_server(std::string response = hello_response());
  ~mini_server();
  mini_server(const mini_server&) = delete;
  mini_server& operator=(const mini_server&) = delete;

  unsigned short port() const noexcept { return port_; }
  std::string url(std::string_view path = "/hello") const;
  /// Requests answered so far (relaxed; for sanity checks).
  std::uint64_t requests() const noexcept;
  /// Connections accepted so far (relaxed).
  std::uint64_t connections() const noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
  unsigned short port_ = 0;
  std::thread thread_;
};

/// The same server in a forked child process, so that its memory and CPU are not counted as the
/// benchmark's (RSS, ru_maxrss). Construct it while this process still has one thread: it forks without
/// exec. The child raises its descriptor limit to the hard limit, and dies with its parent
/// (PR_SET_PDEATHSIG) or with this object (SIGTERM).
class mini_server_process {
 public:
  explicit mini_server_process(std::string response = hello_response());
  ~mini_server_process();
  mini_server_process(const mini_server_process&) = delete;
  mini_server_process& operator=(const mini_server_process&) = delete;

  unsigned short port() const noexcept { return port_; }
  std::string url(std::string_view path = "/hello") const;
  pid_t pid() const noexcept { return pid_; }

 private:
  unsigned short port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace bench
