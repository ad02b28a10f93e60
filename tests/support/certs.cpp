// sentinel test support: certificates via the openssl CLI; process helpers.
#include "support/certs.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>

extern char** environ;

namespace sentinel::test {
namespace detail {

std::string make_temp_dir(std::string_view tag) {
  const char* base = std::getenv("SENTINEL_TEST_TMPDIR");
  std::string root = (base != nullptr && *base != '\0') ? base : "/tmp";
  std::error_code ec;
  std::filesystem::create_directories(root, ec);  // meson's test env points into the build dir
  std::string tmpl = root + "/sentinel-" + std::string(tag) + "-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr)
    throw std::system_error(errno, std::generic_category(), "mkdtemp " + tmpl);
  return tmpl;
}

void remove_temp_dir(const std::string& dir) noexcept {
  const char* keep = std::getenv("SENTINEL_KEEP_TMP");
  if (dir.empty() || (keep != nullptr && *keep != '\0' && *keep != '0')) return;
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

std::string find_program(std::string_view name) {
  if (name.find('/') != std::string_view::npos)
    return ::access(std::string(name).c_str(), X_OK) == 0 ? std::string(name) : std::string();
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  std::size_t pos = 0;
  while (pos <= dirs.size()) {
    std::size_t end = dirs.find(':', pos);
    if (end == std::string::npos) end = dirs.size();
    std::string candidate =
        (end > pos ? dirs.substr(pos, end - pos) : std::string(".")) + "/" + std::string(name);
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    pos = end + 1;
  }
  return {};
}

pid_t spawn(const std::vector<std::string>& argv, const std::string& log_path) {
  std::vector<char*> args;
  for (const auto& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  ::posix_spawn_file_actions_init(&fa);
  ::posix_spawnattr_init(&attr);
  ::posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  ::posix_spawn_file_actions_addopen(&fa, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  ::posix_spawn_file_actions_adddup2(&fa, 1, 2);
  // Asio opens sockets without SOCK_CLOEXEC: a child that inherited a test's socket would keep the
  // connection open after the test closed it.
  ::posix_spawn_file_actions_addclosefrom_np(&fa, 3);
  // Start the child with default signal handling and nothing blocked, whatever this thread has.
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  ::posix_spawnattr_setsigmask(&attr, &none);
  ::posix_spawnattr_setsigdefault(&attr, &all);
  ::posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, args[0], &fa, &attr, args.data(), environ);
  ::posix_spawn_file_actions_destroy(&fa);
  ::posix_spawnattr_destroy(&attr);
  if (rc != 0) throw std::system_error(rc, std::generic_category(), "posix_spawn " + argv[0]);
  return pid;
}

std::optional<int> wait_exit(pid_t pid, std::chrono::milliseconds timeout) {
  int status = 0;
  pid_t r = ::waitpid(pid, &status, WNOHANG);
  if (r == pid) return status;
  if (r < 0) return 0;  // not our child any more (already reaped): treat as exited
  // A pidfd becomes readable when the process exits: an event to wait on instead of a sleep loop.
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  const auto end = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
    if (pidfd >= 0) {
      pollfd p{pidfd, POLLIN, 0};
      ::poll(&p, 1, static_cast<int>(std::max<long long>(0, left.count())));
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));  // kernel without pidfd_open
    }
    r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid || r < 0 || std::chrono::steady_clock::now() >= end) break;
  }
  if (pidfd >= 0) ::close(pidfd);
  if (r == pid) return status;
  if (r < 0) return 0;
  return std::nullopt;
}

void stop_child(pid_t& pid) noexcept {
  if (pid <= 0) return;
  ::kill(pid, SIGTERM);
  if (!wait_exit(pid, std::chrono::seconds(2))) {
    ::kill(pid, SIGKILL);
    wait_exit(pid, std::chrono::seconds(2));
  }
  pid = -1;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void write_file(const std::string& path, std::string_view content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  out.close();
  if (!out) throw std::system_error(errno, std::generic_category(), "write " + path);
}

}  // namespace detail

namespace {

// One OpenSSL config for every step, so the machine's openssl.cnf cannot add or clash with extensions.
constexpr std::string_view openssl_cnf = R"cnf([ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ v3_ca ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ v3_localhost ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ v3_wrong_host ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:wrong.example
[ v3_client ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
[ ca ]
default_ca = test_ca
[ test_ca ]
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = none
[ policy_any ]
commonName = supplied
)cnf";

// Runs in the cert directory. `openssl x509 -days` cannot go negative on 3.0, so the expired certificate
// is issued with `openssl ca -startdate/-enddate`.
constexpr std::string_view gen_sh = R"sh(set -eu
cd "$(dirname "$0")"
export OPENSSL_CONF="$PWD/openssl.cnf"
O="$1"
key() { "$O" genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key"; }
root() { key "$1"; "$O" req -x509 -new -key "$1.key" -subj "/CN=$2" -days 3650 -sha256 -extensions v3_ca -out "$1.pem"; }
csr() { key "$1"; "$O" req -new -key "$1.key" -subj "/CN=$2" -out "$1.csr"; }
sign() { "$O" x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -set_serial "$4" -days 825 -sha256 \
           -extfile openssl.cnf -extensions "$3" -out "$1.pem"; }
root ca "sentinel test CA"
root other_ca "sentinel untrusted CA"
csr server localhost;          sign server ca v3_localhost 1001
csr wrong_host wrong.example;  sign wrong_host ca v3_wrong_host 1002
csr untrusted localhost;       sign untrusted other_ca v3_localhost 1003
csr intermediate "sentinel test intermediate CA"; sign intermediate ca v3_ca 1004
csr chained_leaf localhost;    sign chained_leaf intermediate v3_localhost 1005
cat chained_leaf.pem intermediate.pem > chained.pem
cp chained_leaf.key chained.key
csr client "sentinel test client"; sign client ca v3_client 1006
key self_signed
"$O" req -x509 -new -key self_signed.key -subj "/CN=localhost" -days 825 -sha256 -extensions v3_localhost \
  -out self_signed.pem
csr expired localhost
: > index.txt
echo 1007 > serial
"$O" ca -batch -notext -cert ca.pem -keyfile ca.key -in expired.csr -out expired.pem \
  -startdate 200101000000Z -enddate 200201000000Z -extensions v3_localhost -extfile openssl.cnf
echo done
)sh";

struct cert_cache {
  test_certs certs;
  std::string error;  // non-empty: generation failed, and this says why

  cert_cache() {
    try {
      generate();
    } catch (const std::exception& e) {
      error = e.what();
    }
  }
  ~cert_cache() { detail::remove_temp_dir(certs.dir); }
  cert_cache(const cert_cache&) = delete;
  cert_cache& operator=(const cert_cache&) = delete;

  void generate() {
    std::string openssl = detail::find_program("openssl");
    if (openssl.empty())
      throw std::runtime_error(
          "sentinel test certs: the openssl CLI is not in PATH (install the openssl package)");
    certs.dir = detail::make_temp_dir("certs");
    const std::string& d = certs.dir;
    detail::write_file(d + "/openssl.cnf", openssl_cnf);
    detail::write_file(d + "/gen.sh", gen_sh);
    const std::string log = d + "/gen.log";
    pid_t pid = detail::spawn({"/bin/sh", d + "/gen.sh", openssl}, log);
    auto status = detail::wait_exit(pid, std::chrono::seconds(60));
    if (!status) {
      ::kill(pid, SIGKILL);
      detail::wait_exit(pid, std::chrono::seconds(5));
      throw std::runtime_error("sentinel test certs: openssl took longer than 60 s; log:\n" +
                               detail::read_file(log));
    }
    if (!WIFEXITED(*status) || WEXITSTATUS(*status) != 0)
      throw std::runtime_error("sentinel test certs: generating with " + openssl + " failed; log (" + log +
                               "):\n" + detail::read_file(log));
    auto pair = [&](const std::string& name) {
      return cert_files{d + "/" + name + ".pem", d + "/" + name + ".key"};
    };
    certs.ca = pair("ca");
    certs.server = pair("server");
    certs.expired = pair("expired");
    certs.wrong_host = pair("wrong_host");
    certs.self_signed = pair("self_signed");
    certs.other_ca = pair("other_ca");
    certs.untrusted = pair("untrusted");
    certs.intermediate = pair("intermediate");
    certs.chained = pair("chained");
    certs.client = pair("client");
  }
};

}  // namespace

const test_certs& certs() {
  static cert_cache cache;  // magic static: generated once, thread-safe
  if (!cache.error.empty()) throw std::runtime_error(cache.error);
  return cache.certs;
}

}  // namespace sentinel::test
