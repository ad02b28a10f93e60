// sentinel CLI: small helpers shared by fetch and bench mode.
#include "common.hpp"

#include <sentinel/config.hpp>

#include <openssl/opensslv.h>
#include <asio/version.hpp>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace sentinel::cli {

std::string version_text() {
  return std::string("sentinel ") + sentinel::version_string + " (Asio " +
         std::to_string(ASIO_VERSION / 100000) + "." + std::to_string(ASIO_VERSION / 100 % 1000) + "." +
         std::to_string(ASIO_VERSION % 100) + ", " + OPENSSL_VERSION_TEXT + ")";
}

bool is_token(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (const char c : s) {
    const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
    if (!ok || c == '\0') return false;
  }
  return true;
}

std::optional<header_arg> parse_header_arg(std::string_view text) {
  const auto sep = text.find_first_of(":;");
  if (sep == std::string_view::npos) return std::nullopt;
  header_arg h;
  h.name = std::string(text.substr(0, sep));
  while (!h.name.empty() && (h.name.back() == ' ' || h.name.back() == '\t'))
    h.name.pop_back();
  if (!is_token(h.name)) return std::nullopt;
  std::string_view value = text.substr(sep + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
    value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t'))
    value.remove_suffix(1);
  if (text[sep] == ';') {
    if (!value.empty()) return std::nullopt;  // "Name; x" is neither form
  } else if (value.empty()) {
    h.remove = true;
  }
  for (const char c : value)
    if (c == '\r' || c == '\n' || c == '\0') return std::nullopt;
  h.value = std::string(value);
  return h;
}

std::optional<std::chrono::milliseconds> parse_seconds(double seconds) {
  // 10^9 s (31 years) is far beyond any sensible timeout and keeps the conversion exact.
  if (!std::isfinite(seconds) || seconds < 0 || seconds > 1e9) return std::nullopt;
  return std::chrono::milliseconds(static_cast<long long>(std::llround(seconds * 1000.0)));
}

sentinel::url parse_cli_url(std::string_view text, std::error_code& ec) {
  if (text.find("://") == std::string_view::npos) {
    const std::string with_scheme = "http://" + std::string(text);
    return sentinel::url::parse(with_scheme, ec);
  }
  return sentinel::url::parse(text, ec);
}

sentinel::url parse_cli_url(std::string_view text, std::error_code& ec, std::string& why) {
  sentinel::url_diagnosis d;
  sentinel::url u = text.find("://") == std::string_view::npos
                        ? sentinel::url::parse("http://" + std::string(text), ec, d)
                        : sentinel::url::parse(text, ec, d);
  if (ec) why = d.message;
  return u;
}

bool read_whole_file(const std::string& path, std::string& out) {
  std::FILE* f = path == "-" ? stdin : std::fopen(path.c_str(), "rb");
  if (f == nullptr) return false;
  out.clear();
  char buf[65536];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0)
    out.append(buf, n);
  const bool ok = std::ferror(f) == 0;
  const int saved = errno;
  if (f != stdin) std::fclose(f);
  if (!ok) errno = saved != 0 ? saved : EIO;
  return ok;
}

std::string errno_text(int e) {
  return std::strerror(e);
}

}  // namespace sentinel::cli
