#include <catch2/catch.hpp>

#include <sentinel/error.hpp>
#include <sentinel/request_error.hpp>

#include <asio/error.hpp>
#include <asio/ssl/error.hpp>

#include <cerrno>
#include <cstring>
#include <set>
#include <string>
#include <system_error>

using sentinel::condition;
using sentinel::error;

namespace {

constexpr int first_error = static_cast<int>(error::invalid_url);
constexpr int last_error = static_cast<int>(error::http2_protocol_error);

// A category with the same name as Asio's misc category but a different address: what a program sees when
// two copies of Asio are linked into different shared objects.
class fake_misc_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "asio.misc"; }
  std::string message(int) const override { return "fake"; }
};

}  // namespace

TEST_CASE("error category name and messages", "[error]") {
  CHECK(std::string(sentinel::error_category().name()) == "sentinel");
  CHECK(std::string(sentinel::condition_category().name()) == "sentinel.condition");

  std::set<std::string> messages;
  for (int v = first_error; v <= last_error; ++v) {
    const std::error_code ec = static_cast<error>(v);
    INFO("error value " << v);
    CHECK(&ec.category() == &sentinel::error_category());
    CHECK_FALSE(ec.message().empty());
    CHECK(ec.message().find("unknown") == std::string::npos);
    messages.insert(ec.message());
  }
  // Every enumerator has its own message.
  CHECK(messages.size() == static_cast<std::size_t>(last_error - first_error + 1));

  // Messages name the limit or timeout option a user would change.
  CHECK(std::error_code(error::header_too_large).message().find("limits.max_head_bytes") !=
        std::string::npos);
  CHECK(std::error_code(error::too_many_headers).message().find("limits.max_header_count") !=
        std::string::npos);
  CHECK(std::error_code(error::body_too_large).message().find("limits.max_body_bytes") != std::string::npos);
  CHECK(std::error_code(error::chunk_line_too_long).message().find("limits.max_chunk_line_bytes") !=
        std::string::npos);
  CHECK(std::error_code(error::decoded_too_large).message().find("limits.max_decoded_bytes") !=
        std::string::npos);
  CHECK(std::error_code(error::header_line_too_long).message().find("limits.max_header_line_bytes") !=
        std::string::npos);
  CHECK(std::error_code(error::too_many_redirects).message().find("redirect.max_redirects") !=
        std::string::npos);
  CHECK(std::error_code(error::pool_timeout).message().find("timeouts.pool_acquire") != std::string::npos);
  CHECK(std::error_code(error::connect_timeout).message().find("timeouts.connect") != std::string::npos);
  CHECK(std::error_code(error::response_timeout).message().find("timeouts.response_head") !=
        std::string::npos);
  CHECK(std::error_code(error::idle_timeout).message().find("timeouts.idle_read") != std::string::npos);
  CHECK(std::error_code(error::request_timeout).message().find("timeouts.total") != std::string::npos);

  // Values outside the enumeration still give a message instead of crashing.
  CHECK(std::error_code(999, sentinel::error_category()).message().find("unknown") != std::string::npos);
  CHECK(std::error_code(0, sentinel::error_category()).message().find("unknown") != std::string::npos);
}

TEST_CASE("to_string gives the enumerator name", "[error]") {
  CHECK(std::string(sentinel::to_string(error::invalid_url)) == "invalid_url");
  CHECK(std::string(sentinel::to_string(error::header_too_large)) == "header_too_large");
  CHECK(std::string(sentinel::to_string(error::unsupported_content_encoding)) ==
        "unsupported_content_encoding");
  CHECK(std::string(sentinel::to_string(error::certificate_host_mismatch)) == "certificate_host_mismatch");
  CHECK(std::string(sentinel::to_string(error::request_timeout)) == "request_timeout");
  CHECK(std::string(sentinel::to_string(error::internal)) == "internal");
  CHECK(std::string(sentinel::to_string(static_cast<error>(12345))) == "unknown");

  std::set<std::string> names;
  for (int v = first_error; v <= last_error; ++v)
    names.insert(sentinel::to_string(static_cast<error>(v)));
  CHECK(names.size() == static_cast<std::size_t>(last_error - first_error + 1));
}

TEST_CASE("condition messages", "[error]") {
  for (int c = static_cast<int>(condition::timeout); c <= static_cast<int>(condition::usage); ++c) {
    const std::error_condition cond = static_cast<condition>(c);
    CHECK_FALSE(cond.message().empty());
    CHECK(cond.message().find("unknown") == std::string::npos);
  }
}

TEST_CASE("sentinel errors map onto exactly one condition", "[error]") {
  struct row {
    error e;
    condition c;
  };
  const row rows[] = {
      {error::invalid_url, condition::usage},
      {error::unsupported_scheme, condition::usage},
      {error::invalid_request, condition::usage},
      {error::pool_stopped, condition::usage},
      {error::aborted_by_callback, condition::usage},
      {error::bad_status_line, condition::protocol},
      {error::bad_header, condition::protocol},
      {error::bad_content_length, condition::protocol},
      {error::multiple_content_length, condition::protocol},
      {error::bad_transfer_encoding, condition::protocol},
      {error::bad_chunk, condition::protocol},
      {error::unexpected_response, condition::protocol},
      {error::bad_redirect, condition::protocol},
      {error::bad_content_encoding, condition::protocol},
      {error::unsupported_content_encoding, condition::protocol},
      {error::unexpected_eof, condition::connection_lost},
      {error::empty_reply, condition::connection_lost},
      {error::header_too_large, condition::limit_exceeded},
      {error::too_many_headers, condition::limit_exceeded},
      {error::body_too_large, condition::limit_exceeded},
      {error::chunk_line_too_long, condition::limit_exceeded},
      {error::too_many_redirects, condition::limit_exceeded},
      {error::decoded_too_large, condition::limit_exceeded},
      {error::header_line_too_long, condition::limit_exceeded},
      {error::pool_timeout, condition::timeout},
      {error::resolve_timeout, condition::timeout},
      {error::connect_timeout, condition::timeout},
      {error::response_timeout, condition::timeout},
      {error::idle_timeout, condition::timeout},
      {error::request_timeout, condition::timeout},
      {error::tls_handshake_failed, condition::tls},
      {error::certificate_expired, condition::tls},
      {error::certificate_not_yet_valid, condition::tls},
      {error::certificate_untrusted, condition::tls},
      {error::certificate_self_signed, condition::tls},
      {error::certificate_host_mismatch, condition::tls},
      {error::certificate_invalid, condition::tls},
      {error::callback_threw, condition::usage},
      {error::alpn_mismatch, condition::tls},
      {error::body_length_mismatch, condition::protocol},
      {error::stream_refused, condition::connection_lost},
      {error::stream_reset, condition::connection_lost},
      {error::frame_flood, condition::limit_exceeded},
      {error::http2_protocol_error, condition::protocol},
  };
  for (const row& r : rows) {
    const std::error_code ec = r.e;
    INFO(sentinel::to_string(r.e));
    for (int c = static_cast<int>(condition::timeout); c <= static_cast<int>(condition::usage); ++c) {
      INFO("condition " << c);
      CHECK((ec == static_cast<condition>(c)) == (static_cast<int>(r.c) == c));
    }
    CHECK(ec.default_error_condition() == std::error_condition(r.c));
  }

  // proxy_error and internal belong to no condition.
  for (const error e : {error::proxy_error, error::internal}) {
    const std::error_code ec = e;
    for (int c = static_cast<int>(condition::timeout); c <= static_cast<int>(condition::usage); ++c)
      CHECK_FALSE(ec == static_cast<condition>(c));
  }
  // Every enumerator is covered by the table or by the two above.
  CHECK(std::size(rows) + 2 == static_cast<std::size_t>(last_error - first_error + 1));
}

TEST_CASE("asio and system codes map onto conditions", "[error]") {
  // Timeouts.
  CHECK(std::error_code(asio::error::timed_out) == condition::timeout);
  CHECK(std::make_error_code(std::errc::timed_out) == condition::timeout);
  CHECK(std::error_code(ETIMEDOUT, std::system_category()) == condition::timeout);

  // Connection lost.
  CHECK(std::error_code(asio::error::eof) == condition::connection_lost);
  CHECK(std::error_code(asio::error::connection_reset) == condition::connection_lost);
  CHECK(std::error_code(asio::error::broken_pipe) == condition::connection_lost);
  CHECK(std::error_code(asio::error::connection_aborted) == condition::connection_lost);
  CHECK(std::make_error_code(std::errc::connection_reset) == condition::connection_lost);
  CHECK(std::error_code(EPIPE, std::system_category()) == condition::connection_lost);
  CHECK(std::error_code(ECONNABORTED, std::generic_category()) == condition::connection_lost);
  CHECK(std::error_code(asio::ssl::error::stream_truncated) == condition::connection_lost);
  CHECK_FALSE(std::error_code(asio::error::not_found) == condition::connection_lost);  // misc, but not eof

  // Connect failed.
  CHECK(std::error_code(asio::error::connection_refused) == condition::connect_failed);
  CHECK(std::error_code(asio::error::host_unreachable) == condition::connect_failed);
  CHECK(std::error_code(asio::error::network_unreachable) == condition::connect_failed);
  CHECK(std::error_code(ECONNREFUSED, std::system_category()) == condition::connect_failed);
  CHECK(std::error_code(asio::error::host_not_found) == condition::connect_failed);
  CHECK(std::error_code(asio::error::host_not_found_try_again) == condition::connect_failed);
  CHECK(std::error_code(asio::error::no_data) == condition::connect_failed);
  CHECK_FALSE(std::error_code(asio::error::no_recovery) == condition::connect_failed);

  // TLS: anything OpenSSL reports through Asio's ssl category.
  const std::error_code ssl_ec(static_cast<int>(ERR_PACK(ERR_LIB_SSL, 0, SSL_R_CERTIFICATE_VERIFY_FAILED)),
                               asio::error::get_ssl_category());
  CHECK(ssl_ec == condition::tls);
  CHECK_FALSE(ssl_ec == condition::connection_lost);

  // Cancelled.
  CHECK(std::error_code(asio::error::operation_aborted) == condition::cancelled);
  CHECK(std::make_error_code(std::errc::operation_canceled) == condition::cancelled);
  CHECK(std::error_code(ECANCELED, std::system_category()) == condition::cancelled);
  CHECK_FALSE(std::error_code(asio::error::operation_aborted) == condition::timeout);

  // Unrelated codes belong to nothing.
  const std::error_code unrelated = std::make_error_code(std::errc::no_space_on_device);
  for (int c = static_cast<int>(condition::timeout); c <= static_cast<int>(condition::usage); ++c)
    CHECK_FALSE(unrelated == static_cast<condition>(c));
  CHECK_FALSE(std::error_code() == condition::timeout);
  CHECK_FALSE(std::error_code(asio::error::eof) == condition::protocol);
  CHECK_FALSE(std::error_code(asio::error::timed_out) == condition::connection_lost);
  CHECK_FALSE(std::error_code(asio::error::would_block) == condition::timeout);
  CHECK_FALSE(std::error_code(asio::error::connection_refused) == condition::connection_lost);
}

TEST_CASE("categories are recognised by name across copies", "[error]") {
  static const fake_misc_category other_copy;
  CHECK(std::error_code(asio::error::eof, other_copy) == condition::connection_lost);
  CHECK_FALSE(std::error_code(asio::error::eof + 1000, other_copy) == condition::connection_lost);
}

TEST_CASE("sentinel errors convert and compare as error codes", "[error]") {
  std::error_code ec = error::bad_chunk;
  CHECK(ec == error::bad_chunk);
  CHECK(ec != error::bad_header);
  CHECK(ec.value() == static_cast<int>(error::bad_chunk));
  CHECK(static_cast<bool>(ec));
  // The same number in another category is not a sentinel error.
  CHECK(std::error_code(static_cast<int>(error::bad_chunk), std::generic_category()) != error::bad_chunk);
  CHECK_FALSE(std::error_code(static_cast<int>(error::request_timeout), std::generic_category()) ==
              condition::timeout);
}

TEST_CASE("phases: names, and describe() leaves out what is unknown", "[error]") {
  using sentinel::failure_info;
  using sentinel::phase;
  CHECK(std::string(sentinel::to_string(phase::none)).empty());
  CHECK(std::string(sentinel::to_string(phase::connect)) == "connect");
  CHECK(std::string(sentinel::to_string(phase::redirect)) == "redirect");
  const std::error_code refused = std::make_error_code(std::errc::connection_refused);
  failure_info f;
  CHECK(sentinel::describe(refused, f) == refused.message());
  f.phase = phase::connect;
  CHECK(sentinel::describe(refused, f) == "connect: " + refused.message());
  f.endpoint = "127.0.0.1:1";
  CHECK(sentinel::describe(f) == "connect to 127.0.0.1:1");
  f.method = "GET";
  f.url = "http://127.0.0.1:1/";
  CHECK(sentinel::describe(refused, f) ==
        "GET http://127.0.0.1:1/: connect to 127.0.0.1:1: " + refused.message());
  f.phase = phase::redirect;
  CHECK(sentinel::describe(f) == "GET http://127.0.0.1:1/: follow redirect");
  const sentinel::request_error e(refused, f);
  CHECK(std::string(e.what()) == "GET http://127.0.0.1:1/: follow redirect: " + refused.message());
  CHECK(e.code() == refused);
  CHECK(std::string(sentinel::request_error(refused, {}).what()) == "request: " + refused.message());
}

TEST_CASE("describe() names the HTTP/2 error code of a reset stream", "[error]") {
  using sentinel::failure_info;
  using sentinel::phase;
  const std::error_code reset = sentinel::error::stream_reset;
  failure_info f;
  f.phase = phase::receive;
  f.endpoint = "127.0.0.1:443";
  f.method = "GET";
  f.url = "https://127.0.0.1/";
  f.http2_error = 2;
  CHECK(sentinel::describe(f) ==
        "GET https://127.0.0.1/: receive from 127.0.0.1:443 (HTTP/2 INTERNAL_ERROR)");
  CHECK(std::string(sentinel::request_error(reset, f).what()) ==
        "GET https://127.0.0.1/: receive from 127.0.0.1:443 (HTTP/2 INTERNAL_ERROR): " + reset.message());
  f.http2_error = 0xb;
  CHECK(sentinel::describe(f).ends_with("(HTTP/2 ENHANCE_YOUR_CALM)"));
  f.http2_error = 0x1a2;  // not one RFC 9113 names
  CHECK(sentinel::describe(f).ends_with("(HTTP/2 error 0x1a2)"));
  f.http2_error = 0;
  CHECK(sentinel::describe(f) == "GET https://127.0.0.1/: receive from 127.0.0.1:443");
}
