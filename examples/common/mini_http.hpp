// Minimal HTTP/1.1 server-side helpers for the examples: read one request, write one response.
// Content-Length bodies only, keep-alive by default. For demonstrations, not part of the library.
#pragma once

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>
#include <string>
#include <string_view>

namespace examples {

struct simple_request {
  std::string method;
  std::string target;
  std::string body;
  bool close = false;  // the client sent Connection: close
};

// The value of header `name` (lower-case) in the request head `head`, or "".
inline std::string_view find_header(std::string_view head, std::string_view name) {
  std::size_t pos = head.find("\r\n");
  while (pos != std::string_view::npos && pos + 2 < head.size()) {
    const std::size_t start = pos + 2;
    const std::size_t end = std::min(head.find("\r\n", start), head.size());
    const std::string_view field = head.substr(start, end - start);
    const std::size_t colon = field.find(':');
    if (colon == name.size() && std::equal(name.begin(), name.end(), field.begin(), [](char a, char b) {
          return a == static_cast<char>(std::tolower(static_cast<unsigned char>(b)));
        })) {
      std::string_view v = field.substr(colon + 1);
      while (!v.empty() && (v.front() == ' ' || v.front() == '\t'))
        v.remove_prefix(1);
      while (!v.empty() && (v.back() == ' ' || v.back() == '\t'))
        v.remove_suffix(1);
      return v;
    }
    pos = end < head.size() ? end : std::string_view::npos;
  }
  return {};
}

// Reads one request; `in` carries bytes between calls (keep-alive). nullopt when the peer closed or sent
// something this helper does not understand.
inline asio::awaitable<std::optional<simple_request>> read_request(asio::ip::tcp::socket& sock,
                                                                   std::string& in) {
  char buf[8192];
  auto more = [&]() -> asio::awaitable<bool> {
    std::error_code ec;
    const std::size_t n =
        co_await sock.async_read_some(asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return false;
    in.append(buf, n);
    co_return in.size() <= 1024 * 1024;
  };
  std::size_t head_end;
  while ((head_end = in.find("\r\n\r\n")) == std::string::npos) {
    if (!co_await more()) co_return std::nullopt;
  }
  const std::string_view head(in.data(), head_end);
  const std::string_view line = head.substr(0, head.find("\r\n"));
  const std::size_t sp1 = line.find(' '), sp2 = line.rfind(' ');
  if (sp1 == std::string_view::npos || sp2 <= sp1) co_return std::nullopt;
  simple_request r;
  r.method = line.substr(0, sp1);
  r.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  r.close = find_header(head, "connection") == "close";
  std::size_t body_len = 0;
  if (auto cl = find_header(head, "content-length"); !cl.empty())
    std::from_chars(cl.data(), cl.data() + cl.size(), body_len);
  const std::size_t total = head_end + 4 + body_len;
  while (in.size() < total) {
    if (!co_await more()) co_return std::nullopt;
  }
  r.body = in.substr(head_end + 4, body_len);
  in.erase(0, total);
  co_return r;
}

// Writes a complete response with a Content-Length body.
inline asio::awaitable<bool> write_response(asio::ip::tcp::socket& sock, int status, std::string_view body,
                                            bool close = false,
                                            std::string_view content_type = "text/plain") {
  std::string out = "HTTP/1.1 " + std::to_string(status) + (status < 400 ? " OK" : " Error") +
                    "\r\nContent-Type: " + std::string(content_type) +
                    "\r\nContent-Length: " + std::to_string(body.size()) +
                    (close ? "\r\nConnection: close\r\n\r\n" : "\r\n\r\n");
  out += body;
  std::error_code ec;
  co_await asio::async_write(sock, asio::buffer(out), asio::redirect_error(asio::use_awaitable, ec));
  co_return !ec;
}

}  // namespace examples
