// Differential check: the allow-list. Every entry explains one kind of disagreement between our parser and
// libhttp-parser, narrowly (it looks at the bytes where ours found its error, or at the field involved);
// DIFFERENTIAL.md gives each entry's RFC 9110/9112 clause and says which parser is right.
#include "differential.hpp"

#include <algorithm>
#include <regex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace differential {
namespace {

bool is_ows(char c) {
  return c == ' ' || c == '\t';
}
bool is_ctl(char c) {  // CTLs but HTAB, and DEL (RFC 5234 CTL)
  const auto u = static_cast<unsigned char>(c);
  return (u < 0x20 && c != '\t') || u == 0x7f;
}
bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
std::string_view trim(std::string_view v) {
  while (!v.empty() && is_ows(v.front()))
    v.remove_prefix(1);
  while (!v.empty() && is_ows(v.back()))
    v.remove_suffix(1);
  return v;
}
std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}
std::vector<std::string_view> list_elements(std::string_view v) {
  std::vector<std::string_view> out;
  for (;;) {
    const std::size_t comma = v.find(',');
    out.push_back(trim(v.substr(0, comma)));
    if (comma == std::string_view::npos) return out;
    v.remove_prefix(comma + 1);
  }
}
// `wire` with each LF that has no CR before it preceded by one.
std::string with_crlf_line_ends(std::string_view wire) {
  std::string out;
  out.reserve(wire.size());
  for (std::size_t i = 0; i < wire.size(); ++i) {
    if (wire[i] == '\n' && (i == 0 || wire[i - 1] != '\r')) out += '\r';
    out += wire[i];
  }
  return out;
}

// RFC 9112 §7.1.1 chunk-ext, RFC 9110 §5.6.2 token, §5.6.4 quoted-string, as a regex (written apart from
// the parser's hand-written matcher, so each checks the other). std::regex works on char, which is signed
// here, so obs-text (0x80-0xff, allowed only inside quoted-strings) is first mapped to DEL, which is
// allowed nowhere: an extension that holds a real DEL is off the grammar before the regex runs.
bool matches_chunk_ext_grammar(std::string_view ext) {
  if (ext.find('\x7f') != std::string_view::npos) return false;
  std::string s(ext);
  for (char& ch : s)
    if (static_cast<unsigned char>(ch) >= 0x80) ch = '\x7f';
  static const std::regex grammar(
      R"(^(?:[ \t]*;[ \t]*[-!#$%&'*+.^_`|~0-9A-Za-z]+)"
      R"((?:[ \t]*=[ \t]*(?:[-!#$%&'*+.^_`|~0-9A-Za-z]+|"(?:[\t !#-\[\]-~\x7f]|\\[\t -~\x7f])*"))?)*$)");
  return std::regex_match(s, grammar);
}

bool has_field(const message& m, std::string_view lower_name) {
  return std::any_of(m.fields.begin(), m.fields.end(),
                     [&](const field& f) { return lower(f.name) == lower_name; });
}

template <class F>
bool for_each_value(result& r, F&& f) {
  bool changed = false;
  for (message& m : r.messages)
    for (auto* list : {&m.fields, &m.trailers})
      for (field& fl : *list) {
        std::string v = f(fl.value);
        if (v != fl.value) {
          fl.value = std::move(v);
          changed = true;
        }
      }
  return changed;
}

}  // namespace

const std::vector<normalization>& normalizations() {
  static const std::vector<normalization> list = {
      // RFC 9112 §2.2: a recipient MAY take a bare LF as a line end; ours does everywhere. http_parser's
      // non-strict build does in the head and trailers, but not in chunk-size lines, and after chunk data it
      // skips any two bytes (so "hello\n0\r\n" loses the "0"). Its result is replaced by its result for
      // the same bytes with every bare LF made CRLF: what remains is a real disagreement (a body containing
      // bare LFs changes too, so such a file is not explained by this alone).
      {"bare-lf-line-ends",
       [](const diff_case& c, result&, result& theirs) {
         const std::string crlf = with_crlf_line_ends(c.wire);
         if (crlf.size() == c.wire.size()) return false;
         result fresh = run_theirs(crlf, c.kind_pattern);
         const bool changed = theirs.error != fresh.error || first_difference(theirs, fresh).has_value();
         theirs = std::move(fresh);
         return changed;
       }},
      // RFC 9110 §5.5: OWS around a field value is not part of it. http_parser keeps trailing OWS.
      {"theirs-keeps-trailing-ows",
       [](const diff_case&, result&, result& theirs) {
         return for_each_value(theirs, [](const std::string& v) { return std::string(trim(v)); });
       }},
      // RFC 9112 §5.2: a user agent replaces each obs-fold with one or more SP. Ours writes SP over the line
      // end and the fold's whitespace; http_parser drops the line end and keeps the whitespace (HTAB too).
      {"obs-fold-whitespace",
       [](const diff_case& c, result& ours, result& theirs) {
         // A fold follows a line end, CRLF or a bare LF (RFC 9112 §2.2).
         if (c.wire.find("\n ") == std::string_view::npos && c.wire.find("\n\t") == std::string_view::npos)
           return false;
         auto collapse = [](const std::string& v) {
           std::string out;
           for (char ch : v) {
             if (is_ows(ch)) {
               if (!out.empty() && out.back() == ' ') continue;
               ch = ' ';
             }
             out += ch;
           }
           return out;
         };
         const bool a = for_each_value(ours, collapse);
         const bool b = for_each_value(theirs, collapse);
         return a || b;
       }},
      // RFC 9110 §7.8, §15.2.2: after 101 the connection speaks another protocol; it never carries another
      // HTTP/1.1 exchange. http_should_keep_alive() does not look at the status.
      {"101-not-reusable",
       [](const diff_case&, result&, result& theirs) {
         bool changed = false;
         for (message& m : theirs.messages)
           if (m.status == 101 && m.keep_alive) m.keep_alive = false, changed = true;
         return changed;
       }},
      // RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 message means faulty framing: close after it.
      {"http10-transfer-encoding-closes",
       [](const diff_case&, result&, result& theirs) {
         bool changed = false;
         for (message& m : theirs.messages)
           if (m.version == 10 && has_field(m, "transfer-encoding") && m.keep_alive)
             m.keep_alive = false, changed = true;
         return changed;
       }},
      // RFC 9110 §2.5: HTTP/1.x with x > 1 is processed as the highest minor version we implement (1.1).
      {"http-minor-version-above-1",
       [](const diff_case&, result&, result& theirs) {
         bool changed = false;
         for (message& m : theirs.messages)
           if (m.version > 11 && m.version <= 19) m.version = 11, changed = true;
         return changed;
       }},
  };
  return list;
}

const std::vector<acceptance>& acceptances() {
  static const std::vector<acceptance> list = {
      // Nothing at all before EOF: ours says unexpected_eof (the connection reports empty_reply); http_parser
      // has no message and no error. Not a parsing difference.
      {"empty-stream", [](const diff_case& c) { return c.wire.empty(); }},
      // RFC 9110 §15.2: a 1xx response is interim; the final response must follow. EOF right after one is
      // unexpected_eof for ours, while http_parser, a message parser, sees a complete message.
      {"eof-after-interim",
       [](const diff_case& c) {
         if (!c.only_ours_rejects() || !c.ours_failed_with(error::unexpected_eof) || c.ours.error_at == 0 ||
             c.ours.messages.size() != c.ours.error_at)
           return false;
         const message& last = c.ours.messages.back();
         return last.status >= 100 && last.status < 200 && last.status != 101;
       }},
      // RFC 9112 §2.2 lets a *server* skip empty lines before a request-line; a response has no such rule.
      // http_parser skips CR/LF before a status line.
      {"empty-line-before-status-line",
       [](const diff_case& c) {
         const std::string_view b = c.ours_error_bytes();
         return c.only_ours_rejects() && c.ours_failed_with(error::bad_status_line) && !b.empty() &&
                (b[0] == '\r' || b[0] == '\n');
       }},
      // RFC 9110 §5.1 (field-name = token), RFC 9112 §5.1 (no whitespace before the colon), RFC 9112 §2.2 (a
      // whitespace-preceded line after the start-line must be rejected or ignored). http_parser's non-strict
      // build takes SP into field names.
      {"whitespace-in-field-name",
       [](const diff_case& c) {
         const message* m = c.theirs_message(c.ours.error_at);
         if (!c.only_ours_rejects() || !c.ours_failed_with(error::bad_header) || m == nullptr) return false;
         for (const auto* list : {&m->fields, &m->trailers})
           for (const field& f : *list)
             if (f.name.find_first_of(" \t") != std::string::npos) return true;
         return false;
       }},
      // RFC 9110 §5.5: CTLs in a field value are invalid (CR, NUL dangerous); a recipient may reject.
      // Also RFC 9112 §4 for the reason phrase (HTAB / SP / VCHAR / obs-text).
      {"ctl-in-field-value-or-reason",
       [](const diff_case& c) {
         if (!c.only_ours_rejects() ||
             !(c.ours_failed_with(error::bad_header) || c.ours_failed_with(error::bad_status_line)))
           return false;
         const std::string_view b = c.ours_error_bytes();
         // Every LF ends a line (RFC 9112 §2.2), and so does a CR right before one; any other CTL is in a
         // line.
         for (std::size_t i = 0; i < b.size(); ++i)
           if (is_ctl(b[i]) && b[i] != '\n' && !(b[i] == '\r' && i + 1 < b.size() && b[i + 1] == '\n'))
             return true;
         return false;
       }},
      // RFC 9110 §15: the first digit of a status code is its class, 1 to 5; "0xx" is no class at all.
      {"status-below-100",
       [](const diff_case& c) {
         const message* m = c.theirs_message(c.ours.error_at);
         return c.only_ours_rejects() && c.ours_failed_with(error::bad_status_line) && m != nullptr &&
                m->status < 100;
       }},
      // RFC 9112 §2.3: HTTP-version = "HTTP/" DIGIT "." DIGIT, and a client speaks HTTP/1.x only.
      {"http-version-not-1.x",
       [](const diff_case& c) {
         const message* m = c.theirs_message(c.ours.error_at);
         return c.only_ours_rejects() && c.ours_failed_with(error::bad_status_line) && m != nullptr &&
                (m->version < 10 || m->version > 19);
       }},
      // RFC 9110 §8.6: a list of identical Content-Length values (one field or several) MAY be accepted as
      // that value, or rejected. We accept; http_parser rejects.
      {"identical-content-lengths",
       [](const diff_case& c) {
         if (!c.only_theirs_rejects() || c.theirs.error_at >= c.ours.messages.size()) return false;
         const message& m = c.ours.messages[c.theirs.error_at];
         if (has_field(m, "transfer-encoding") || m.frame != framing::length) return false;
         std::size_t values = 0;
         for (const field& f : m.fields)
           if (lower(f.name) == "content-length") values += list_elements(f.value).size();
         return values >= 2;
       }},
      // RFC 9112 §6.3 (3): Transfer-Encoding overrides Content-Length; such a message "ought to be handled as
      // an error". Ours frames it by TE and never reuses the connection; http_parser rejects it.
      {"transfer-encoding-with-content-length",
       [](const diff_case& c) {
         if (!c.only_theirs_rejects() || c.theirs.error_at >= c.ours.messages.size()) return false;
         const message& m = c.ours.messages[c.theirs.error_at];
         return has_field(m, "transfer-encoding") && has_field(m, "content-length") && !m.keep_alive &&
                c.theirs.error_name == "HPE_UNEXPECTED_CONTENT_LENGTH";
       }},
      // RFC 9112 §6.1/§6.3 (4): a final coding other than chunked means "read until close", and codings
      // before
      // chunked must be undone by the recipient. Ours implements only "chunked" alone and refuses the rest
      // (bad_transfer_encoding) instead of handing out still-encoded bytes as the body, as http_parser does.
      {"unsupported-transfer-coding",
       [](const diff_case& c) {
         return c.only_ours_rejects() && c.ours_failed_with(error::bad_transfer_encoding);
       }},
      // RFC 9110 §5.6.1: empty list elements are ignored. http_parser misses "chunked" in ", chunked" and
      // reads
      // the body until close.
      {"transfer-encoding-empty-list-element",
       [](const diff_case& c) {
         for (std::size_t i = 0; i < c.ours.messages.size() && i < c.theirs.messages.size(); ++i) {
           const message& a = c.ours.messages[i];
           if (a.frame != framing::chunked || c.theirs.messages[i].frame == framing::chunked) continue;
           for (const field& f : a.fields)
             if (lower(f.name) == "transfer-encoding")
               for (std::string_view e : list_elements(f.value))
                 if (e.empty()) return true;
         }
         return false;
       }},
      // RFC 9112 §6.3 (1), RFC 9110 §15.2: a 1xx, 204 or 304 response (and any response to HEAD) ends with
      // its
      // header section. http_parser 2.9.4 expects a body when such a response has Content-Length or
      // Transfer-Encoding.
      {"bodiless-status-with-framing-fields",
       [](const diff_case& c) {
         for (std::size_t i = 0; i < c.ours.messages.size() && i < c.theirs.messages.size(); ++i) {
           const message& a = c.ours.messages[i];
           const message& b = c.theirs.messages[i];
           const bool bodiless = a.status < 200 || a.status == 204 || a.status == 304;
           if (bodiless && a.frame == framing::none && b.frame != framing::none && b.frame != framing::eof &&
               (b.frame == framing::chunked || b.content_length != 0))
             return true;
         }
         return false;
       }},
      // RFC 9112 §7.1: chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF. http_parser does not check the
      // CRLF after chunk-data (it skips any two bytes), so "5\r\nhelloXY" passes.
      {"no-crlf-after-chunk-data",
       [](const diff_case& c) {
         const std::string_view b = c.ours_error_bytes();
         return c.only_ours_rejects() && c.ours_failed_with(error::bad_chunk) && !b.empty() &&
                b.size() <= 2 && b != "\r" && b.back() != '\n';
       }},
      // RFC 9112 §7.1.1: chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ), a name a
      // token, a value a token or a quoted-string. Ours parses extensions to that grammar; http_parser skips
      // them to the line end. Checked here against an independent regex of the grammar, so this rule
      // explains a rejection only when the extension really is off the grammar (a CTL, a bare CR, obs-text
      // in a name, an unbalanced quote, trailing whitespace, whitespace after the size without ";", ...).
      {"chunk-extension-grammar",
       [](const diff_case& c) {
         std::string_view b = c.ours_error_bytes();
         if (!c.only_ours_rejects() || !c.ours_failed_with(error::bad_chunk) || !b.ends_with("\n"))
           return false;
         b.remove_suffix(b.ends_with("\r\n") ? 2 : 1);
         std::size_t i = 0;
         while (i < b.size() && is_hex(b[i]))
           ++i;
         return i > 0 && !matches_chunk_ext_grammar(b.substr(i));
       }},
      // RFC 9112 §7.1.1: chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ), and BWS
      // includes HTAB. http_parser rejects "0\t;x" (and some other BWS) with HPE_INVALID_CHUNK_SIZE.
      {"bws-in-chunk-extension",
       [](const diff_case& c) {
         if (!c.only_theirs_rejects() || c.theirs.error_name != "HPE_INVALID_CHUNK_SIZE") return false;
         for (std::size_t i = 0; i + 1 < c.wire.size(); ++i)
           if (is_hex(c.wire[i]) && is_ows(c.wire[i + 1])) {
             std::size_t j = i + 1;
             while (j < c.wire.size() && is_ows(c.wire[j]))
               ++j;
             if (j < c.wire.size() && c.wire[j] == ';') return true;
           }
         return false;
       }},
      // Our documented limits (parser_limits defaults: 64 KiB head and line, 100 fields, 4 KiB chunk line).
      {"our-limits",
       [](const diff_case& c) {
         return c.only_ours_rejects() && (c.ours_failed_with(error::header_too_large) ||
                                          c.ours_failed_with(error::header_line_too_long) ||
                                          c.ours_failed_with(error::too_many_headers) ||
                                          c.ours_failed_with(error::chunk_line_too_long));
       }},
  };
  return list;
}

}  // namespace differential
