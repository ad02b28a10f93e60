// sentinel CLI: -w/--write-out formats.
#include "write_out.hpp"

#include <cstdio>
#include <optional>

namespace sentinel::cli {
namespace {

std::optional<std::string> variable(std::string_view name, const transfer_result& r) {
  char buf[64];
  if (name == "http_code" || name == "response_code") {
    std::snprintf(buf, sizeof buf, "%03d", r.http_code);
    return buf;
  }
  if (name == "http_version") {
    if (r.http_version == 0) return "0";
    return r.http_version == 20 ? "2" : r.http_version == 10 ? "1.0" : "1.1";
  }
  if (name == "method") return r.method;
  if (name == "url_effective") return r.url_effective;
  if (name == "content_type") return r.content_type;
  if (name == "size_download") return std::to_string(r.size_download);
  if (name == "size_upload") return std::to_string(r.size_upload);
  if (name == "num_connects") return std::to_string(r.num_connects);
  if (name == "num_redirects") return std::to_string(r.num_redirects);
  if (name == "time_total") {
    std::snprintf(buf, sizeof buf, "%.6f", r.time_total);
    return buf;
  }
  if (name == "exitcode") return std::to_string(r.exit_code);
  if (name == "errormsg") return r.error_message;
  return std::nullopt;
}

}  // namespace

std::string expand_write_out(std::string_view format, const transfer_result& r,
                             std::vector<std::string>* unknown) {
  std::string out;
  for (std::size_t i = 0; i < format.size(); ++i) {
    const char c = format[i];
    const bool has_next = i + 1 < format.size();
    if (c == '%' && has_next && format[i + 1] == '%') {
      out += '%';
      ++i;
    } else if (c == '%' && has_next && format[i + 1] == '{') {
      const auto close = format.find('}', i + 2);
      if (close == std::string_view::npos) {  // no closing brace: the rest is text
        out.append(format.substr(i));
        break;
      }
      const std::string_view name = format.substr(i + 2, close - i - 2);
      if (auto v = variable(name, r)) {
        out += *v;
      } else if (unknown != nullptr) {
        unknown->emplace_back(name);
      }
      i = close;
    } else if (c == '\\' && has_next &&
               (format[i + 1] == 'n' || format[i + 1] == 'r' || format[i + 1] == 't' ||
                format[i + 1] == '\\')) {
      const char e = format[i + 1];
      out += e == 'n' ? '\n' : e == 'r' ? '\r' : e == 't' ? '\t' : '\\';
      ++i;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace sentinel::cli
