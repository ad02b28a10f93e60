// sentinel: what is wrong with a URL, in words (url_diagnosis, url_error). The parser (url.cpp) finds
// the failure; this file only explains it, and runs only when someone asked why.
#pragma once

#include <sentinel/url.hpp>

#include <cstdint>
#include <string_view>

namespace sentinel::detail {

/// Where in a URL a byte was refused.
enum class url_component : std::uint8_t { userinfo, host, path, query, fragment };

/// Fills `why` for `problem` found at `part`: a view into `text`, empty at the place where something is
/// missing. Not for illegal_byte (see below).
void diagnose_url(url_diagnosis& why, url_problem problem, std::string_view text, std::string_view part);

/// Fills `why` for the byte `part[i]`, refused in `where` (`part` is a view into `text`).
void diagnose_url_byte(url_diagnosis& why, std::string_view text, std::string_view part, std::size_t i,
                       url_component where);

}  // namespace sentinel::detail
