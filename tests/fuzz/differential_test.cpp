// Differential check: our http1::response_parser against libhttp-parser 2.9 (nodejs/http-parser, an
// independent implementation) on every file of corpus/response/ and corpus/chunked/.
//
// Each file is one byte stream from a server followed by EOF. Of the mode byte only the request kind is used
// (files for CONNECT are skipped: http_parser cannot be told the request method); both parsers run with
// their default limits. Ours is fed byte by byte through the fuzz driver (so every invariant is checked
// and an error is located at the byte that revealed it); http_parser gets the whole buffer, then EOF.
//
// Per message (1xx included, keep-alive responses in order) we compare: accept/reject, status, version,
// fields (names and values), body bytes, trailers, keep-alive, and the framing where ours has one. A
// disagreement fails the test unless the allow-list (differential_rules.cpp) explains it. Each entry is
// either a normalization (the parsers agree on the message but report it differently, e.g. trailing OWS in a
// value) or an acceptance rule (one parser rejects what the other accepts, for a documented reason).
// DIFFERENTIAL.md gives every entry's RFC 9110/9112 section and says which parser is right.
#include "differential.hpp"
#include "support/env.hpp"

#include <http_parser.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

extern "C" int http_message_needs_eof(const http_parser* parser);  // exported, not declared in 2.9.4

namespace differential {
namespace {

namespace fs = std::filesystem;
using sentinel::fuzz::body_framing;
using sentinel::fuzz::request_kind;

// ---- our parser, through the fuzz driver (which also checks every invariant)
// --------------------------------
message from_ours(const sentinel::fuzz::head_record& h, bool complete) {
  message m;
  m.status = h.status;
  m.version = h.version;
  m.fields = h.fields;
  m.keep_alive = h.keep_alive;
  m.complete = complete;
  switch (h.framing) {
    case body_framing::none:
      m.frame = framing::none;
      break;
    case body_framing::content_length:
      m.frame = framing::length;
      m.content_length = h.content_length;
      break;
    case body_framing::chunked:
      m.frame = framing::chunked;
      break;
    case body_framing::until_close:
      m.frame = framing::eof;
      break;
  }
  return m;
}

void append_ours(const sentinel::fuzz::response_record& r, bool complete, std::vector<message>& out) {
  for (const auto& h : r.interim)
    out.push_back(from_ours(h, true));
  if (!r.has_head) return;
  message m = from_ours(r.head, complete);
  m.body = r.body;
  m.trailers = r.trailers;
  out.push_back(std::move(m));
}

result run_ours(std::string_view wire, int kind_pattern) {
  sentinel::fuzz::stream_mode mode;
  mode.kind_pattern = kind_pattern;
  mode.eof_at_end = true;
  std::vector<std::size_t> every_byte;
  for (std::size_t i = 1; i < wire.size(); ++i)
    every_byte.push_back(i);
  const sentinel::fuzz::stream_outcome o = sentinel::fuzz::run_stream(wire, every_byte, mode);
  FUZZ_CHECK(sentinel::fuzz::same_outcome(o, sentinel::fuzz::run_stream(wire, {}, mode)));
  result r;
  for (const auto& resp : o.done)
    append_ours(resp, true, r.messages);
  if (o.ec) {
    r.error = true;
    r.ec = o.ec;
    r.error_name = o.ec.message();
    r.error_at = r.messages.size() + o.partial.interim.size();
    r.error_from = o.error_from;
    r.error_end = o.error_end;
  }
  append_ours(o.partial, false, r.messages);
  r.stopped = o.stopped;
  return r;
}

// ---- libhttp-parser -----------------------------------------------------------------------------------
struct theirs_state {
  result r;
  message cur;
  std::string name, value;  // the field being assembled (callbacks may deliver pieces)
  bool in_value = false;
  bool headers_done = false;
  bool begun = false;
  std::size_t finals = 0;  // final (non-1xx) responses begun, for the request kind
  int kind_pattern = 0;

  void flush_field() {
    if (name.empty() && !in_value) return;
    (headers_done ? cur.trailers : cur.fields).push_back({name, value});
    name.clear();
    value.clear();
    in_value = false;
  }
};

theirs_state& state_of(http_parser* p) {
  return *static_cast<theirs_state*>(p->data);
}

int on_message_begin(http_parser* p) {
  theirs_state& s = state_of(p);
  s.cur = {};
  s.headers_done = false;
  s.begun = true;
  s.name.clear();
  s.value.clear();
  s.in_value = false;
  return 0;
}

int on_status(http_parser* p, const char*, std::size_t) {
  state_of(p).cur.status = p->status_code;
  return 0;
}

int on_header_field(http_parser* p, const char* at, std::size_t n) {
  theirs_state& s = state_of(p);
  if (s.in_value) s.flush_field();
  s.name.append(at, n);
  return 0;
}

int on_header_value(http_parser* p, const char* at, std::size_t n) {
  theirs_state& s = state_of(p);
  s.in_value = true;
  s.value.append(at, n);
  return 0;
}

int on_headers_complete(http_parser* p) {
  theirs_state& s = state_of(p);
  s.flush_field();
  s.headers_done = true;
  s.cur.status = p->status_code;
  s.cur.version = p->http_major * 10 + p->http_minor;
  const bool interim = p->status_code >= 100 && p->status_code < 200 && p->status_code != 101;
  bool head = false;
  if (!interim) {
    head = sentinel::fuzz::kind_for(s.kind_pattern, s.finals) == request_kind::head;
    ++s.finals;
  }
  if ((p->flags & F_CHUNKED) != 0) {
    s.cur.frame = framing::chunked;
  } else if (p->content_length != ULLONG_MAX) {
    s.cur.frame = framing::length;
    s.cur.content_length = p->content_length;
  } else if (http_message_needs_eof(p) != 0) {
    s.cur.frame = framing::eof;
  }
  s.cur.keep_alive = http_should_keep_alive(p) != 0;
  return head ? 1 : 0;  // 1: "no body" (the response to a HEAD request)
}

int on_body(http_parser* p, const char* at, std::size_t n) {
  state_of(p).cur.body.append(at, n);
  return 0;
}

int on_message_complete(http_parser* p) {
  theirs_state& s = state_of(p);
  s.flush_field();
  s.cur.keep_alive = http_should_keep_alive(p) != 0;
  s.cur.complete = true;
  s.r.messages.push_back(std::move(s.cur));
  s.cur = {};
  s.headers_done = false;
  s.begun = false;
  return 0;
}

}  // namespace

result run_theirs(std::string_view wire, int kind_pattern) {
  http_parser_settings settings;
  http_parser_settings_init(&settings);
  settings.on_message_begin = on_message_begin;
  settings.on_status = on_status;
  settings.on_header_field = on_header_field;
  settings.on_header_value = on_header_value;
  settings.on_headers_complete = on_headers_complete;
  settings.on_body = on_body;
  settings.on_message_complete = on_message_complete;

  theirs_state s;
  s.kind_pattern = kind_pattern;
  http_parser p;
  http_parser_init(&p, HTTP_RESPONSE);
  p.data = &s;
  if (!wire.empty()) http_parser_execute(&p, &settings, wire.data(), wire.size());
  if (HTTP_PARSER_ERRNO(&p) == HPE_OK && p.upgrade != 0)
    s.r.stopped = true;  // 101 with Upgrade: the rest belongs to another protocol
  else if (HTTP_PARSER_ERRNO(&p) == HPE_OK)
    http_parser_execute(&p, &settings, nullptr, 0);  // EOF
  if (HTTP_PARSER_ERRNO(&p) != HPE_OK) {
    s.r.error = true;
    s.r.error_name = http_errno_name(HTTP_PARSER_ERRNO(&p));
    s.r.error_at = s.r.messages.size();
    if (s.begun) {
      s.flush_field();
      s.r.messages.push_back(std::move(s.cur));
    }
  }
  return s.r;
}

namespace {

// ---- comparison --------------------------------------------------------------------------------------
std::string printable(std::string_view s, std::size_t max = 100) {
  std::string out;
  static constexpr char hex[] = "0123456789abcdef";
  for (char c : s.substr(0, max)) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\r')
      out += "\\r";
    else if (c == '\n')
      out += "\\n";
    else if (u >= 0x20 && u < 0x7f && c != '\\')
      out += c;
    else
      out += {'\\', 'x', hex[u >> 4], hex[u & 15]};
  }
  if (s.size() > max) out += "...";
  return out;
}

std::string describe(const std::vector<field>& fs) {
  std::string s = "{";
  for (const field& f : fs)
    s += " [" + printable(f.name) + ": " + printable(f.value) + "]";
  return s + " }";
}

std::string describe(const result& r) {
  std::string s;
  for (std::size_t i = 0; i < r.messages.size(); ++i) {
    const message& m = r.messages[i];
    s += "\n    #" + std::to_string(i) + (m.complete ? "" : " (incomplete)") + " " +
         std::to_string(m.status) + " v" + std::to_string(m.version) + " ka=" + (m.keep_alive ? "1" : "0") +
         " frame=" + framing_name(m.frame) +
         (m.frame == framing::length ? "(" + std::to_string(m.content_length) + ")" : "") +
         " fields=" + describe(m.fields) + " body=\"" + printable(m.body) + "\"" +
         (m.trailers.empty() ? "" : " trailers=" + describe(m.trailers));
  }
  if (r.error) s += "\n    error in #" + std::to_string(r.error_at) + ": " + r.error_name;
  if (r.stopped) s += "\n    stopped (the rest is not HTTP)";
  return s;
}

std::optional<std::string> compare_message(const message& a, const message& b, std::size_t i) {
  const std::string at = " of #" + std::to_string(i);
  if (a.status != b.status) return "status" + at;
  if (a.version != b.version) return "version" + at;
  if (a.fields.size() != b.fields.size()) return "field count" + at;
  for (std::size_t j = 0; j < a.fields.size(); ++j) {
    if (a.fields[j].name != b.fields[j].name) return "field name" + at;
    if (a.fields[j].value != b.fields[j].value) return "field value" + at;
  }
  if (a.frame != framing::none && a.frame != b.frame) return "framing" + at;
  if (a.frame == framing::length && a.content_length != b.content_length) return "content-length" + at;
  if (a.body != b.body) return "body" + at;
  if (a.trailers != b.trailers) return "trailers" + at;
  if (a.keep_alive != b.keep_alive) return "keep-alive" + at;
  return std::nullopt;
}

// The first difference, or nullopt when the parsers agree. Once ours has ended the exchange (a response
// that is not keep-alive), what http_parser does with the rest is not compared: its non-strict build parses
// on where a client stops reading HTTP.
}  // namespace

std::optional<std::string> first_difference(const result& ours, const result& theirs) {
  const std::size_t ours_complete = ours.error ? ours.error_at : ours.messages.size();
  const std::size_t horizon = !ours.error && ours.stopped ? ours_complete : SIZE_MAX;
  const bool theirs_failed = theirs.error && theirs.error_at < horizon;
  const std::size_t theirs_complete =
      std::min(theirs_failed ? theirs.error_at : theirs.messages.size(), horizon);
  if (ours.error != theirs_failed)
    return std::string(ours.error ? "accept/reject: only ours rejects"
                                  : "accept/reject: only theirs rejects");
  if (ours.error && ours.error_at != theirs.error_at)
    return std::string("accept/reject: in different messages");
  if (!ours.error && !theirs.stopped && ours_complete != theirs_complete) return std::string("message count");
  for (std::size_t i = 0; i < std::min(ours_complete, theirs_complete); ++i)
    if (auto d = compare_message(ours.messages[i], theirs.messages[i], i)) return d;
  return std::nullopt;
}

namespace {

// ---- the corpus --------------------------------------------------------------------------------------
std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct corpus_file {
  std::string name;  // "response/seed-x"
  std::string wire;
  int kind_pattern = 0;
};

std::vector<corpus_file> load_corpus() {
  std::vector<corpus_file> files;
  const fs::path root = sentinel::test::required_env("SENTINEL_FUZZ_CORPUS_DIR");
  for (const char* target : {"response", "chunked"}) {
    std::vector<fs::path> paths;
    for (const auto& e : fs::directory_iterator(root / target))
      if (e.is_regular_file()) paths.push_back(e.path());
    std::sort(paths.begin(), paths.end());
    for (const fs::path& p : paths) {
      const std::string bytes = read_file(p);
      if (bytes.empty()) continue;  // no mode byte: the fuzz targets ignore it too
      corpus_file f;
      f.name = std::string(target) + "/" + p.filename().string();
      if (std::string_view(target) == "chunked") {
        f.wire = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + bytes.substr(1);
      } else {
        f.wire = bytes.substr(1);
        f.kind_pattern = static_cast<std::uint8_t>(bytes[0]) & 3;
      }
      files.push_back(std::move(f));
    }
  }
  return files;
}

}  // namespace
}  // namespace differential

using namespace differential;

TEST_CASE("differential: our response parser against libhttp-parser on the fuzz corpora", "[fuzz]") {
  const std::vector<corpus_file> files = load_corpus();
  REQUIRE(files.size() > 50);
  const bool verbose = std::getenv("SENTINEL_DIFF_VERBOSE") != nullptr;  // print every disagreement
  std::size_t agree = 0, skipped = 0, justified = 0, unexplained = 0;
  std::map<std::string, std::vector<std::string>> by_rule;
  for (const corpus_file& f : files) {
    // A response to CONNECT (kind pattern 2, and 3 which cycles through it): http_parser cannot be told.
    if (f.kind_pattern >= 2) {
      ++skipped;
      continue;
    }
    diff_case c{f.wire, run_ours(f.wire, f.kind_pattern), run_theirs(f.wire, f.kind_pattern), f.kind_pattern};
    if (!first_difference(c.ours, c.theirs)) {
      ++agree;
      continue;
    }
    std::vector<std::string> rules;
    result ours = c.ours, theirs = c.theirs;
    for (const normalization& n : normalizations()) {
      if (!first_difference(ours, theirs)) break;
      if (n.apply(c, ours, theirs)) rules.push_back(n.id);
    }
    bool explained = !first_difference(ours, theirs);
    if (!explained) {
      const diff_case normalized{f.wire, ours, theirs, f.kind_pattern};
      for (const acceptance& a : acceptances())
        if (a.explains(normalized)) {
          rules.push_back(a.id);
          explained = true;
          break;
        }
    }
    INFO(f.name << ": " << *first_difference(c.ours, c.theirs) << "\n  wire: \"" << printable(f.wire, 300)
                << "\"\n  ours:" << describe(c.ours) << "\n  theirs:" << describe(c.theirs));
    CHECK(explained);
    if (verbose)
      WARN(f.name << " [" << (rules.empty() ? "?" : rules.back())
                  << "]: " << *first_difference(c.ours, c.theirs) << "\n  wire: \"" << printable(f.wire, 300)
                  << "\"\n  ours:" << describe(c.ours) << "\n  theirs:" << describe(c.theirs));
    if (!explained) rules = {"UNEXPLAINED"};
    ++(explained ? justified : unexplained);
    std::string label;
    for (const std::string& r : rules)
      label += (label.empty() ? "" : " + ") + r;
    by_rule[label].push_back(f.name);
  }
  std::string summary = "files: " + std::to_string(files.size()) + ", agree: " + std::to_string(agree) +
                        ", disagree (justified by the allow-list): " + std::to_string(justified) +
                        ", unexplained: " + std::to_string(unexplained) +
                        ", skipped (CONNECT): " + std::to_string(skipped);
  for (const auto& [rule, names] : by_rule) {
    summary += "\n  " + rule + ": " + std::to_string(names.size());
    for (std::size_t i = 0; i < names.size() && i < 4; ++i)
      summary += (i == 0 ? " (" : ", ") + names[i];
    summary += names.size() > 4 ? ", ...)" : ")";
  }
  WARN(summary);
}
