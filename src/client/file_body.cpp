// sentinel: request bodies from files. See file_body.hpp.
#include "client/file_body.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace sentinel::detail {

file_handle::~file_handle() {
  if (fd >= 0) ::close(fd);
}

std::error_code file_handle::open(const std::string& path) {
  fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {errno, std::system_category()};
  struct stat st {};
  if (::fstat(fd, &st) != 0) return {errno, std::system_category()};
  if (!S_ISREG(st.st_mode)) return make_error_code(error::invalid_request);
  size = static_cast<std::uint64_t>(st.st_size);
  return {};
}

}  // namespace sentinel::detail
