// tests/cli: the tool's pieces in-process: the exit-code table, -w formats, -H parsing, the histogram.
#include "common.hpp"
#include "errors.hpp"
#include "histogram.hpp"
#include "write_out.hpp"

#include <sentinel/error.hpp>

#include <asio/error.hpp>
#include <asio/ssl/error.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <random>

using sentinel::error;
using namespace sentinel::cli;

TEST_CASE("exit codes: sentinel errors map to curl's codes", "[cli][unit]") {
  struct row {
    error e;
    int code;
  };
  const row table[] = {
      {error::invalid_url, 3},
      {error::unsupported_scheme, 1},
      {error::invalid_request, 2},
      {error::pool_stopped, 43},
      {error::aborted_by_callback, 42},
      {error::bad_status_line, 8},
      {error::bad_header, 8},
      {error::bad_content_length, 8},
      {error::multiple_content_length, 8},
      {error::bad_transfer_encoding, 8},
      {error::bad_chunk, 56},
      {error::unexpected_eof, 18},
      {error::empty_reply, 52},
      {error::unexpected_response, 8},
      {error::bad_redirect, 3},
      {error::bad_content_encoding, 61},
      {error::unsupported_content_encoding, 61},
      {error::header_too_large, 100},
      {error::too_many_headers, 100},
      {error::body_too_large, 63},
      {error::chunk_line_too_long, 56},
      {error::too_many_redirects, 47},
      {error::decoded_too_large, 63},
      {error::header_line_too_long, 100},
      {error::pool_timeout, 28},
      {error::resolve_timeout, 28},
      {error::connect_timeout, 28},
      {error::response_timeout, 28},
      {error::idle_timeout, 28},
      {error::request_timeout, 28},
      {error::tls_handshake_failed, 35},
      {error::alpn_mismatch, 35},
      {error::body_length_mismatch, 8},
      {error::certificate_expired, 60},
      {error::certificate_not_yet_valid, 60},
      {error::certificate_untrusted, 60},
      {error::certificate_self_signed, 60},
      {error::certificate_host_mismatch, 60},
      {error::certificate_invalid, 60},
      {error::proxy_error, 56},
      {error::internal, 43},
      {error::callback_threw, 23},
      {error::stream_refused, 92},
      {error::stream_reset, 92},
      {error::frame_flood, 16},
      {error::http2_protocol_error, 16},
  };
  for (const auto& r : table) {
    INFO(sentinel::to_string(r.e));
    CHECK(exit_code_for(r.e) == r.code);
    CHECK_FALSE(exit_code_summary(r.code).empty());
    CHECK(error_kind(r.e) == sentinel::to_string(r.e));
  }
  // Every enumerator is in the table above (they are numbered 1..http2_protocol_error, the last one,
  // without gaps).
  CHECK(std::size(table) == static_cast<std::size_t>(error::http2_protocol_error));
}

TEST_CASE("exit codes: Asio and system errors", "[cli][unit]") {
  CHECK(exit_code_for({}) == 0);
  CHECK(exit_code_for(asio::error::host_not_found) == 6);
  CHECK(exit_code_for(asio::error::host_not_found_try_again) == 6);
  CHECK(exit_code_for(asio::error::connection_refused) == 7);
  CHECK(exit_code_for(asio::error::network_unreachable) == 7);
  CHECK(exit_code_for(asio::error::host_unreachable) == 7);
  CHECK(exit_code_for(asio::error::timed_out) == 28);
  CHECK(exit_code_for(asio::error::connection_reset) == 56);
  CHECK(exit_code_for(asio::error::connection_aborted) == 56);
  CHECK(exit_code_for(asio::error::eof) == 56);
  CHECK(exit_code_for(asio::ssl::error::stream_truncated) == 56);
  CHECK(exit_code_for(asio::error::broken_pipe) == 55);
  CHECK(exit_code_for(asio::error::operation_aborted) == 42);
  CHECK(exit_code_for(std::error_code(ENOENT, std::system_category())) == 26);
  CHECK(exit_code_for(make_error_code(std::errc::protocol_error)) == 16);  // the HTTP/2 session's own
  CHECK(exit_code_for(make_error_code(std::errc::not_enough_memory)) == 27);
  CHECK_FALSE(exit_code_summary(27).empty());
  CHECK(exit_code_for(std::error_code(0x0A000086, asio::error::get_ssl_category())) == 35);
  CHECK(exit_code_for(std::error_code(12345, asio::error::get_misc_category())) == 1);

  CHECK(error_kind(asio::error::connection_refused) == "connection_refused");
  CHECK(error_kind(asio::error::connection_reset) == "connection_reset");
  CHECK(error_kind(asio::error::eof) == "eof");
  CHECK(error_kind(asio::error::host_not_found) == "host_not_found");
  CHECK(error_kind(asio::ssl::error::stream_truncated) == "tls_truncated");
}

TEST_CASE("-w: variables, escapes and unknown names", "[cli][unit]") {
  transfer_result r;
  r.http_code = 200;
  r.http_version = 11;
  r.method = "GET";
  r.url_effective = "http://127.0.0.1:8080/x";
  r.content_type = "text/plain";
  r.size_download = 1234;
  r.size_upload = 5;
  r.num_connects = 1;
  r.num_redirects = 2;
  r.time_total = 0.5;
  std::vector<std::string> unknown;
  CHECK(expand_write_out("%{http_code} %{size_download} %{num_connects} %{url_effective}\\n", r, &unknown) ==
        "200 1234 1 http://127.0.0.1:8080/x\n");
  CHECK(expand_write_out("%{time_total}", r) == "0.500000");
  CHECK(expand_write_out("%{response_code}|%{http_version}|%{method}|%{content_type}|%{num_redirects}|"
                         "%{size_upload}|%{exitcode}|%{errormsg}",
                         r) == "200|1.1|GET|text/plain|2|5|0|");
  CHECK(expand_write_out("a\\tb\\r\\\\ 100%% %d \\x", r) == "a\tb\r\\ 100% %d \\x");
  CHECK(unknown.empty());
  CHECK(expand_write_out("[%{nope}]", r, &unknown) == "[]");
  REQUIRE(unknown.size() == 1);
  CHECK(unknown[0] == "nope");
  CHECK(expand_write_out("%{http_code", r) == "%{http_code");  // no closing brace: text

  transfer_result failed;
  failed.exit_code = 7;
  failed.error_message = "Connection refused";
  CHECK(expand_write_out("%{http_code} %{exitcode} %{errormsg} %{http_version}", failed) ==
        "000 7 Connection refused 0");
}

TEST_CASE("-H: curl's three forms", "[cli][unit]") {
  auto h = parse_header_arg("X-A: b c ");
  REQUIRE(h);
  CHECK(h->name == "X-A");
  CHECK(h->value == "b c");
  CHECK_FALSE(h->remove);
  h = parse_header_arg("Accept:");
  REQUIRE(h);
  CHECK(h->remove);
  h = parse_header_arg("X-Empty;");
  REQUIRE(h);
  CHECK(h->name == "X-Empty");
  CHECK(h->value.empty());
  CHECK_FALSE(h->remove);
  CHECK_FALSE(parse_header_arg("no colon"));
  CHECK_FALSE(parse_header_arg(": value"));
  CHECK_FALSE(parse_header_arg("Bad Name: v"));
  CHECK_FALSE(parse_header_arg("X: a\r\nInjected: 1"));
}

TEST_CASE("seconds and URLs from the command line", "[cli][unit]") {
  CHECK(parse_seconds(0.5) == std::chrono::milliseconds(500));
  CHECK(parse_seconds(2) == std::chrono::milliseconds(2000));
  CHECK_FALSE(parse_seconds(-1));
  CHECK_FALSE(parse_seconds(std::nan("")));
  CHECK_FALSE(parse_seconds(HUGE_VAL));
  std::error_code ec;
  CHECK(parse_cli_url("127.0.0.1:8080/x", ec).str() == "http://127.0.0.1:8080/x");
  CHECK_FALSE(ec);
  parse_cli_url("ftp://x/", ec);
  CHECK(ec == error::unsupported_scheme);
  parse_cli_url("http://a b/", ec);
  CHECK(ec == error::invalid_url);
}

TEST_CASE("histogram: buckets are contiguous and at most 1/128 wide", "[cli][unit]") {
  using h = latency_histogram;
  for (std::size_t i = 0; i + 1 < h::bucket_count; ++i) {
    REQUIRE(h::highest_equivalent(i) + 1 == h::lowest_equivalent(i + 1));
    REQUIRE(h::index_of(h::lowest_equivalent(i)) == i);
    REQUIRE(h::index_of(h::highest_equivalent(i)) == i);
    const auto width = h::highest_equivalent(i) - h::lowest_equivalent(i) + 1;
    REQUIRE(static_cast<double>(width) <=
            static_cast<double>(std::max<std::uint64_t>(h::lowest_equivalent(i), 1)) / 128.0 + 1);
  }
  CHECK(h::index_of(h::max_trackable) == h::bucket_count - 1);
  CHECK(h::highest_equivalent(h::bucket_count - 1) == h::max_trackable);
}

TEST_CASE("histogram: percentiles within 1%, exact min/max/mean, merge", "[cli][unit]") {
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> dist(13.0, 1.5);  // around 0.4 ms, long tail
  std::vector<std::uint64_t> values;
  latency_histogram a, b;
  for (int i = 0; i < 200000; ++i) {
    const auto v = static_cast<std::uint64_t>(dist(rng)) + 1000;
    values.push_back(v);
    (i % 3 == 0 ? a : b).record(v);
  }
  a.merge(b);
  std::sort(values.begin(), values.end());
  REQUIRE(a.count() == values.size());
  CHECK(a.min() == values.front());
  CHECK(a.max() == values.back());
  long double sum = 0;
  for (auto v : values)
    sum += static_cast<long double>(v);
  CHECK(a.mean() == Approx(static_cast<double>(sum / values.size())).epsilon(1e-9));
  for (double p : {1.0, 50.0, 90.0, 99.0, 99.9, 99.99}) {
    const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(values.size())));
    const double exact = static_cast<double>(values[rank - 1]);
    INFO("p" << p);
    CHECK(static_cast<double>(a.percentile(p)) == Approx(exact).epsilon(0.01));
  }
  CHECK(a.percentile(100) == values.back());
  CHECK(a.percentile(0) == values.front());

  latency_histogram empty;
  CHECK(empty.percentile(50) == 0);
  CHECK(empty.min() == 0);
  CHECK(empty.mean() == 0);
  latency_histogram huge;
  huge.record(std::uint64_t{1} << 40);  // beyond the tracked range: clamped bucket, exact max
  CHECK(huge.max() == std::uint64_t{1} << 40);
  CHECK(huge.percentile(50) == std::uint64_t{1} << 40);
}
