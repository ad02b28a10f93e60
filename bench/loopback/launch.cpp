// launch: runs one load client for bench/loopback/harness.py and writes what the kernel counted for it.
//
//   launch RESULT_FILE CPU|- PROGRAM [ARGS...]
//
// Forks, pins the child to CPU (sched_setaffinity, as taskset -c would) unless CPU is "-", execs PROGRAM,
// waits for it, and writes one line to RESULT_FILE:
//
//   user_us=U sys_us=S maxrss_kib=M status=N        (N: the exit status, or 128 + the signal)
//
// Why not Python's own wait4(): a process's peak RSS (ru_maxrss) survives exec, so a client forked from
// the harness reports at least the harness's own RSS (~25 MB). Forked from this small program instead, its
// peak RSS starts from ~1.5 MB. Measuring the client here also leaves taskset's exec out of its CPU time.
// Both this program and the client die with their parent (PR_SET_PDEATHSIG): a harness killed even by
// SIGKILL leaves no load running. Exit status: the client's; 127 when it could not be started.
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s RESULT_FILE CPU|- PROGRAM [ARGS...]\n", argv[0]);
    return 2;
  }
  const char* result = argv[1];
  const char* cpu = argv[2];
  const pid_t harness = getppid();
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != harness) return 127;  // it is gone already
  const pid_t self = getpid();
  const pid_t child = fork();
  if (child < 0) {
    std::perror("launch: fork");
    return 127;
  }
  if (child == 0) {
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != self) _exit(127);
    if (std::strcmp(cpu, "-") != 0) {
      cpu_set_t set;
      CPU_ZERO(&set);
      CPU_SET(std::atoi(cpu), &set);
      if (sched_setaffinity(0, sizeof set, &set) != 0) {
        std::perror("launch: sched_setaffinity");
        _exit(127);
      }
    }
    execvp(argv[3], argv + 3);
    std::fprintf(stderr, "launch: cannot run %s: %s\n", argv[3], std::strerror(errno));
    _exit(127);
  }
  int status = 0;
  rusage ru{};
  while (wait4(child, &status, 0, &ru) < 0) {
    if (errno != EINTR) {
      std::perror("launch: wait4");
      return 127;
    }
  }
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (FILE* f = std::fopen(result, "w")) {
    std::fprintf(f, "user_us=%lld sys_us=%lld maxrss_kib=%ld status=%d\n",
                 static_cast<long long>(ru.ru_utime.tv_sec) * 1000000 + ru.ru_utime.tv_usec,
                 static_cast<long long>(ru.ru_stime.tv_sec) * 1000000 + ru.ru_stime.tv_usec, ru.ru_maxrss, code);
    std::fclose(f);
  }
  return code;
}
