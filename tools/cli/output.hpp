// sentinel CLI: where a transfer's bytes go (standard output or an -o file), with write errors kept.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace sentinel::cli {

/// Standard output, or a file that is created on the first write (so a transfer that fails before any
/// byte arrives leaves no file behind, as with curl). Every write is flushed: bytes stream through as they
/// arrive. Not copyable.
class output_sink {
 public:
  /// `path` empty or "-": standard output.
  explicit output_sink(std::string path);
  ~output_sink();
  output_sink(const output_sink&) = delete;
  output_sink& operator=(const output_sink&) = delete;

  /// Writes all of `data`; false (and error() set) on failure. After a failure every write fails.
  bool write(std::string_view data);
  /// Creates the file if nothing was written yet (an empty body). False on failure.
  bool finish();
  /// After a failed transfer: flushes what was written, creates nothing.
  void flush() noexcept;
  /// What failed: "" when nothing did.
  const std::string& error() const noexcept { return error_; }
  bool is_stdout() const noexcept { return path_.empty(); }

 private:
  bool open();
  void fail(const char* what, int err);

  std::string path_;
  std::FILE* file_ = nullptr;
  std::string error_;
};

}  // namespace sentinel::cli
