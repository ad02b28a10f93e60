// sentinel test support: a real nginx as an interop peer, started from a generated config.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

namespace sentinel::test {

/// Settings of an nginx instance.
struct nginx_options {
  bool tls = false;      ///< also listen with TLS on tls_port() (session cache and tickets on)
  std::string tls_cert;  ///< PEM chain for TLS; default: certs().server
  std::string tls_key;   ///< PEM key for TLS; default: certs().server
  /// HTTP/2 too: the TLS listener (with `tls`) offers h2 by ALPN, and h2c_port() speaks h2c (HTTP/2 by
  /// prior knowledge; nginx 1.22's `listen ... http2`).
  bool http2 = false;
  int keepalive_requests = 1000;                       ///< nginx `keepalive_requests`
  std::chrono::milliseconds keepalive_timeout{75000};  ///< nginx `keepalive_timeout`
  std::string extra_server_config;  ///< raw directives appended inside server{} (extra locations, ...)
};

/// nginx 1.22 on 127.0.0.1 with a fixed set of locations, running as a child process (daemon off,
/// master_process off, one worker) with its prefix, config, logs and files in a fresh temp dir.
/**
 * Locations (HEAD works on all of them; gzip is on for text/plain and text/html):
 * - `/hello`        200, text/plain, "Hello, World!" (13 bytes, Content-Length)
 * - `/4k`, `/1m`    static files of exactly 4096 and 1048576 bytes, content file_body(n); they have an
 *                   ETag and Last-Modified, so If-None-Match / If-Modified-Since give a real 304
 * - `/text`         static text/plain file, text_body(); gzip (chunked) when asked with Accept-Encoding
 * - `/chunked`      200, text/html, Transfer-Encoding: chunked (SSI output has no length): 5 chunks whose
 *                   concatenation is chunked_body(); gzip-encoded if the request accepts gzip
 * - `/echo`         any method: 200 application/octet-stream whose body is the request body (bodies up
 *                   to 1 MiB; nginx reads the body through an internal proxy hop, see nginx.cpp)
 * - `/status/204`   204 No Content, no body, no Content-Length
 * - `/status/304`   a real 304 (no Content-Length, with ETag), produced by a conditional internal request
 * - `/status/404`   404 with nginx's small HTML body
 * - `/redirect`     302 to /hello (absolute Location)
 *
 * Usage: `if (!nginx::available()) { WARN("skipped: " << nginx::unavailable_reason()); return; }`.
 */
class nginx {
 public:
  /// Whether an nginx binary was found ($NGINX, else /usr/sbin/nginx, else `nginx` in PATH).
  static bool available();
  /// Why available() is false ("" when it is true).
  static std::string unavailable_reason();

  /// Starts nginx and waits (at most 5 s) until it accepts connections. Retries a few times on a port
  /// race. Throws std::runtime_error with the error log if it cannot start or nginx is unavailable.
  explicit nginx(nginx_options opts = {});
  /// SIGTERM, wait up to 2 s, then SIGKILL; removes the prefix directory.
  ~nginx();
  nginx(const nginx&) = delete;
  nginx& operator=(const nginx&) = delete;

  /// The plain-HTTP port on 127.0.0.1.
  unsigned short port() const noexcept { return port_; }
  /// The TLS port on 127.0.0.1 (0 without opts.tls).
  unsigned short tls_port() const noexcept { return tls_port_; }
  /// The h2c port on 127.0.0.1 (0 without opts.http2).
  unsigned short h2c_port() const noexcept { return h2c_port_; }
  /// "http://127.0.0.1:H2C_PORT/path".
  std::string h2c_url(std::string_view path = "/") const;
  /// "http://127.0.0.1:PORT/path" (a missing leading '/' is added).
  std::string url(std::string_view path = "/") const;
  /// "https://localhost:TLS_PORT/path": the name that the test certificates carry.
  std::string tls_url(std::string_view path = "/") const;
  /// The temp prefix directory (nginx.conf, error.log, html/).
  const std::string& prefix() const noexcept { return prefix_; }
  /// The current content of error.log, for failure messages.
  std::string error_log() const;
  /// The child's pid.
  pid_t pid() const noexcept { return pid_; }

  /// The content of the static file of `n` bytes (/4k, /1m): bytes i = 'a' + (i * 7 + i / 251) % 26.
  static std::string file_body(std::size_t n);
  /// The decoded body of /chunked.
  static std::string chunked_body();
  /// The body of /text (about 16 KiB of repetitive text, compresses well).
  static std::string text_body();

 private:
  void stop() noexcept;

  nginx_options opts_;
  std::string prefix_;
  unsigned short port_ = 0;
  unsigned short tls_port_ = 0;
  unsigned short h2c_port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace sentinel::test
