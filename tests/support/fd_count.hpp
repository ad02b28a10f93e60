// sentinel test support: count this process's open file descriptors, for leak checks.
#pragma once

#include <dirent.h>
#include <unistd.h>

#include <climits>
#include <cstddef>
#include <string>
#include <vector>

namespace sentinel::test {

/// The number of file descriptors this process has open right now (entries of /proc/self/fd, not counting
/// the descriptor used to read that directory). Returns 0 if /proc is not mounted.
inline std::size_t open_fd_count() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  std::size_t n = 0;
  while (const dirent* e = ::readdir(dir)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(dir);
  return n - 1;  // the directory stream's own descriptor
}

/// One line per open descriptor, "fd -> target" (for example "7 -> socket:[123]"), to print when a leak
/// check fails. The descriptor used to read /proc/self/fd is listed too.
inline std::vector<std::string> open_fd_descriptions() {
  std::vector<std::string> out;
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return out;
  while (const dirent* e = ::readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    std::string link = std::string("/proc/self/fd/") + e->d_name;
    char target[PATH_MAX];
    ssize_t len = ::readlink(link.c_str(), target, sizeof target - 1);
    out.push_back(std::string(e->d_name) + " -> " + (len > 0 ? std::string(target, std::size_t(len)) : "?"));
  }
  ::closedir(dir);
  return out;
}

}  // namespace sentinel::test
