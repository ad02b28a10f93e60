// tests/cli: runs the built `sentinel` tool as a child process.
#include "run_tool.hpp"

#include "support/certs.hpp"
#include "support/env.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <system_error>
#include <thread>

extern char** environ;

namespace sentinel::test::cli {
namespace {

namespace support = sentinel::test::detail;

// The peak resident set (VmHWM) of a running process, in KiB; 0 once it has exited.
long vm_hwm_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  return 0;
}

// Waits up to `timeout` for `pid`, reaping it with wait4 to get its rusage, and samples its VmHWM every
// 20 ms into `hwm` (the largest seen). nullopt: still running.
std::optional<int> wait_child(pid_t pid, std::chrono::milliseconds timeout, rusage& ru, long& hwm) {
  int status = 0;
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  const auto end = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    hwm = std::max(hwm, vm_hwm_kib(pid));
    const pid_t r = ::wait4(pid, &status, WNOHANG, &ru);
    if (r == pid) break;
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now()).count();
    if (r < 0 || left <= 0) {
      if (pidfd >= 0) ::close(pidfd);
      return std::nullopt;
    }
    if (pidfd >= 0) {
      pollfd p{pidfd, POLLIN, 0};
      ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 20)));
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  if (pidfd >= 0) ::close(pidfd);
  return status;
}

}  // namespace

std::string tool_path() {
  return sentinel::test::required_env("SENTINEL_CLI_PATH");
}

tool_run run_tool(const std::vector<std::string>& args, const run_options& opts) {
  const std::string dir = support::make_temp_dir("cli-run");
  const std::string in_path = dir + "/stdin",
                    out_path = opts.stdout_path.empty() ? dir + "/stdout" : opts.stdout_path,
                    err_path = dir + "/stderr";
  support::write_file(in_path, opts.stdin_data);

  std::vector<std::string> argv{tool_path()};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> cargs;
  for (auto& a : argv)
    cargs.push_back(a.data());
  cargs.push_back(nullptr);

  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  ::posix_spawn_file_actions_init(&fa);
  ::posix_spawnattr_init(&attr);
  ::posix_spawn_file_actions_addopen(&fa, 0, in_path.c_str(), O_RDONLY, 0);
  ::posix_spawn_file_actions_addopen(&fa, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ::posix_spawn_file_actions_addopen(&fa, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  // The child must not hold the test's sockets (Asio opens them without CLOEXEC).
  ::posix_spawn_file_actions_addclosefrom_np(&fa, 3);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  ::posix_spawnattr_setsigmask(&attr, &none);
  ::posix_spawnattr_setsigdefault(&attr, &all);
  ::posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, cargs[0], &fa, &attr, cargs.data(), environ);
  ::posix_spawn_file_actions_destroy(&fa);
  ::posix_spawnattr_destroy(&attr);
  if (rc != 0) throw std::system_error(rc, std::generic_category(), "posix_spawn " + argv[0]);

  tool_run r;
  rusage ru{};
  long hwm = 0;
  auto status = wait_child(pid, opts.timeout, ru, hwm);
  if (!status) {
    ::kill(pid, SIGKILL);
    status = wait_child(pid, std::chrono::seconds(5), ru, hwm);
  }
  r.out = opts.stdout_path.empty() ? support::read_file(out_path) : std::string();
  r.err = support::read_file(err_path);
  r.max_rss_kib = hwm;
  support::remove_temp_dir(dir);
  if (!status) {
    FAIL("sentinel did not exit after SIGKILL");
  } else {
    r.exit_code = WIFEXITED(*status) ? WEXITSTATUS(*status) : 128 + WTERMSIG(*status);
  }
  std::string cmd;
  for (const auto& a : args)
    cmd += " '" + a + "'";
  INFO("sentinel" << cmd << "\nexit " << r.exit_code << "\nstderr:\n" << r.err);
  CHECK(r.exit_code < 128);  // never a crash, never the timeout
  return r;
}

}  // namespace sentinel::test::cli
