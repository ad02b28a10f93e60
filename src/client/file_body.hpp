// sentinel: a request body read from a file, opened (and measured) for each attempt: a retry or a
// 307/308 redirect reads it again.
#pragma once

#include <sentinel/error.hpp>

#include <cstdint>
#include <string>
#include <system_error>

namespace sentinel::detail {

/// A request body file, open for one attempt.
struct file_handle {
  int fd = -1;
  std::uint64_t size = 0;
  file_handle() = default;
  file_handle(const file_handle&) = delete;
  file_handle& operator=(const file_handle&) = delete;
  ~file_handle();
  /// Opens a regular file; the system's error (std::system_category, so callers can compare with
  /// std::errc), or invalid_request for anything but a regular file.
  std::error_code open(const std::string& path);
};

}  // namespace sentinel::detail
