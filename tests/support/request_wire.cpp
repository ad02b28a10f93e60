// sentinel test support: reading HTTP/1.1 requests on the server side (see request_wire.hpp).
#include "support/request_wire.hpp"

#include <cstring>
#include <string>

namespace sentinel::test::wire {

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

// Whether the comma-separated list `value` contains `token` (case-insensitive), e.g. "keep-alive, Close".
bool has_token(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    std::size_t comma = value.find(',');
    std::string_view item = value.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t'))
      item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t'))
      item.remove_suffix(1);
    if (iequals(item, token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

bool is_tchar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

// Parses a request head at the start of `data` into `req`. `scanned` remembers how far the search for the
// blank line got, so a head arriving in many reads is not rescanned from the start each time.
parse_status parse_head(std::string_view data, std::size_t& scanned, received_request& req, body_framing& fr,
                        std::size_t& head_len) {
  std::size_t lead = 0;  // RFC 9112 2.2: a server should ignore empty lines before the request line
  while (lead + 1 < data.size() && data[lead] == '\r' && data[lead + 1] == '\n')
    lead += 2;
  std::size_t from = std::max(scanned, lead + 3) - 3;
  std::size_t end = data.find("\r\n\r\n", from);
  if (end == std::string_view::npos) {
    scanned = data.size();
    return data.size() > max_request_head ? parse_status::bad : parse_status::need_more;
  }
  head_len = end + 4;
  std::string_view head = data.substr(lead, end + 2 - lead);  // every line keeps its CRLF

  std::size_t eol = head.find("\r\n");
  std::string_view line = head.substr(0, eol);
  std::size_t sp1 = line.find(' ');
  std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp1 == 0 || sp2 == std::string_view::npos || sp2 == sp1 + 1 || line.find(' ', sp2 + 1) != line.npos)
    return parse_status::bad;
  req.method.assign(line.substr(0, sp1));
  req.target.assign(line.substr(sp1 + 1, sp2 - sp1 - 1));
  req.version.assign(line.substr(sp2 + 1));
  if (req.version != "HTTP/1.1" && req.version != "HTTP/1.0") return parse_status::bad;
  for (char c : req.method)
    if (!is_tchar(c)) return parse_status::bad;

  req.headers.clear();
  fr = {};
  bool have_length = false;
  for (std::size_t pos = eol + 2; pos < head.size();) {
    std::size_t next = head.find("\r\n", pos);
    line = head.substr(pos, next - pos);
    pos = next + 2;
    std::size_t colon = line.find(':');
    if (colon == 0 || colon == std::string_view::npos) return parse_status::bad;
    std::string_view name = line.substr(0, colon);
    for (char c : name)
      if (!is_tchar(c)) return parse_status::bad;  // also rejects obs-fold and "Name :"
    std::string_view value = trim(line.substr(colon + 1));
    req.headers.emplace_back(name, value);
    if (iequals(name, "Transfer-Encoding")) {
      if (has_token(value, "chunked")) fr.chunked = true;
    } else if (iequals(name, "Content-Length")) {
      if (value.empty() || value.size() > 18) return parse_status::bad;
      std::size_t n = 0;
      for (char c : value) {
        if (c < '0' || c > '9') return parse_status::bad;
        n = n * 10 + static_cast<std::size_t>(c - '0');
      }
      if (have_length && n != fr.content_length) return parse_status::bad;
      have_length = true;
      fr.content_length = n;
    }
  }
  if (fr.chunked && have_length) return parse_status::bad;  // RFC 9112 6.3: a smuggling signal
  req.chunked = fr.chunked;
  return parse_status::done;
}

// Finds the end of a body at the start of `data`. For chunked bodies, appends the payload to `decoded`
// if it is not null (callers first size the body, then decode once).
parse_status parse_body(std::string_view data, const body_framing& fr, std::size_t& body_len,
                        std::string* decoded) {
  if (!fr.chunked) {
    if (data.size() < fr.content_length) return parse_status::need_more;
    body_len = fr.content_length;
    if (decoded != nullptr) decoded->append(data.substr(0, body_len));
    return parse_status::done;
  }
  std::size_t pos = 0;
  for (;;) {
    std::size_t eol = data.find("\r\n", pos);
    if (eol == std::string_view::npos)
      return data.size() - pos > 4096 ? parse_status::bad : parse_status::need_more;
    std::size_t size = 0, digits = 0;
    for (std::size_t i = pos; i < eol; ++i, ++digits) {
      char c = data[i];
      int v = (c >= '0' && c <= '9')                 ? c - '0'
              : (lower(c) >= 'a' && lower(c) <= 'f') ? lower(c) - 'a' + 10
                                                     : -1;
      if (v < 0) break;  // chunk extensions follow (";name=value"); ignored
      if (digits >= 15) return parse_status::bad;
      size = size * 16 + static_cast<std::size_t>(v);
    }
    if (digits == 0) return parse_status::bad;
    pos = eol + 2;
    if (size == 0) break;
    if (data.size() < pos + size + 2) return parse_status::need_more;
    if (data.substr(pos + size, 2) != "\r\n") return parse_status::bad;
    if (decoded != nullptr) decoded->append(data.substr(pos, size));
    pos += size + 2;
  }
  // Trailer section: fields until an empty line.
  for (;;) {
    std::size_t eol = data.find("\r\n", pos);
    if (eol == std::string_view::npos)
      return data.size() - pos > 65536 ? parse_status::bad : parse_status::need_more;
    bool empty = eol == pos;
    pos = eol + 2;
    if (empty) break;
  }
  body_len = pos;
  return parse_status::done;
}

// Response heads are small; look only there for "Connection: close".
bool response_closes(std::string_view resp) {
  std::string_view head = resp.substr(0, resp.find("\r\n\r\n"));
  for (std::size_t pos = head.find("\r\n"); pos != std::string_view::npos;) {
    std::size_t next = head.find("\r\n", pos + 2);
    std::string_view line = head.substr(pos + 2, next == head.npos ? head.npos : next - pos - 2);
    std::size_t colon = line.find(':');
    if (colon != line.npos && iequals(line.substr(0, colon), "Connection") &&
        has_token(line.substr(colon + 1), "close"))
      return true;
    pos = next;
  }
  return false;
}

bool request_closes(const received_request& r) {
  for (const auto& [name, value] : r.headers) {
    if (!iequals(name, "Connection")) continue;
    if (has_token(value, "close")) return true;
    if (r.version == "HTTP/1.0" && has_token(value, "keep-alive")) return false;
  }
  return r.version == "HTTP/1.0";
}

// Parses up to 18 decimal digits; false for anything else (empty, signs, spaces).
bool parse_decimal(std::string_view s, std::size_t& n) {
  if (s.empty() || s.size() > 18) return false;
  n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<std::size_t>(c - '0');
  }
  return true;
}

}  // namespace sentinel::test::wire
