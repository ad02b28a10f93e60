// sentinel CLI: what an error_code means to the tool: curl's exit code, a short phrase, a stable name.
#pragma once

#include <string>
#include <string_view>
#include <system_error>

namespace sentinel::cli {

/// Exit codes. Where curl has a code for the same failure, it is curl's (man curl, "EXIT CODES").
namespace exit_code {
inline constexpr int ok = 0;
inline constexpr int other = 1;  ///< curl's 1 is "unsupported protocol"; also any failure not listed here
inline constexpr int unsupported_protocol = 1;
inline constexpr int usage = 2;  ///< bad option or option value (curl: 2)
inline constexpr int bad_url = 3;
inline constexpr int not_built_in = 4;  ///< e.g. --http2 without HTTP/2 in the library (curl: 4)
inline constexpr int resolve = 6;
inline constexpr int connect = 7;
inline constexpr int weird_reply = 8;
inline constexpr int http2 = 16;  ///< curl's "a problem in the HTTP/2 framing layer"
inline constexpr int partial = 18;
inline constexpr int http_error = 22;  ///< -f and a status >= 400
inline constexpr int write_error = 23;
inline constexpr int read_error = 26;  ///< a --data/--data-binary/-w @FILE could not be read
inline constexpr int out_of_memory = 27;
inline constexpr int timeout = 28;
inline constexpr int tls_handshake = 35;
inline constexpr int aborted = 42;
inline constexpr int internal = 43;
inline constexpr int too_many_redirects = 47;
inline constexpr int empty_reply = 52;
inline constexpr int send_error = 55;
inline constexpr int recv_error = 56;
inline constexpr int certificate = 60;
inline constexpr int bad_content_encoding = 61;
inline constexpr int too_large = 63;  ///< curl's "maximum file size exceeded"
inline constexpr int cacert_file = 77;
inline constexpr int http2_stream = 92;     ///< curl's "stream error in the HTTP/2 framing layer"
inline constexpr int head_too_large = 100;  ///< curl 8's CURLE_TOO_LARGE
}  // namespace exit_code

/// The exit code for a failed exchange (see docs/cli.md for the table). Never 0 for a non-zero `ec`.
int exit_code_for(const std::error_code& ec) noexcept;

/// Says on stderr, as `program` ("sentinel", "sentinel bench"), that HTTP/2 was asked for and is not
/// built in; returns exit_code::not_built_in (curl's 4).
int http2_not_built(const char* program);

/// What an exit code means, in a few words ("failed to connect"); "" for 0.
std::string_view exit_code_summary(int code) noexcept;

/// A short stable name for an error, for counts and JSON: sentinel's own names ("unexpected_eof"),
/// a few well-known system and Asio ones ("connection_refused", "connection_reset", "eof",
/// "host_not_found", "tls"), else "<category>:<value>".
std::string error_kind(const std::error_code& ec);

}  // namespace sentinel::cli
