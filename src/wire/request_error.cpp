// sentinel: the words for a failed request (describe, request_error). Only on the failure path.
#include <sentinel/request_error.hpp>
#include <sentinel/response.hpp>

#include <string>

namespace sentinel {

const char* to_string(phase p) noexcept {
  switch (p) {
    case phase::none:
      return "";
    case phase::queue:
      return "queue";
    case phase::resolve:
      return "resolve";
    case phase::connect:
      return "connect";
    case phase::proxy:
      return "proxy";
    case phase::tls:
      return "tls";
    case phase::send:
      return "send";
    case phase::receive:
      return "receive";
    case phase::redirect:
      return "redirect";
  }
  return "";
}

namespace {

// "connect to 127.0.0.1:1", "resolve example.com:80", ...: what was being done, to whom.
std::string doing(const failure_info& f) {
  const char* verb = "";
  switch (f.phase) {
    case phase::none:
      return {};
    case phase::queue:
      verb = "wait for a connection to ";
      break;
    case phase::resolve:
      verb = "resolve ";
      break;
    case phase::connect:
      verb = "connect to ";
      break;
    case phase::proxy:
      verb = "CONNECT tunnel through ";
      break;
    case phase::tls:
      verb = "TLS handshake with ";
      break;
    case phase::send:
      verb = "send to ";
      break;
    case phase::receive:
      verb = "receive from ";
      break;
    case phase::redirect:
      return "follow redirect";
  }
  return f.endpoint.empty() ? std::string(to_string(f.phase)) : verb + f.endpoint;
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
