// sentinel CLI, fetch mode: the command line, parsed with CLI11.
//
// CLI11 covers curl's grammar: combined short flags (-sSL, -fsSo FILE), values attached or not (-ofile,
// -o file), repeated options (-H, -d, -o), and -d/--data-binary keep their relative order because their
// callbacks run as each occurrence is parsed (trigger_on_parse).
#include "common.hpp"
#include "errors.hpp"
#include "fetch.hpp"

#include <sentinel/config.hpp>

#include <CLI/CLI.hpp>

#include <cerrno>
#include <cstdio>

namespace sentinel::cli {
namespace {

constexpr const char* hint = "sentinel: try 'sentinel --help' for more information\n";

int usage_error(const std::string& message) {
  std::fprintf(stderr, "sentinel: %s\n%s", message.c_str(), hint);
  return exit_code::usage;
}

// Checks what CLI11 cannot: combinations and the syntax of values. Returns "" when all is well.
std::string validate(fetch_options& o, std::optional<double> max_time,
                     std::optional<double> connect_timeout) {
  if (o.urls.empty()) return "no URL specified";
  if (o.head && !o.data.empty()) return "you can only select one HTTP request method (-I and -d)";
  if (!o.method.empty() && !is_token(o.method)) return "bad method '" + o.method + "' for -X";
  for (const auto& h : o.headers)
    if (!parse_header_arg(h))
      return "bad header '" + h + "' for -H: expected 'Name: value', 'Name:' or 'Name;'";
  if (o.max_redirs < -1) return "--max-redirs must be -1 (unlimited) or more";
  if (max_time) {
    o.max_time = parse_seconds(*max_time);
    if (!o.max_time) return "bad --max-time value";
  }
  if (connect_timeout) {
    o.connect_timeout = parse_seconds(*connect_timeout);
    if (!o.connect_timeout) return "bad --connect-timeout value";
  }
  if (o.outputs.size() > o.urls.size()) return "more -o options than URLs";
  return {};
}

}  // namespace

fetch_parse_result parse_fetch_args(int argc, char** argv) {
  fetch_options o;
  std::optional<double> max_time, connect_timeout;
  bool version = false;

  CLI::App app(
      "Transfers URLs over HTTP/1.1 or HTTP/2 with the sentinel library; curl's option names.\n"
      "Load generation: sentinel bench --help",
      "sentinel");
  app.set_help_flag("-h,--help", "Print this help and exit");
  app.add_flag("-V,--version", version, "Print the version and exit");
  app.add_flag("-s,--silent", o.silent, "Silent mode: no error messages (see -S)");
  app.add_flag("-S,--show-error", o.show_error, "Show error messages even with -s");
  app.add_flag("-i,--include", o.include, "Write the response head before the body");
  app.add_flag("-I,--head", o.head, "Send HEAD and write the response head");
  app.add_option("-X,--request", o.method, "Request method to use")->type_name("METHOD");
  app.add_option("-H,--header", o.headers, "Extra header 'Name: value' ('Name:' removes one) (repeatable)")
      ->allow_extra_args(false)
      ->type_name("LINE");
  app.add_option_function<std::string>(
         "-d,--data",
         [&o](const std::string& v) {
           o.data.push_back({false, v});
         },
         "POST data (form-urlencoded), @FILE reads it without CR/LF (repeatable, joined with &)")
      ->trigger_on_parse()
      ->type_name("DATA");
  app.add_option_function<std::string>(
         "--data-binary",
         [&o](const std::string& v) {
           o.data.push_back({true, v});
         },
         "POST data exactly as given, or the exact content of @FILE")
      ->trigger_on_parse()
      ->type_name("DATA");
  app.add_option("-o,--output", o.outputs, "Write the body to FILE instead of stdout (one per URL)")
      ->allow_extra_args(false)
      ->type_name("FILE");
  app.add_flag("-L,--location", o.location, "Follow redirects");
  app.add_option("--max-redirs", o.max_redirs,
                 "Redirects to follow at most with -L (default 50, -1: no limit)")
      ->type_name("N");
  app.add_flag("--compressed", o.compressed, "Ask for a compressed body and write it decoded");
  // The last of these wins, as in curl.
  const std::pair<const char*, http_version> versions[] = {
      {"--http1.1", http_version::http1_1},
      {"--http2", http_version::http2},
      {"--http2-prior-knowledge", http_version::http2_prior_knowledge}};
  const char* const version_help[] = {"Use HTTP/1.1 only",
                                      "Offer HTTP/2 to https:// servers (ALPN h2, http/1.1; the default)",
                                      "Speak HTTP/2 from the first byte (h2c for http://)"};
  for (std::size_t i = 0; i < std::size(versions); ++i) {
    const http_version v = versions[i].second;
    app.add_flag_callback(
           versions[i].first, [&o, v] { o.version = v; }, version_help[i])
        ->trigger_on_parse();
  }
  app.add_option("--max-time", max_time, "Time allowed for each whole transfer")->type_name("SECONDS");
  app.add_option("--connect-timeout", connect_timeout, "Time allowed to connect (default 10)")
      ->type_name("SECONDS");
  app.add_option("--cacert", o.cacert, "Verify servers with these CA certificates (PEM)")->type_name("FILE");
  app.add_option("--capath", o.capath, "Verify servers with the CA certificates in DIR")->type_name("DIR");
  app.add_flag("-k,--insecure", o.insecure, "Accept any server certificate (DANGER)");
  app.add_flag("-f,--fail", o.fail, "Fail with exit code 22 on HTTP status >= 400, writing no body");
  app.add_flag("-v,--verbose", o.verbose, "Write the request and response heads to stderr");
  app.add_option("-w,--write-out", o.write_out,
                 "Write FORMAT after each transfer (@FILE reads it): %{http_code}, %{time_total}, "
                 "%{size_download}, %{num_connects}, %{url_effective}, ... (docs/cli.md)")
      ->type_name("FORMAT");
  app.add_option("url", o.urls, "URLs to fetch (http:// is assumed when no scheme is given)")
      ->type_name("URL...");
  app.footer(
      "Exit status: 0 for any complete response (22 for >= 400 with -f), else curl's exit codes "
      "(docs/cli.md).");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), stdout);
    return {std::nullopt, exit_code::ok};
  } catch (const CLI::ParseError& e) {
    return {std::nullopt, usage_error(e.what())};
  }
  if (version) {
    std::printf("%s\n", version_text().c_str());
    return {std::nullopt, exit_code::ok};
  }
  if (auto problem = validate(o, max_time, connect_timeout); !problem.empty())
    return {std::nullopt, usage_error(problem)};
  if (o.version && *o.version != http_version::http1_1 && !http2_built)
    return {std::nullopt, http2_not_built("sentinel")};
  if (o.write_out.size() > 1 && o.write_out.front() == '@') {
    const std::string path = o.write_out.substr(1);
    if (!read_whole_file(path, o.write_out)) {
      std::fprintf(stderr, "sentinel: (%d) cannot read -w file '%s': %s\n", exit_code::read_error,
                   path.c_str(), errno_text(errno).c_str());
      return {std::nullopt, exit_code::read_error};
    }
  }
  return {std::move(o), exit_code::ok};
}

}  // namespace sentinel::cli
