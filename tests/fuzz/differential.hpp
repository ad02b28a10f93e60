// Differential check (see differential_test.cpp and DIFFERENTIAL.md): what both parsers' results look like,
// and the allow-list's interface. The rules themselves are in differential_rules.cpp.
#pragma once

#include "response_driver.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace differential {

using sentinel::error;
using sentinel::fuzz::field;

// ---- one normalized view of a parsed message, for both parsers
// ---------------------------------------------
enum class framing { none, length, chunked, eof };

inline const char* framing_name(framing f) {
  switch (f) {
    case framing::none:
      return "none";
    case framing::length:
      return "length";
    case framing::chunked:
      return "chunked";
    case framing::eof:
      return "eof";
  }
  return "?";
}

struct message {
  int status = 0;
  int version = 0;  // major * 10 + minor
  std::vector<field> fields;
  std::string body;
  std::vector<field> trailers;
  bool keep_alive = false;
  framing frame = framing::none;
  std::uint64_t content_length = 0;  // when frame == length
  bool complete = false;
};

struct result {
  std::vector<message> messages;  // complete ones, then possibly the one in progress
  bool error = false;
  std::string error_name;
  std::size_t error_at = 0;  // index of the message in which the error happened
  bool stopped = false;      // the exchange ended on purpose (not keep-alive, 101, tunnel): rest not HTTP
  // Ours only: the error code and where it was found (see stream_outcome).
  std::error_code ec;
  std::size_t error_from = 0, error_end = 0;
};

// Everything a rule may look at.
struct diff_case {
  std::string_view wire;
  result ours;
  result theirs;
  int kind_pattern = 0;  // the request kinds, for rules that re-run a parser

  bool only_ours_rejects() const { return ours.error && (!theirs.error || theirs.error_at > ours.error_at); }
  bool only_theirs_rejects() const {
    return theirs.error && (!ours.error || ours.error_at > theirs.error_at);
  }
  bool ours_failed_with(error e) const { return ours.error && ours.ec == e; }
  // The unconsumed bytes when ours found its error: the head, chunk-size line or trailer block in error
  // (fed byte by byte, the last one is the byte that revealed it).
  std::string_view ours_error_bytes() const {
    return wire.substr(ours.error_from, ours.error_end - ours.error_from);
  }
  const message* theirs_message(std::size_t i) const {
    return i < theirs.messages.size() ? &theirs.messages[i] : nullptr;
  }
};

// A normalization rewrites the two results so that a difference in *reporting* disappears; it applies only
// when it changes something.
struct normalization {
  const char* id;
  std::function<bool(const diff_case&, result& ours, result& theirs)> apply;
};

// An acceptance rule explains the whole remaining disagreement of a file.
struct acceptance {
  const char* id;
  std::function<bool(const diff_case&)> explains;
};

/// The allow-list, in the order the test applies it (differential_rules.cpp).
const std::vector<normalization>& normalizations();
const std::vector<acceptance>& acceptances();

/// libhttp-parser's view of `wire` (differential_test.cpp); some rules re-run it on a rewritten wire.
result run_theirs(std::string_view wire, int kind_pattern);
/// The first difference between the two results, or nullopt when they agree.
std::optional<std::string> first_difference(const result& ours, const result& theirs);

}  // namespace differential
