// sentinel test support: nginx child process with a generated config.
#include "support/nginx.hpp"

#include "support/certs.hpp"
#include "support/ports.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <stdexcept>

namespace sentinel::test {

namespace {

struct binary_lookup {
  std::string path;
  std::string reason;  // non-empty when nginx is unavailable
};

const binary_lookup& nginx_binary() {
  static const binary_lookup found = [] {
    binary_lookup b;
    if (const char* off = std::getenv("SENTINEL_TEST_NGINX");
        off != nullptr && std::string_view(off) == "off") {
      b.reason = "turned off by SENTINEL_TEST_NGINX=off (tools/test.sh fast)";
      return b;
    }
    if (const char* env = std::getenv("NGINX"); env != nullptr && *env != '\0') {
      b.path = detail::find_program(env);
      if (b.path.empty()) b.reason = std::string("NGINX=") + env + " is not an executable";
      return b;
    }
    b.path = detail::find_program("/usr/sbin/nginx");
    if (b.path.empty()) b.path = detail::find_program("nginx");
    if (b.path.empty()) b.reason = "nginx is not installed (no /usr/sbin/nginx, none in PATH, $NGINX unset)";
    return b;
  }();
  return found;
}

bool ipv6_loopback_works() {
  int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

std::string ms(std::chrono::milliseconds d) {
  return std::to_string(d.count()) + "ms";
}

std::string make_config(const std::string& p, const nginx_options& o, unsigned short port,
                        unsigned short tls_port, unsigned short h2c_port, bool v6) {
  const std::string P = std::to_string(port);
  std::string c;
  c += "daemon off;\nmaster_process off;\nworker_processes 1;\n";
  c += "error_log " + p + "/error.log warn;\npid " + p + "/nginx.pid;\n";
  c += "events { worker_connections 1024; }\n";
  c += "http {\n";
  c += "  access_log off;\n";
  for (const char* t : {"client_body", "proxy", "fastcgi", "uwsgi", "scgi"})
    c += std::string("  ") + t + "_temp_path " + p + "/tmp/" + t + ";\n";
  c += "  types { text/html html; text/plain txt; }\n  default_type application/octet-stream;\n";
  c += "  sendfile on;\n  tcp_nodelay on;\n";
  c += "  keepalive_requests " + std::to_string(o.keepalive_requests) + ";\n";
  c += "  keepalive_timeout " + ms(o.keepalive_timeout) + ";\n";
  c += "  gzip on;\n  gzip_types text/plain;\n";  // text/html is always in gzip_types
  c += "  server {\n";
  c += "    listen 127.0.0.1:" + P + ";\n";
  if (v6) c += "    listen [::1]:" + P + ";\n";
  if (h2c_port != 0) c += "    listen 127.0.0.1:" + std::to_string(h2c_port) + " http2;\n";
  if (tls_port != 0) {
    const std::string ssl = o.http2 ? " ssl http2;\n" : " ssl;\n";
    c += "    listen 127.0.0.1:" + std::to_string(tls_port) + ssl;
    if (v6) c += "    listen [::1]:" + std::to_string(tls_port) + ssl;
    c += "    ssl_certificate " + o.tls_cert + ";\n    ssl_certificate_key " + o.tls_key + ";\n";
    c += "    ssl_session_cache shared:SSL:1m;\n    ssl_session_tickets on;\n";
  }
  c += "    server_name localhost;\n";
  c += "    root " + p + "/html;\n";
  c += "    location = /hello { default_type text/plain; return 200 \"Hello, World!\"; }\n";
  c += "    location = /4k { }\n    location = /1m { }\n";
  c += "    location = /text { default_type text/plain; alias " + p + "/html/text.txt; }\n";
  // SSI output has no length, so nginx frames it with chunked; each include becomes its own chunk.
  c += "    location = /chunked { ssi on; default_type text/html; alias " + p + "/html/chunked.html; }\n";
  // nginx cannot echo a body by itself: `return` runs before the body is read. proxy_pass reads it (into
  // one memory buffer), the sink answers 418, and error_page hands over to a location where
  // $request_body is now set.
  c += "    location = /echo {\n";
  c += "      client_body_in_single_buffer on; client_body_buffer_size 1m; client_max_body_size 1m;\n";
  c += "      proxy_pass http://127.0.0.1:" + P + "/__echo_sink;\n";
  c += "      proxy_intercept_errors on; error_page 418 = @echo;\n    }\n";
  c += "    location = /__echo_sink { return 418; }\n";
  c += "    location @echo { default_type application/octet-stream; return 200 $request_body; }\n";
  c += "    location = /status/204 { return 204; }\n";
  // `return 304` would add "Content-Length: 0"; a conditional request for a real file gives nginx's real
  // 304 (ETag, Last-Modified, no length).
  c += "    location = /status/304 {\n";
  c += "      proxy_pass http://127.0.0.1:" + P + "/4k; proxy_set_header If-None-Match \"*\";\n    }\n";
  c += "    location = /status/404 { return 404; }\n";
  c += "    location = /redirect { return 302 /hello; }\n";
  if (!o.extra_server_config.empty()) c += "    " + o.extra_server_config + "\n";
  c += "  }\n}\n";
  return c;
}

}  // namespace

bool nginx::available() {
  return nginx_binary().reason.empty();
}

std::string nginx::unavailable_reason() {
  return nginx_binary().reason;
}

std::string nginx::file_body(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i)
    s[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  return s;
}

std::string nginx::chunked_body() {
  return "part one\nHello, World!\npart two\nHello, World!\nend\n";
}

std::string nginx::text_body() {
  std::string s;
  for (int i = 0; i < 300; ++i)
    s += "line " + std::to_string(1000 + i) + ": the quick brown fox jumps over the lazy dog\n";
  return s;
}

nginx::nginx(nginx_options opts) : opts_(std::move(opts)) {
  if (!available()) throw std::runtime_error("nginx unavailable: " + unavailable_reason());
  if (opts_.tls && (opts_.tls_cert.empty() || opts_.tls_key.empty())) {
    opts_.tls_cert = certs().server.cert;
    opts_.tls_key = certs().server.key;
  }
  prefix_ = detail::make_temp_dir("nginx");
  try {
    ::chmod(prefix_.c_str(), 0755);  // mkdtemp makes it 0700; keep nginx able to read html/ as any user
    ::mkdir((prefix_ + "/html").c_str(), 0755);
    ::mkdir((prefix_ + "/tmp").c_str(), 0755);
    detail::write_file(prefix_ + "/html/4k", file_body(4096));
    detail::write_file(prefix_ + "/html/1m", file_body(1048576));
    detail::write_file(prefix_ + "/html/text.txt", text_body());
    detail::write_file(prefix_ + "/html/chunked.html",
                       "part one\n<!--# include virtual=\"/hello\" -->\npart two\n"
                       "<!--# include virtual=\"/hello\" -->\nend\n");
    const bool v6 = ipv6_loopback_works();
    const std::string conf = prefix_ + "/nginx.conf";
    std::string last_log;
    for (int attempt = 0; attempt < 5; ++attempt) {
      port_ = detail::free_port();
      tls_port_ = opts_.tls ? detail::free_port() : 0;
      h2c_port_ = opts_.http2 ? detail::free_port() : 0;
      if (tls_port_ == port_ || (h2c_port_ != 0 && (h2c_port_ == port_ || h2c_port_ == tls_port_))) continue;
      detail::write_file(conf, make_config(prefix_, opts_, port_, tls_port_, h2c_port_, v6));
      ::truncate((prefix_ + "/error.log").c_str(), 0);
      pid_ =
          detail::spawn({nginx_binary().path, "-p", prefix_ + "/", "-c", conf, "-e", prefix_ + "/error.log"},
                        prefix_ + "/stderr.log");
      const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
      bool exited = false;
      while (std::chrono::steady_clock::now() < end) {
        if (detail::accepts(port_) && (tls_port_ == 0 || detail::accepts(tls_port_)) &&
            (h2c_port_ == 0 || detail::accepts(h2c_port_))) {
          // Tests run side by side: if another process took the port, the probe reached that one's
          // listener while ours logged the failed bind. Ours is up only if its log has no bind error.
          if (error_log().find("Address already in use") == std::string::npos) return;
          stop();
          exited = true;
          break;
        }
        // No event says "listening"; the pidfd wait doubles as the pause between connect probes and
        // returns at once if nginx died.
        if (detail::wait_exit(pid_, std::chrono::milliseconds(10))) {
          exited = true;
          break;
        }
      }
      last_log = error_log() + detail::read_file(prefix_ + "/stderr.log");
      if (!exited) {
        stop();
        throw std::runtime_error("nginx did not accept connections within 5 s; log:\n" + last_log);
      }
      pid_ = -1;
      if (last_log.find("Address already in use") == std::string::npos) break;
    }
    throw std::runtime_error("nginx failed to start; config " + conf + "; log:\n" + last_log);
  } catch (...) {
    stop();
    detail::remove_temp_dir(prefix_);
    throw;
  }
}

nginx::~nginx() {
  stop();
  detail::remove_temp_dir(prefix_);
}

void nginx::stop() noexcept {
  detail::stop_child(pid_);
}

std::string nginx::url(std::string_view path) const {
  std::string u = "http://127.0.0.1:" + std::to_string(port_);
  if (path.empty() || path.front() != '/') u += '/';
  return u += path;
}

std::string nginx::h2c_url(std::string_view path) const {
  std::string u = "http://127.0.0.1:" + std::to_string(h2c_port_);
  if (path.empty() || path.front() != '/') u += '/';
  return u += path;
}

std::string nginx::tls_url(std::string_view path) const {
  std::string u = "https://localhost:" + std::to_string(tls_port_);
  if (path.empty() || path.front() != '/') u += '/';
  return u += path;
}

std::string nginx::error_log() const {
  return detail::read_file(prefix_ + "/error.log");
}

}  // namespace sentinel::test
