// sentinel test support: TLS certificates made at test time with the openssl CLI, plus the small process
// helpers (spawn, bounded wait, temp dirs) that certs and nginx share.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sentinel::test {

/// A PEM certificate file and its PEM private key file (EC P-256).
struct cert_files {
  std::string cert;
  std::string key;
};

/// Paths of every certificate the tests use; all live in one temp directory removed at process exit.
/// Every "localhost" certificate has CN=localhost and SAN DNS:localhost, IP:127.0.0.1, IP:::1.
struct test_certs {
  std::string dir;          ///< the temp directory holding all files below
  cert_files ca;            ///< the test CA: clients trust ca.cert
  cert_files server;        ///< localhost, signed by ca: verifies
  cert_files expired;       ///< localhost, signed by ca, valid only 2020-01-01 .. 2020-02-01
  cert_files wrong_host;    ///< SAN DNS:wrong.example only (CN=wrong.example), signed by ca
  cert_files self_signed;   ///< localhost, self-signed
  cert_files other_ca;      ///< a second CA that clients do not trust
  cert_files untrusted;     ///< localhost, signed by other_ca
  cert_files intermediate;  ///< an intermediate CA signed by ca
  cert_files chained;       ///< localhost, signed by intermediate; cert = leaf then intermediate (a chain)
  cert_files client;        ///< a client certificate (extendedKeyUsage clientAuth) signed by ca
};

/// The certificates, generated on first use (about 0.2 s) and cached for the rest of the process.
/// Throws std::runtime_error with the openssl output if openssl is missing or fails; the failure is cached
/// too, so every test that needs certificates fails with the same clear message. Thread-safe.
/// Set SENTINEL_KEEP_TMP=1 to keep the directory after exit for inspection.
const test_certs& certs();

namespace detail {

/// Creates a fresh directory `<$SENTINEL_TEST_TMPDIR or /tmp>/sentinel-<tag>-XXXXXX` (mkdtemp) and
/// returns its path. Throws std::system_error.
std::string make_temp_dir(std::string_view tag);

/// Removes `dir` recursively unless SENTINEL_KEEP_TMP is set; never throws.
void remove_temp_dir(const std::string& dir) noexcept;

/// The full path of `name` found in $PATH, or "" if it is not there (or not executable).
std::string find_program(std::string_view name);

/// Starts `argv` (argv[0] is a path) with stdin from /dev/null and stdout and stderr appended to
/// `log_path`. Inherited descriptors other than 0-2 are closed in the child, so it never holds a test's
/// sockets open. Returns the pid; throws std::system_error.
pid_t spawn(const std::vector<std::string>& argv, const std::string& log_path);

/// Waits up to `timeout` for `pid` to exit and reaps it. Returns the waitpid() status, or nullopt if it
/// is still running.
std::optional<int> wait_exit(pid_t pid, std::chrono::milliseconds timeout);

/// Stops the child `pid` (if > 0): SIGTERM, wait up to 2 s, then SIGKILL and wait again; sets it to -1.
void stop_child(pid_t& pid) noexcept;

/// The whole content of a file, or "" if it cannot be read.
std::string read_file(const std::string& path);

/// Writes `content` to `path` (truncating). Throws std::system_error.
void write_file(const std::string& path, std::string_view content);

}  // namespace detail
}  // namespace sentinel::test
