// sentinel benchmarks: nginx child process. See nginx_process.hpp.
#include "nginx_process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

namespace bench {
namespace {

bool executable(const std::string& p) {
  return !p.empty() && ::access(p.c_str(), X_OK) == 0;
}

unsigned short free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("nginx_process: socket() failed");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("nginx_process: no free port on 127.0.0.1");
  }
  ::close(fd);
  return ntohs(a.sin_port);
}

bool accepts(unsigned short port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::string nginx_process::binary() {
  if (const char* env = std::getenv("NGINX"); env != nullptr && *env != '\0')
    return executable(env) ? env : "";
  if (executable("/usr/sbin/nginx")) return "/usr/sbin/nginx";
  if (const char* path = std::getenv("PATH")) {
    std::stringstream ss(path);
    std::string dir;
    while (std::getline(ss, dir, ':'))
      if (executable(dir + "/nginx")) return dir + "/nginx";
  }
  return "";
}

nginx_process::nginx_process(std::size_t max_connections) {
  const std::string bin = binary();
  if (bin.empty()) throw std::runtime_error("nginx is not installed");
  char tmpl[] = "/tmp/sentinel-bench-nginx-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("nginx_process: mkdtemp failed");
  prefix_ = tmpl;
  ::mkdir((prefix_ + "/tmp").c_str(), 0755);
  ::mkdir((prefix_ + "/logs").c_str(), 0755);
  const std::string conf = prefix_ + "/nginx.conf", err = prefix_ + "/error.log";
  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = free_port();
    {
      std::ofstream c(conf, std::ios::trunc);
      c << "daemon off;\nmaster_process off;\nworker_processes 1;\n"
        << "pid " << prefix_ << "/nginx.pid;\nerror_log " << err
        << " warn;\n"
        // nginx closes idle keep-alive connections once fewer than 1/16 of worker_connections are free
        // ("worker_connections are not enough, reusing connections"): leave a wide margin.
        << "events { use epoll; worker_connections " << (max_connections + max_connections / 4 + 64)
        << "; multi_accept on; }\n"
        << "http {\n  access_log off;\n  server_tokens off;\n"
        << "  keepalive_requests 1000000000;\n  keepalive_timeout 300s;\n  tcp_nodelay on;\n";
      for (const char* t : {"client_body", "proxy", "fastcgi", "uwsgi", "scgi"})
        c << "  " << t << "_temp_path " << prefix_ << "/tmp/" << t << ";\n";
      c << "  server {\n    listen 127.0.0.1:" << port_ << " backlog=4096;\n"
        << "    location = /hello { default_type text/plain; return 200 \"Hello, World!\"; }\n  }\n}\n";
    }
    // Everything the child needs is built before fork (the parent may have threads).
    std::vector<std::string> args{bin, "-p", prefix_ + "/", "-c", conf, "-e", err};
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    const std::string log = prefix_ + "/stderr.log";
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("nginx_process: fork() failed");
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(0);
      rlimit rl{};
      if (::getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &rl);
      }
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < end) {
      if (accepts(port_)) return;
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
    if (read_all(err).find("Address already in use") == std::string::npos) break;  // not a port race
  }
  const std::string why = read_all(err) + read_all(prefix_ + "/stderr.log");
  std::error_code ignored;
  std::filesystem::remove_all(prefix_, ignored);
  throw std::runtime_error("nginx did not start: " + why);
}

nginx_process::~nginx_process() {
  if (pid_ > 0) {
    ::kill(pid_, SIGQUIT);
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    bool gone = false;
    while (std::chrono::steady_clock::now() < end) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        gone = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (!gone) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  std::error_code ignored;
  std::filesystem::remove_all(prefix_, ignored);
}

std::string nginx_process::url(std::string_view path) const {
  std::string u = "http://127.0.0.1:" + std::to_string(port_);
  if (path.empty() || path[0] != '/') u += '/';
  u += path;
  return u;
}

std::string nginx_process::version() const {
  const std::string cmd = binary() + " -v 2>&1";
  std::FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return "nginx";
  char line[256] = {};
  const bool got = std::fgets(line, sizeof line, p) != nullptr;
  ::pclose(p);
  std::string v = got ? line : "nginx";
  while (!v.empty() && (v.back() == '\n' || v.back() == '\r'))
    v.pop_back();
  const auto colon = v.find(": ");
  return colon == std::string::npos ? v : v.substr(colon + 2);
}

}  // namespace bench
