// sentinel CLI: small helpers shared by fetch and bench mode.
#pragma once

#include <sentinel/url.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace sentinel::cli {

/// "sentinel 0.1.0 (...)" for -V/--version.
std::string version_text();

/// One -H argument, curl's way: "Name: value" adds a field, "Name:" removes a field the tool would add
/// itself (User-Agent, Accept, ...), "Name;" adds a field with an empty value.
struct header_arg {
  std::string name;
  std::string value;
  bool remove = false;
};
/// Parses a -H argument; nullopt when it is not one of the three forms, or the name is not a token, or
/// the value holds CR, LF or NUL.
std::optional<header_arg> parse_header_arg(std::string_view text);

/// Parses a duration in (fractional) seconds: "2", "0.5". nullopt when negative, not finite or too big.
std::optional<std::chrono::milliseconds> parse_seconds(double seconds);

/// True when `s` is an RFC 9110 token (method names, header names).
bool is_token(std::string_view s) noexcept;

/// Parses a command-line URL. Like curl, a URL without "scheme://" gets "http://" in front.
sentinel::url parse_cli_url(std::string_view text, std::error_code& ec);
/// As above; on failure `why` says which part of the URL is wrong.
sentinel::url parse_cli_url(std::string_view text, std::error_code& ec, std::string& why);

/// Reads a whole file ("-" is standard input) into `out`; false with errno set on failure.
bool read_whole_file(const std::string& path, std::string& out);

/// The text of errno `e`.
std::string errno_text(int e);

}  // namespace sentinel::cli
