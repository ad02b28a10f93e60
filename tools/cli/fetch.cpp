// sentinel CLI, fetch mode: every URL in turn through one http_client on one io_context, so URLs of the
// same origin share a keep-alive connection. Bodies stream through request_options::on_body straight to
// stdout or the -o file: memory stays flat whatever the body size.
#include "fetch.hpp"

#include "common.hpp"
#include "errors.hpp"
#include "output.hpp"
#include "write_out.hpp"

#include <sentinel/error.hpp>
#include <sentinel/http_client.hpp>

#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <exception>
#include <limits>

namespace sentinel::cli {
namespace {

using clock = std::chrono::steady_clock;

#ifndef SENTINEL_CLI_ACCEPT_ENCODING
#define SENTINEL_CLI_ACCEPT_ENCODING "gzip, deflate"
#endif

/// The request body every transfer sends: bytes in memory, or a file streamed by the library.
struct body_plan {
  bool present = false;
  std::string bytes;
  std::string file;  ///< --data-binary @FILE alone: sent from the file, never loaded into memory
  std::uint64_t size = 0;
};

/// What was prepared once for all transfers.
struct plan {
  const fetch_options& opt;
  std::vector<sentinel::url> urls;
  body_plan body;
  std::string method;
  sentinel::headers fields;      ///< every field the tool sends, in order (the library adds Host,
                                 ///< Content-Length and, with expect_continue, Expect)
  bool expect_continue = false;  ///< hold the body until "100 Continue" (request_options::expect_continue)
};

/// curl's head limits, which the tool keeps (see client_options_for and docs/limits.md).
constexpr std::size_t max_head_bytes = 300 * 1024;
constexpr std::size_t max_header_line_bytes = 100 * 1024 - 1;

/// curl sends Expect: 100-continue on its own for bodies larger than this (EXPECT_100_THRESHOLD, 1 MiB; a
/// body of exactly 1 MiB goes without it, measured with curl 7.88.1).
constexpr std::uint64_t expect_threshold = 1024 * 1024;

// curl -d: "@FILE" is the file's content without CR and LF, "@-" standard input; else the text itself.
// --data-binary: the same without stripping. Parts are joined with '&'. Returns the exit code.
int build_body(const fetch_options& o, body_plan& body, std::string& problem) {
  if (o.data.empty()) return exit_code::ok;
  body.present = true;
  const data_arg& first = o.data.front();
  if (o.data.size() == 1 && first.binary && first.value.size() > 1 && first.value.front() == '@' &&
      first.value != "@-") {
    // One --data-binary @FILE: let the library stream the file (a large upload stays out of memory).
    body.file = first.value.substr(1);
    struct stat st {};
    if (::stat(body.file.c_str(), &st) != 0 || ::access(body.file.c_str(), R_OK) != 0) {
      problem = "cannot read '" + body.file + "': " + errno_text(errno);
      return exit_code::read_error;
    }
    if (!S_ISREG(st.st_mode)) {
      problem = "cannot send '" + body.file + "': not a regular file";
      return exit_code::read_error;
    }
    body.size = static_cast<std::uint64_t>(st.st_size);
    return exit_code::ok;
  }
  for (std::size_t i = 0; i < o.data.size(); ++i) {
    const data_arg& d = o.data[i];
    std::string part = d.value;
    if (d.value.size() > 1 && d.value.front() == '@') {
      const std::string path = d.value.substr(1);
      if (!read_whole_file(path, part)) {
        problem = "cannot read '" + path + "': " + errno_text(errno);
        return exit_code::read_error;
      }
      if (!d.binary) std::erase_if(part, [](char c) { return c == '\r' || c == '\n'; });
    }
    if (i > 0) body.bytes += '&';
    body.bytes += part;
  }
  body.size = body.bytes.size();
  return exit_code::ok;
}

std::vector<header_arg> header_args(const fetch_options& o) {
  std::vector<header_arg> args;
  for (const auto& h : o.headers)
    args.push_back(*parse_header_arg(h));  // validated by the parser
  return args;
}

bool is_expect_continue(const header_arg& a) {
  return sentinel::iequals(a.name, "Expect") && sentinel::iequals(a.value, "100-continue");
}

// Whether the body waits for "100 Continue", curl's rule (lib/http.c): a -H "Expect: 100-continue" asks
// for it; without an Expect field of the user's, a body over 1 MiB gets it; any other Expect field ("-H
// 'Expect:'" included, which removes it) means no wait. Only a body can wait (the field value is
// case-insensitive, RFC 9110 §10.1.1). The library then writes the field itself and holds the body until the
// 100 arrives, a final response comes first, or timeouts.expect_continue (1 s, curl's default) passes.
bool wants_expect_continue(const std::vector<header_arg>& args, std::uint64_t body_size) {
  if (body_size == 0) return false;
  for (const auto& a : args)
    if (sentinel::iequals(a.name, "Expect")) return is_expect_continue(a);
  return body_size > expect_threshold;
}

// The fields every request carries: curl's defaults (User-Agent, Accept), Accept-Encoding with
// --compressed, Content-Type with data, then the -H fields. A -H field replaces a default of the same
// name; "Name:" removes it. With expect_continue a -H "Expect: 100-continue" is left to the library, which
// sends it itself (the field must not appear twice).
sentinel::headers build_fields(const fetch_options& o, bool has_body, bool expect_continue) {
  const std::vector<header_arg> args = header_args(o);
  auto given = [&](std::string_view name) {
    for (const auto& a : args)
      if (sentinel::iequals(a.name, name)) return true;
    return false;
  };
  sentinel::headers fields;
  if (!given("User-Agent")) fields.add("User-Agent", std::string("sentinel/") + sentinel::version_string);
  if (!given("Accept")) fields.add("Accept", "*/*");
  if (o.compressed && !given("Accept-Encoding")) fields.add("Accept-Encoding", SENTINEL_CLI_ACCEPT_ENCODING);
  for (const auto& a : args)
    if (!a.remove && !(expect_continue && is_expect_continue(a))) fields.add(a.name, a.value);
  if (has_body && !given("Content-Type")) fields.add("Content-Type", "application/x-www-form-urlencoded");
  return fields;
}

sentinel::client_options client_options_for(const fetch_options& o) {
  sentinel::client_options c;
  c.user_agent.clear();  // the tool sends its own (so -H 'User-Agent:' can remove it)
  // Like curl: no response timeouts of their own; --max-time bounds the whole transfer.
  c.timeouts.response_head = std::chrono::milliseconds(0);
  c.timeouts.idle_read = std::chrono::milliseconds(0);
  if (o.max_time) c.timeouts.total = *o.max_time;
  if (o.connect_timeout && o.connect_timeout->count() > 0) c.timeouts.connect = *o.connect_timeout;
  // Bodies stream to their destination: no size limit on them, decoded or not (curl has none either).
  c.limits.max_decoded_bytes = 0;
  // The head: curl's limits (docs/limits.md). 300 KiB for the whole head (MAX_HTTP_RESP_HEADER_SIZE), one
  // line below 100 KiB (CURL_MAX_HTTP_HEADER; its buffer keeps a byte for the NUL, so curl 7.88.1 takes a
  // 102,399-byte line and refuses a 102,400-byte one, line end included: measured), and no cap on the
  // number of fields of its own, since the byte limits bound it.
  c.limits.max_head_bytes = max_head_bytes;
  c.limits.max_header_line_bytes = max_header_line_bytes;
  c.limits.max_header_count = std::numeric_limits<std::size_t>::max();
  c.redirect.follow = o.location;
  c.redirect.max_redirects =
      o.max_redirs < 0 ? std::numeric_limits<std::size_t>::max() : static_cast<std::size_t>(o.max_redirs);
  c.decompress = o.compressed;
  if (o.version) c.version = *o.version;  // else the library's default: h2 offered to https://
  c.tls.ca_file = o.cacert;
  c.tls.ca_path = o.capath;
  c.tls.insecure_skip_verify = o.insecure;
  return c;
}

std::string http_version_text(int version) {
  return version == 20 ? "HTTP/2" : version == 10 ? "HTTP/1.0" : "HTTP/1.1";
}

// The response head as -i writes it: status line and fields, CRLF line ends, an empty line.
std::string response_head(const sentinel::response& res) {
  std::string s = http_version_text(res.version()) + " " + std::to_string(res.status());
  if (!res.reason().empty()) s.append(" ").append(res.reason());
  s += "\r\n";
  for (const auto f : res.headers())
    s.append(f.name).append(": ").append(f.value).append("\r\n");
  s += "\r\n";
  return s;
}

// The request head as the serializer writes it (Host first unless set, the fields in order,
// Content-Length when there is a body or the method expects one, then Expect), with "> " prefixes for -v.
// The version goes in when the lines are printed (request_lines).
std::string verbose_request_head(const sentinel::request& req, const body_plan& body) {
  std::string s = "> " + req.method() + " " + std::string(req.url().target()) + " \n";
  if (!req.headers().contains("Host")) s += "> Host: " + req.url().host_header() + "\n";
  for (const auto f : req.headers())
    s.append("> ").append(f.name).append(": ").append(f.value).append("\n");
  const bool expects_body = req.method() == "POST" || req.method() == "PUT" || req.method() == "PATCH";
  if ((body.size > 0 || expects_body) && !req.headers().contains("Content-Length"))
    s += "> Content-Length: " + std::to_string(body.size) + "\n";
  if (req.options().expect_continue) s += "> Expect: 100-continue\n";
  return s + ">\n";
}

// -v's request lines, with the HTTP version the request went out in. That is known before sending, except
// when https:// offers h2 and the server chooses by ALPN: then the lines wait for the response head (or
// the end of a transfer that got none, which prints them as HTTP/1.1).
class request_lines {
 public:
  request_lines(bool verbose, std::string text, const sentinel::url& target, sentinel::http_version v)
      : text_(verbose ? std::move(text) : std::string()), done_(!verbose) {
    const bool prior_knowledge = sentinel::http2_built && v == sentinel::http_version::http2_prior_knowledge;
    const bool server_chooses =
        sentinel::http2_built && v == sentinel::http_version::http2 && target.is_https();
    if (!server_chooses) print(prior_knowledge ? 20 : 11);
  }
  void print(int version) {
    if (done_) return;
    done_ = true;
    const std::size_t eol = text_.find('\n');  // the request line ends with its version's place
    text_.insert(eol, http_version_text(version));
    std::fputs(text_.c_str(), stderr);
  }

 private:
  std::string text_;
  bool done_;
};

std::string verbose_response_head(const sentinel::response& res) {
  std::string s = "< " + http_version_text(res.version()) + " " + std::to_string(res.status());
  if (!res.reason().empty()) s.append(" ").append(res.reason());
  s += "\n";
  for (const auto f : res.headers())
    s.append("< ").append(f.name).append(": ").append(f.value).append("\n");
  return s + "<\n";
}

// What failed, for the error line; the library's texts name its own options, the tool's user knows
// the command-line ones.
std::string describe(const std::error_code& ec) {
  if (ec == sentinel::error::request_timeout) return "the transfer did not finish within --max-time";
  if (ec == sentinel::error::connect_timeout) return "could not connect within the connect timeout";
  if (ec == sentinel::error::too_many_redirects) return "more redirects than --max-redirs allows";
  if (ec == sentinel::error::header_too_large)
    return "the response head is larger than 300 KiB (curl's limit)";
  if (ec == sentinel::error::header_line_too_long)
    return "a response header line is 100 KiB or longer (curl's limit)";
  return ec.message();
}

// The library's context, without what the error line already says: "connect to 127.0.0.1:1: " + why.
std::string error_line(const std::error_code& ec, sentinel::failure_info where) {
  where.method.clear();
  where.url.clear();
  std::string doing = sentinel::describe(where);
  return doing.empty() ? describe(ec) : doing + ": " + describe(ec);
}

// For an https URL: why the --cacert file or --capath directory cannot be used, or "".
std::string unreadable_ca(const fetch_options& o) {
  if (!o.cacert.empty() && ::access(o.cacert.c_str(), R_OK) != 0)
    return "cannot read CA certificates from '" + o.cacert + "': " + errno_text(errno);
  if (!o.capath.empty() && ::access(o.capath.c_str(), R_OK | X_OK) != 0)
    return "cannot read CA certificates from '" + o.capath + "': " + errno_text(errno);
  return {};
}

// One transfer: sends the request, streams the head and body to `sink`, fills `r`.
asio::awaitable<void> fetch_one(sentinel::http_client& client, const plan& p, const sentinel::url& target,
                                output_sink& sink, transfer_result& r) {
  const fetch_options& o = p.opt;
  r.method = p.method;
  r.url_effective = target.str();
  r.size_upload = p.body.size;
  if (target.is_https()) {
    if (std::string problem = unreadable_ca(o); !problem.empty()) {
      r.exit_code = exit_code::cacert_file;
      r.error_message = std::move(problem);
      co_return;
    }
  }

  sentinel::request req(p.method, target, p.fields);
  if (!p.body.file.empty()) {
    req.set_body_file(p.body.file);
  } else if (p.body.present) {
    req.set_body(p.body.bytes);
  }
  req.options().expect_continue = p.expect_continue;
  bool failing = false;       // -f and a status >= 400: the body is not written
  bool write_failed = false;  // the sink refused bytes: the exchange was aborted
  bool head_seen = false;
  const bool print_head = o.include || o.head;
  request_lines sent(o.verbose, o.verbose ? verbose_request_head(req, p.body) : std::string(), target,
                     o.version.value_or(sentinel::client_options{}.version));
  req.options().on_head = [&](const sentinel::response& res) {
    head_seen = true;
    sent.print(res.version());
    if (o.verbose) std::fputs(verbose_response_head(res).c_str(), stderr);
    failing = o.fail && res.status() >= 400;
    if (print_head && !sink.write(response_head(res))) {
      write_failed = true;
      return false;
    }
    return true;
  };
  req.options().on_body = [&](std::string_view data) {
    if (failing) return true;  // read and dropped, so the connection stays reusable
    if (!sink.write(data)) {
      write_failed = true;
      return false;
    }
    r.size_download += data.size();
    return true;
  };

  const auto opened_before = client.stats().connections_opened;
  const auto start = clock::now();
  auto [ec, res] =
      co_await client.async_send(std::move(req), asio::experimental::as_tuple(asio::use_awaitable));
  r.time_total = std::chrono::duration<double>(clock::now() - start).count();
  sent.print(res.version());  // without a head, an empty response's: HTTP/1.1

  if (ec) {
    r.num_connects = static_cast<std::size_t>(client.stats().connections_opened - opened_before);
    sink.flush();  // keep what arrived (curl leaves a partial file too), create no file otherwise
    r.exit_code = write_failed ? exit_code::write_error : exit_code_for(ec);
    r.error_message = write_failed ? sink.error() : error_line(ec, res.info().failure);
    if (!res.info().failure.url.empty()) r.failed_url = res.info().failure.url;
    co_return;
  }
  r.http_code = res.status();
  r.http_version = res.version();
  r.url_effective = res.url().str();
  r.content_type = std::string(res.headers().value_or("Content-Type", ""));
  r.num_connects = res.info().connects;
  r.num_redirects = res.info().redirects;
  if (!head_seen) {  // defensive: the library calls on_head for every final response
    failing = o.fail && res.status() >= 400;
    if (print_head) sink.write(response_head(res));
  }
  if (o.verbose && !res.info().alpn.empty())
    std::fprintf(stderr, "* ALPN: server accepted %.*s\n", static_cast<int>(res.info().alpn.size()),
                 res.info().alpn.data());
  if (o.verbose)
    std::fprintf(stderr, "* %d after %.3f s: %llu body bytes, %zu new connection(s), %zu redirect(s)\n",
                 res.status(), r.time_total, static_cast<unsigned long long>(r.size_download), r.num_connects,
                 r.num_redirects);
  if (failing) {
    if (print_head) sink.finish();
    r.exit_code = exit_code::http_error;
    r.error_message = "the requested URL returned error: " + std::to_string(res.status());
    co_return;
  }
  if (!sink.finish()) {
    r.exit_code = exit_code::write_error;
    r.error_message = sink.error();
  }
}

// Prints the -w output and the error line of one transfer.
void report(const plan& p, const transfer_result& r) {
  const fetch_options& o = p.opt;
  if (!o.write_out.empty()) {
    std::vector<std::string> unknown;
    const std::string text = expand_write_out(o.write_out, r, &unknown);
    for (const auto& name : unknown)
      std::fprintf(stderr, "sentinel: unknown --write-out variable: '%s'\n", name.c_str());
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
  }
  if (r.exit_code != 0 && (!o.silent || o.show_error))
    std::fprintf(stderr, "sentinel: (%d) %s: %s: %s\n", r.exit_code,
                 (r.failed_url.empty() ? r.url_effective : r.failed_url).c_str(),
                 std::string(exit_code_summary(r.exit_code)).c_str(), r.error_message.c_str());
}

asio::awaitable<int> fetch_all(sentinel::http_client& client, const plan& p) {
  int status = exit_code::ok;
  for (std::size_t i = 0; i < p.urls.size(); ++i) {
    output_sink sink(i < p.opt.outputs.size() ? p.opt.outputs[i] : std::string());
    transfer_result r;
    co_await fetch_one(client, p, p.urls[i], sink, r);
    report(p, r);
    if (r.exit_code != 0) status = r.exit_code;
  }
  co_return status;
}

}  // namespace

int run_fetch(const fetch_options& o) {
  plan p{o, {}, {}, {}, {}, false};
  for (const auto& text : o.urls) {
    std::error_code ec;
    std::string why;
    sentinel::url u = parse_cli_url(text, ec, why);
    if (ec) {
      const int code = exit_code_for(ec);
      if (!o.silent || o.show_error)
        std::fprintf(
            stderr, "sentinel: (%d) bad URL '%s': %s\nsentinel: try 'sentinel --help' for more information\n",
            code, text.c_str(), why.c_str());
      return code;
    }
    p.urls.push_back(std::move(u));
  }
  std::string problem;
  if (const int code = build_body(o, p.body, problem); code != 0) {
    if (!o.silent || o.show_error) std::fprintf(stderr, "sentinel: (%d) %s\n", code, problem.c_str());
    return code;
  }
  p.method = !o.method.empty() ? o.method : o.head ? "HEAD" : p.body.present ? "POST" : "GET";
  p.expect_continue = wants_expect_continue(header_args(o), p.body.size);
  p.fields = build_fields(o, p.body.present, p.expect_continue);

  asio::io_context ctx(1);
  sentinel::http_client client(ctx, client_options_for(o));
  int status = exit_code::internal;
  asio::co_spawn(ctx, fetch_all(client, p), [&](std::exception_ptr e, int code) {
    if (!e) {
      status = code;
      return;
    }
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      std::fprintf(stderr, "sentinel: (%d) internal error: %s\n", exit_code::internal, ex.what());
    } catch (...) {
      std::fprintf(stderr, "sentinel: (%d) internal error\n", exit_code::internal);
    }
  });
  ctx.run();
  return status;
}

}  // namespace sentinel::cli
