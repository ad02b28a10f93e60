// sentinel: header field storage.
//
// Invariant: chars_ is exactly the concatenation, in index order, of every field's name followed by its
// value; there are no unused bytes. Every edit keeps it, so the buffer never grows past what the fields
// need, however many set()/erase() calls a long-lived object sees.
#include <sentinel/headers.hpp>

#include "wire/chars.hpp"

#include <cstring>
#include <functional>
#include <limits>
#include <stdexcept>

namespace sentinel {
namespace {

constexpr std::size_t max_chars = std::numeric_limits<std::uint32_t>::max();

// Offsets are 32-bit to keep the index small; refuse loudly rather than wrap around.
void check_capacity(std::size_t current, std::size_t added) {
  if (added > max_chars - current) throw std::length_error("sentinel::headers: more than 4 GiB of fields");
}

// RFC 9110 §5.6.1: list elements are separated by commas with optional whitespace (SP / HTAB) around them.
using detail::chars::is_ows;
using detail::chars::trim_ows;

// True when `s` views bytes inside `buf` (std::less gives a total order even for unrelated pointers).
bool points_into(const std::string& buf, std::string_view s) noexcept {
  const std::less<const char*> before{};
  return !s.empty() && !before(s.data(), buf.data()) && before(s.data(), buf.data() + buf.size());
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) noexcept {
  return detail::chars::iequals(a, b);
}

void headers::assign(std::span<const header_field> fields) {
  clear();
  std::size_t total = 0;
  for (const auto& [name, value] : fields) {
    check_capacity(total, name.size());
    total += name.size();
    check_capacity(total, value.size());
    total += value.size();
  }
  chars_.reserve(total);
  index_.reserve(fields.size());
  for (const auto& [name, value] : fields)
    add(name, value);
}

void headers::add(std::string_view name, std::string_view value) {
  check_capacity(chars_.size(), name.size());
  check_capacity(chars_.size() + name.size(), value.size());
  // A view into our own buffer (h.add("X", h[0].value)) would dangle if append() reallocates.
  if (points_into(chars_, name) || points_into(chars_, value)) {
    const std::string copy = std::string(name).append(value);
    add(std::string_view(copy).substr(0, name.size()), std::string_view(copy).substr(name.size()));
    return;
  }
  const auto off = static_cast<std::uint32_t>(chars_.size());
  index_.push_back({off, static_cast<std::uint32_t>(name.size()),
                    static_cast<std::uint32_t>(off + name.size()), static_cast<std::uint32_t>(value.size())});
  try {
    chars_.append(name).append(value);
  } catch (...) {
    chars_.resize(off);  // strong guarantee: the index and the bytes stay in step
    index_.pop_back();
    throw;
  }
}

void headers::set(std::string_view name, std::string_view value) {
  std::size_t first = index_.size();
  for (std::size_t i = 0; i < index_.size(); ++i) {
    if (iequals((*this)[i].name, name)) {
      first = i;
      break;
    }
  }
  if (first == index_.size()) {
    add(name, value);
    return;
  }
  // The field stays where the first one was (order can matter to servers); later duplicates go.
  const entry old = index_[first];
  const std::size_t old_len = std::size_t{old.name_len} + old.value_len;
  check_capacity(chars_.size() - old_len, name.size());
  check_capacity(chars_.size() - old_len + name.size(), value.size());
  const std::size_t new_len = name.size() + value.size();
  if (points_into(chars_, name) || points_into(chars_, value)) {  // we are about to rewrite those bytes
    const std::string copy = std::string(name).append(value);
    set(std::string_view(copy).substr(0, name.size()), std::string_view(copy).substr(name.size()));
    return;
  }
  chars_.reserve(chars_.size() - old_len + new_len);  // the only step that can throw: nothing changed yet

  // Drop the later duplicates; they all sit after `first`, so its offset does not move.
  std::size_t keep = first + 1;
  std::size_t write = std::size_t{old.name_off} + old_len;
  for (std::size_t i = first + 1; i < index_.size(); ++i) {
    const entry e = index_[i];
    if (iequals((*this)[i].name, name)) continue;
    const std::size_t len = std::size_t{e.name_len} + e.value_len;
    if (write != e.name_off) std::memmove(chars_.data() + write, chars_.data() + e.name_off, len);
    index_[keep++] = {static_cast<std::uint32_t>(write), e.name_len,
                      static_cast<std::uint32_t>(write + e.name_len), e.value_len};
    write += len;
  }
  index_.resize(keep);
  chars_.resize(write);

  // Rewrite the first field's bytes in place, sliding the tail by the change in length.
  const std::size_t at = old.name_off;
  const std::size_t tail_from = at + old_len;
  const std::size_t tail_len = chars_.size() - tail_from;
  if (new_len > old_len) chars_.resize(chars_.size() + (new_len - old_len));  // within the reservation
  std::memmove(chars_.data() + at + new_len, chars_.data() + tail_from, tail_len);
  if (new_len < old_len) chars_.resize(at + new_len + tail_len);
  if (!name.empty()) std::memcpy(chars_.data() + at, name.data(), name.size());
  if (!value.empty()) std::memcpy(chars_.data() + at + name.size(), value.data(), value.size());

  index_[first] = {old.name_off, static_cast<std::uint32_t>(name.size()),
                   static_cast<std::uint32_t>(at + name.size()), static_cast<std::uint32_t>(value.size())};
  for (std::size_t i = first + 1; i < index_.size(); ++i) {
    // Unsigned wrap-around is well defined and lands on the right offset whether the field grew or shrank.
    index_[i].name_off = static_cast<std::uint32_t>(index_[i].name_off - old_len + new_len);
    index_[i].value_off = static_cast<std::uint32_t>(index_[i].value_off - old_len + new_len);
  }
}

std::size_t headers::erase(std::string_view name) {
  // Compact in place: surviving fields slide left over the removed ones, offsets follow.
  std::size_t keep = 0;
  std::size_t write = 0;
  for (std::size_t i = 0; i < index_.size(); ++i) {
    const entry e = index_[i];
    if (iequals((*this)[i].name, name)) continue;
    const std::size_t len = std::size_t{e.name_len} + e.value_len;
    if (write != e.name_off) std::memmove(chars_.data() + write, chars_.data() + e.name_off, len);
    index_[keep++] = {static_cast<std::uint32_t>(write), e.name_len,
                      static_cast<std::uint32_t>(write + e.name_len), e.value_len};
    write += len;
  }
  const std::size_t removed = index_.size() - keep;
  index_.resize(keep);
  chars_.resize(write);
  return removed;
}

void headers::clear() noexcept {
  chars_.clear();
  index_.clear();
}

std::optional<std::string_view> headers::get(std::string_view name) const noexcept {
  for (const field_view f : *this)
    if (iequals(f.name, name)) return f.value;
  return std::nullopt;
}

std::vector<std::string_view> headers::get_all(std::string_view name) const {
  std::vector<std::string_view> out;
  for (const field_view f : *this)
    if (iequals(f.name, name)) out.push_back(f.value);
  return out;
}

std::size_t headers::count(std::string_view name) const noexcept {
  std::size_t n = 0;
  for (const field_view f : *this)
    if (iequals(f.name, name)) ++n;
  return n;
}

bool headers::has_token(std::string_view name, std::string_view token) const noexcept {
  token = trim_ows(token);
  if (token.empty()) return false;  // empty list elements do not count (RFC 9110 §5.6.1)
  for (const field_view f : *this) {
    if (!iequals(f.name, name)) continue;
    std::string_view rest = f.value;
    while (true) {
      const std::size_t comma = rest.find(',');
      if (iequals(trim_ows(rest.substr(0, comma)), token)) return true;
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return false;
}

bool operator==(const headers& a, const headers& b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const field_view x = a[i];
    const field_view y = b[i];
    if (!iequals(x.name, y.name) || x.value != y.value) return false;
  }
  return true;
}

}  // namespace sentinel
