// sentinel test support: nghttpd (Debian's nghttp2-server) as an HTTP/2 interop peer: nghttp2's own
// server, serving a directory, echoing uploads.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

namespace sentinel::test {

/// Settings of an nghttpd instance.
struct nghttpd_options {
  bool tls = false;  ///< TLS (ALPN h2) with certs().server; else h2c by prior knowledge
};

/// nghttpd on 127.0.0.1, a child process serving htdocs() (files the test writes there) and answering
/// POST and PUT with the request body (--echo-upload). HTTP/2 only: no HTTP/1.1, no Upgrade.
/// Usage: `if (!nghttpd::available()) { WARN("skipped: " << nghttpd::unavailable_reason()); return; }`.
class nghttpd {
 public:
  /// Whether an nghttpd binary was found ($NGHTTPD, else `nghttpd` in PATH).
  static bool available();
  /// Why available() is false ("" when it is true).
  static std::string unavailable_reason();

  /// Starts nghttpd and waits (at most 5 s) until it accepts connections; retries a few times on a port
  /// race. Throws std::runtime_error with its log if it cannot start.
  explicit nghttpd(nghttpd_options opts = {});
  /// SIGTERM, wait up to 2 s, then SIGKILL; removes the temp directory.
  ~nghttpd();
  nghttpd(const nghttpd&) = delete;
  nghttpd& operator=(const nghttpd&) = delete;

  unsigned short port() const noexcept { return port_; }
  /// "http://127.0.0.1:PORT/path", or "https://localhost:PORT/path" with TLS (the certificates' name).
  std::string url(std::string_view path = "/") const;
  /// The directory nghttpd serves: write files here before requesting them.
  std::string htdocs() const { return prefix_ + "/htdocs"; }
  /// nghttpd's output so far, for failure messages.
  std::string log() const;

 private:
  void stop() noexcept;

  nghttpd_options opts_;
  std::string prefix_;
  unsigned short port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace sentinel::test
