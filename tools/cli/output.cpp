// sentinel CLI: where a transfer's bytes go.
#include "output.hpp"

#include "common.hpp"

#include <cerrno>

namespace sentinel::cli {

output_sink::output_sink(std::string path) : path_(path == "-" ? std::string() : std::move(path)) {
  if (path_.empty()) file_ = stdout;
}

output_sink::~output_sink() {
  if (file_ != nullptr && file_ != stdout) std::fclose(file_);
}

bool output_sink::open() {
  if (file_ != nullptr) return true;
  if (!error_.empty()) return false;
  file_ = std::fopen(path_.c_str(), "wb");
  if (file_ == nullptr) {
    fail("cannot open", errno);
    return false;
  }
  return true;
}

void output_sink::fail(const char* what, int err) {
  if (error_.empty())
    error_ = std::string(what) + " " + (path_.empty() ? std::string("standard output") : "'" + path_ + "'") +
             ": " + errno_text(err != 0 ? err : EIO);
}

bool output_sink::write(std::string_view data) {
  if (!error_.empty() || !open()) return false;
  if (data.empty()) return true;
  errno = 0;
  // Flushed at once: bytes go out as they arrive (a stream that trickles is not held back), and the
  // pieces are the client's reads, up to 64 KiB, so this is one write() per read.
  if (std::fwrite(data.data(), 1, data.size(), file_) != data.size() || std::fflush(file_) != 0) {
    fail("cannot write to", errno);
    return false;
  }
  return true;
}

bool output_sink::finish() {
  if (!error_.empty() || !open()) return false;
  errno = 0;
  if (std::fflush(file_) != 0) {
    fail("cannot write to", errno);
    return false;
  }
  return true;
}

void output_sink::flush() noexcept {
  if (file_ != nullptr) std::fflush(file_);
}

}  // namespace sentinel::cli
