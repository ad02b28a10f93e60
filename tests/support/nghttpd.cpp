// sentinel test support: an nghttpd child process. See nghttpd.hpp.
#include "support/nghttpd.hpp"

#include "support/certs.hpp"
#include "support/ports.hpp"

#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <vector>

namespace sentinel::test {

namespace {

struct binary_lookup {
  std::string path;
  std::string reason;  // non-empty when nghttpd is unavailable
};

const binary_lookup& nghttpd_binary() {
  static const binary_lookup found = [] {
    binary_lookup b;
    const char* env = std::getenv("NGHTTPD");
    const std::string name = env != nullptr && *env != '\0' ? env : "nghttpd";
    b.path = detail::find_program(name);
    if (b.path.empty())
      b.reason = env != nullptr && *env != '\0' ? "NGHTTPD=" + name + " is not an executable"
                                                : "nghttpd is not installed (Debian package nghttp2-server)";
    return b;
  }();
  return found;
}

}  // namespace

bool nghttpd::available() {
  return nghttpd_binary().reason.empty();
}

std::string nghttpd::unavailable_reason() {
  return nghttpd_binary().reason;
}

nghttpd::nghttpd(nghttpd_options opts) : opts_(opts) {
  if (!available()) throw std::runtime_error("nghttpd unavailable: " + unavailable_reason());
  prefix_ = detail::make_temp_dir("nghttpd");
  try {
    ::chmod(prefix_.c_str(), 0755);
    ::mkdir(htdocs().c_str(), 0755);
    const std::string log_path = prefix_ + "/nghttpd.log";
    for (int attempt = 0; attempt < 5; ++attempt) {
      port_ = detail::free_port();
      std::vector<std::string> argv{nghttpd_binary().path, "-a", "127.0.0.1", "-d", htdocs(),
                                    "--echo-upload"};
      if (!opts_.tls) argv.push_back("--no-tls");
      argv.push_back(std::to_string(port_));
      if (opts_.tls) {
        argv.push_back(certs().server.key);
        argv.push_back(certs().server.cert);
      }
      pid_ = detail::spawn(argv, log_path);
      const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
      while (std::chrono::steady_clock::now() < end) {
        if (detail::accepts(port_)) return;
        if (detail::wait_exit(pid_, std::chrono::milliseconds(10))) {  // it died (a port race?): again
          pid_ = -1;
          break;
        }
      }
      if (pid_ > 0) {
        stop();
        throw std::runtime_error("nghttpd did not accept connections within 5 s; log:\n" + log());
      }
    }
    throw std::runtime_error("nghttpd failed to start; log:\n" + log());
  } catch (...) {
    stop();
    detail::remove_temp_dir(prefix_);
    throw;
  }
}

nghttpd::~nghttpd() {
  stop();
  detail::remove_temp_dir(prefix_);
}

void nghttpd::stop() noexcept {
  detail::stop_child(pid_);
}

std::string nghttpd::url(std::string_view path) const {
  std::string u = (opts_.tls ? "https://localhost:" : "http://127.0.0.1:") + std::to_string(port_);
  if (path.empty() || path.front() != '/') u += '/';
  return u += path;
}

std::string nghttpd::log() const {
  return detail::read_file(prefix_ + "/nghttpd.log");
}

}  // namespace sentinel::test
