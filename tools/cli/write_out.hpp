// sentinel CLI: -w/--write-out formats, curl's syntax.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sentinel::cli {

/// What one transfer did, as -w variables see it.
struct transfer_result {
  int http_code = 0;                ///< 0 when no complete response head arrived ("000")
  int http_version = 0;             ///< 10, 11 or 20; 0 without a response
  std::string method;               ///< the method sent (the first request, before redirects)
  std::string url_effective;        ///< the last URL asked for (after redirects)
  std::string content_type;         ///< the response's Content-Type, or ""
  std::uint64_t size_download = 0;  ///< body bytes written (decoded with --compressed)
  std::uint64_t size_upload = 0;    ///< request body bytes
  std::size_t num_connects = 0;     ///< new connections opened for this transfer
  std::size_t num_redirects = 0;    ///< redirects followed
  double time_total = 0;            ///< seconds, from the start of the transfer to its end
  int exit_code = 0;                ///< the transfer's exit code (0: it worked)
  std::string error_message;        ///< what failed, or ""
  std::string failed_url;           ///< the URL that failed (after redirects, no credentials), or ""
};

/// Expands a -w format: `%{name}` variables, `%%`, and the escapes `\n`, `\r`, `\t`, `\\`. Anything else is
/// copied as is. Unknown variable names expand to nothing and are appended to `unknown`.
///
/// Variables: http_code and response_code (3 digits), http_version, method, url_effective, content_type,
/// size_download, size_upload, num_connects, num_redirects, time_total (seconds, 6 decimals), exitcode,
/// errormsg.
std::string expand_write_out(std::string_view format, const transfer_result& r,
                             std::vector<std::string>* unknown = nullptr);

}  // namespace sentinel::cli
