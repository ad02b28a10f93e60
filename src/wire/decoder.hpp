// sentinel: streaming content decoding (Content-Encoding: gzip, deflate, br, zstd).
//
// zlib, libbrotlidec and libzstd do the work (Debian packages; br and zstd are optional at build time).
// Decoding streams through a fixed 16 KiB output buffer, so memory stays bounded whatever the body size;
// the caller enforces the decoded-size limit (decompression bombs) on the output it receives. A gzip body
// may hold several members (RFC 1952 §2.2); all are decoded, and bytes after a member that do not start
// another one are bad_content_encoding.
#pragma once

#include <sentinel/error.hpp>

#include <memory>
#include <string_view>
#include <system_error>
#include <vector>

namespace sentinel::detail {

/// A non-owning reference to a callable `std::error_code(std::string_view)`: no allocation, unlike
/// std::function (decoding calls through one per output block).
class sink_ref {
 public:
  template <class F>
  sink_ref(F& f) noexcept  // NOLINT: implicit on purpose, like std::function_ref
      : obj_(&f), call_([](void* o, std::string_view d) { return (*static_cast<F*>(o))(d); }) {}
  std::error_code operator()(std::string_view d) const { return call_(obj_, d); }

 private:
  void* obj_;
  std::error_code (*call_)(void*, std::string_view);
};

/// One content coding's decoder.
class coding_decoder {
 public:
  using sink = sink_ref;
  virtual ~coding_decoder() = default;
  /// Decodes `in`, passing decoded bytes to `out` (possibly several times). bad_content_encoding when the
  /// input is corrupt; `out`'s error stops decoding and is returned.
  virtual std::error_code write(std::string_view in, const sink& out) = 0;
  /// The input ended: bad_content_encoding unless the compressed stream ended properly.
  virtual std::error_code finish(const sink& out) = 0;
};

/// The value we send as Accept-Encoding: what this build can decode, best first.
std::string_view supported_accept_encoding() noexcept;

/// A chain of decoders for a Content-Encoding field value ("gzip", "br", "deflate, gzip" ...), applied in
/// reverse order of the list, as RFC 9110 §8.4 says. "identity" is skipped. Fails with
/// unsupported_content_encoding for a coding this build cannot decode.
class content_decoder {
 public:
  std::error_code init(std::string_view content_encoding);
  void reset() noexcept {
    chain_.clear();
    saw_input_ = false;
  }
  bool active() const noexcept { return !chain_.empty(); }
  std::error_code write(std::string_view in, const coding_decoder::sink& out);
  std::error_code finish(const coding_decoder::sink& out);

 private:
  std::error_code run(std::size_t i, std::string_view in, bool last, const coding_decoder::sink& out);
  std::vector<std::unique_ptr<coding_decoder>> chain_;  // chain_[0] decodes the wire bytes
  bool saw_input_ = false;
};

}  // namespace sentinel::detail
