// sentinel: an ordered, case-insensitive multimap of HTTP header fields.
#pragma once

#include <sentinel/config.hpp>

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sentinel {

/// One header field as seen through `headers`: views into the owning `headers` object, valid until it is
/// modified or destroyed.
struct field_view {
  std::string_view name;
  std::string_view value;
};

/// One field given to a `headers` constructor: `{"Accept", "text/plain"}`.
struct header_field {
  std::string_view name;
  std::string_view value;
};

/// ASCII case-insensitive equality, as header names and schemes compare (RFC 9110 §5.1).
bool iequals(std::string_view a, std::string_view b) noexcept;

/// An ordered list of header fields with case-insensitive lookup.
///
/// Repeated fields are kept, in the order they were added or received (`Set-Cookie` depends on it).
/// Names and values are stored as given; nothing is validated here: the serializer refuses CR, LF and NUL
/// (and bad name characters) when a request is sent, with `error::invalid_request`.
///
/// All fields share one character buffer plus a small index, so `clear()` followed by refilling reuses
/// the memory: a response object reused across requests does not allocate for its headers.
/// @par Thread safety  A value type: distinct objects are independent; const access is safe concurrently.
class headers {
  struct entry {
    std::uint32_t name_off, name_len, value_off, value_len;
  };

 public:
  headers() = default;
  /// `headers{{"Accept", "text/plain"}, {"X-Trace", "1"}}`, also as a braced argument:
  /// `c.get(url, {{"Accept", "text/plain"}})`. One constructor per count (1 to 8) rather than an
  /// initializer_list: g++ 12 rejects an initializer_list's backing array inside a `co_await` operand
  /// ("array used as initializer"), which is where these lists are usually written. More fields: add().
  headers(header_field f1) { assign({&f1, 1}); }
  headers(header_field f1, header_field f2) {
    const header_field f[] = {f1, f2};
    assign(f);
  }
  headers(header_field f1, header_field f2, header_field f3) {
    const header_field f[] = {f1, f2, f3};
    assign(f);
  }
  headers(header_field f1, header_field f2, header_field f3, header_field f4) {
    const header_field f[] = {f1, f2, f3, f4};
    assign(f);
  }
  headers(header_field f1, header_field f2, header_field f3, header_field f4, header_field f5) {
    const header_field f[] = {f1, f2, f3, f4, f5};
    assign(f);
  }
  headers(header_field f1, header_field f2, header_field f3, header_field f4, header_field f5,
          header_field f6) {
    const header_field f[] = {f1, f2, f3, f4, f5, f6};
    assign(f);
  }
  headers(header_field f1, header_field f2, header_field f3, header_field f4, header_field f5,
          header_field f6, header_field f7) {
    const header_field f[] = {f1, f2, f3, f4, f5, f6, f7};
    assign(f);
  }
  headers(header_field f1, header_field f2, header_field f3, header_field f4, header_field f5,
          header_field f6, header_field f7, header_field f8) {
    const header_field f[] = {f1, f2, f3, f4, f5, f6, f7, f8};
    assign(f);
  }

  /// Appends a field (keeps any existing field of the same name).
  void add(std::string_view name, std::string_view value);
  /// Replaces every field named `name` with one field (appended if there was none).
  void set(std::string_view name, std::string_view value);
  /// Removes every field named `name`; returns how many were removed.
  std::size_t erase(std::string_view name);
  /// Removes every field.  Keeps the storage for reuse.
  void clear() noexcept;
  /// Makes room for `fields` more fields holding `bytes` more bytes of names and values, so that adding
  /// them allocates at most twice (once for the bytes, once for the index).
  void reserve(std::size_t bytes, std::size_t fields) {
    chars_.reserve(chars_.size() + bytes);
    index_.reserve(index_.size() + fields);
  }

  /// The value of the first field named `name`, if any.
  std::optional<std::string_view> get(std::string_view name) const noexcept;
  /// The value of the first field named `name`, or `fallback`.
  std::string_view value_or(std::string_view name, std::string_view fallback) const noexcept {
    return get(name).value_or(fallback);
  }
  bool contains(std::string_view name) const noexcept { return get(name).has_value(); }
  /// Every value of fields named `name`, in order.
  std::vector<std::string_view> get_all(std::string_view name) const;
  /// Number of fields named `name`.
  std::size_t count(std::string_view name) const noexcept;
  /// True when some field named `name` contains `token` in its comma-separated list, case-insensitively
  /// (`has_token("Connection", "close")`).
  bool has_token(std::string_view name, std::string_view token) const noexcept;

  std::size_t size() const noexcept { return index_.size(); }
  bool empty() const noexcept { return index_.empty(); }
  /// The i-th field, 0 <= i < size().
  field_view operator[](std::size_t i) const noexcept {
    const entry& e = index_[i];
    return {std::string_view(chars_).substr(e.name_off, e.name_len),
            std::string_view(chars_).substr(e.value_off, e.value_len)};
  }

  /// Random-access iteration over field_views.
  class const_iterator {
   public:
    using iterator_category = std::random_access_iterator_tag;
    using value_type = field_view;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = field_view;
    const_iterator() = default;
    field_view operator*() const noexcept { return (*h_)[i_]; }
    const_iterator& operator++() noexcept {
      ++i_;
      return *this;
    }
    const_iterator operator++(int) noexcept {
      auto t = *this;
      ++i_;
      return t;
    }
    const_iterator& operator--() noexcept {
      --i_;
      return *this;
    }
    const_iterator operator--(int) noexcept {
      auto t = *this;
      --i_;
      return t;
    }
    const_iterator& operator+=(difference_type n) noexcept {
      i_ += n;
      return *this;
    }
    const_iterator& operator-=(difference_type n) noexcept {
      i_ -= n;
      return *this;
    }
    friend const_iterator operator+(const_iterator it, difference_type n) noexcept { return it += n; }
    friend const_iterator operator+(difference_type n, const_iterator it) noexcept { return it += n; }
    friend const_iterator operator-(const_iterator it, difference_type n) noexcept { return it -= n; }
    friend difference_type operator-(const const_iterator& a, const const_iterator& b) noexcept {
      return static_cast<difference_type>(a.i_) - static_cast<difference_type>(b.i_);
    }
    field_view operator[](difference_type n) const noexcept { return *(*this + n); }
    friend bool operator==(const const_iterator& a, const const_iterator& b) noexcept { return a.i_ == b.i_; }
    friend auto operator<=>(const const_iterator& a, const const_iterator& b) noexcept {
      return a.i_ <=> b.i_;
    }

   private:
    friend class headers;
    const_iterator(const headers* h, std::size_t i) noexcept : h_(h), i_(i) {}
    const headers* h_ = nullptr;
    std::size_t i_ = 0;
  };
  const_iterator begin() const noexcept { return {this, 0}; }
  const_iterator end() const noexcept { return {this, index_.size()}; }

  /// Fields compare equal when they have the same names (case-insensitively) and values, in order.
  friend bool operator==(const headers& a, const headers& b) noexcept;

 private:
  // Replaces the content with `fields`, in order, reserving once.
  void assign(std::span<const header_field> fields);

  std::string chars_;         // every name and value, back to back
  std::vector<entry> index_;  // one entry per field, in order
};

}  // namespace sentinel
