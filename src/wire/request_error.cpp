// sentinel: the words for a failed request (describe, request_error). Only on the failure path.
#include <sentinel/request_error.hpp>
#include <sentinel/response.hpp>

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>

namespace sentinel {

namespace {

// Per phase, in the enum's order: its name, and what was being done to the endpoint.
struct phase_words {
  const char* name;
  const char* verb;  // followed by the endpoint
};
constexpr phase_words words[] = {
    {"", ""},
    {"queue", "wait for a connection to "},
    {"resolve", "resolve "},
    {"connect", "connect to "},
    {"proxy", "CONNECT tunnel through "},
    {"tls", "TLS handshake with "},
    {"send", "send to "},
    {"receive", "receive from "},
    {"redirect", "follow redirect"},
};
static_assert(std::size(words) == static_cast<std::size_t>(phase::redirect) + 1, "a word for each phase");

const phase_words& words_of(phase p) noexcept {
  const auto i = static_cast<std::size_t>(p);
  return i < std::size(words) ? words[i] : words[0];
}

// RFC 9113 §7's names (written here rather than asking nghttp2: this layer does not link it, and a build
// without HTTP/2 still describes what a caller puts in failure_info).
std::string http2_error_name(std::uint32_t code) {
  constexpr const char* names[] = {"NO_ERROR",
                                   "PROTOCOL_ERROR",
                                   "INTERNAL_ERROR",
                                   "FLOW_CONTROL_ERROR",
                                   "SETTINGS_TIMEOUT",
                                   "STREAM_CLOSED",
                                   "FRAME_SIZE_ERROR",
                                   "REFUSED_STREAM",
                                   "CANCEL",
                                   "COMPRESSION_ERROR",
                                   "CONNECT_ERROR",
                                   "ENHANCE_YOUR_CALM",
                                   "INADEQUATE_SECURITY",
                                   "HTTP_1_1_REQUIRED"};
  if (code < std::size(names)) return names[code];
  static constexpr char hex[] = "0123456789abcdef";
  std::string h = "error 0x";
  bool digits = false;
  for (int shift = 28; shift >= 0; shift -= 4) {
    const unsigned d = (code >> shift) & 0xf;
    digits = digits || d != 0 || shift == 0;
    if (digits) h += hex[d];
  }
  return h;
}

// "connect to 127.0.0.1:1", "resolve example.com:80", ...: what was being done, to whom.
std::string doing(const failure_info& f) {
  const phase_words& w = words_of(f.phase);
  if (f.phase == phase::none) return {};
  if (f.phase == phase::redirect) return w.verb;  // no endpoint: the response that redirected is known
  std::string d = f.endpoint.empty() ? std::string(w.name) : w.verb + f.endpoint;
  if (f.http2_error != 0) d += " (HTTP/2 " + http2_error_name(f.http2_error) + ")";
  return d;
}

// The part before the code's message: "GET http://h/: connect to 1.2.3.4:80" (what is known of it).
std::string context(const failure_info& f) {
  std::string out = f.method;
  if (!f.url.empty()) {
    if (!out.empty()) out += ' ';
    out += f.url;
  }
  const std::string d = doing(f);
  if (!d.empty()) {
    if (!out.empty()) out += ": ";
    out += d;
  }
  return out;
}

// system_error's what() is "<what_arg>: <message>": never an empty one before the colon.
std::string what_arg(const failure_info& f) {
  std::string c = context(f);
  return c.empty() ? std::string("request") : c;
}

}  // namespace

const char* to_string(phase p) noexcept {
  return words_of(p).name;
}

std::string describe(const failure_info& where) {
  return context(where);
}

std::string describe(const std::error_code& ec, const failure_info& where) {
  std::string out = context(where);
  if (!out.empty()) out += ": ";
  return out + ec.message();
}

request_error::request_error(std::error_code ec, failure_info where)
    : std::system_error(ec, what_arg(where)),
      where_(std::make_shared<const failure_info>(std::move(where))) {}

}  // namespace sentinel
