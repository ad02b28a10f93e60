// sentinel benchmarks: a throw-away nginx (1 worker, no master, daemon off) on 127.0.0.1 serving /hello.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

namespace bench {

class nginx_process {
 public:
  /// The nginx binary ($NGINX, /usr/sbin/nginx, or `nginx` in PATH); empty when there is none.
  static std::string binary();

  /// Starts nginx in a fresh temp prefix and waits (at most 5 s) until it accepts. `/hello` answers
  /// "Hello, World!" (13 bytes); keep-alive is unlimited. The child gets RLIMIT_NOFILE raised to the hard
  /// limit and worker_connections sized for `max_connections` (with nginx's 1/16 reserve). Throws
  /// std::runtime_error on failure.
  explicit nginx_process(std::size_t max_connections = 1024);
  /// SIGQUIT (graceful), then SIGKILL after 2 s; removes the prefix.
  ~nginx_process();
  nginx_process(const nginx_process&) = delete;
  nginx_process& operator=(const nginx_process&) = delete;

  unsigned short port() const noexcept { return port_; }
  std::string url(std::string_view path = "/hello") const;
  pid_t pid() const noexcept { return pid_; }
  std::string version() const;

 private:
  std::string prefix_;
  unsigned short port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace bench
