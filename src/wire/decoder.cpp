// sentinel: streaming content decoding. See decoder.hpp.
#include "wire/decoder.hpp"

#include "wire/chars.hpp"

#include <sentinel/headers.hpp>

#include <zlib.h>
#if SENTINEL_HAS_BROTLI
#include <brotli/decode.h>
#endif
#if SENTINEL_HAS_ZSTD
#include <zstd.h>
#endif

#include <array>
#include <cstdint>

namespace sentinel::detail {
namespace {

constexpr std::size_t out_block = 16 * 1024;

std::error_code corrupt() {
  return make_error_code(error::bad_content_encoding);
}

// gzip, and deflate in both forms servers send: zlib-wrapped (RFC 1950, what the spec says) and raw
// (RFC 1951, what some servers send anyway). The form is decided from the first two bytes.
//
// gzip: RFC 1952 §2.2 "A gzip file consists of a series of members": each member is decoded in turn
// (inflateReset() between them), as gzip -d and Go do. After a member, the next bytes must start another
// member (ID1 ID2 = 1f 8b, RFC 1952 §2.3.1); anything else is bad_content_encoding, not ignored: every body
// byte is accounted for, so a spliced or corrupted body cannot pass as a shorter one. (Go's gzip.Reader
// refuses such bytes too; gzip(1) warns and exits 2; curl 7.88.1 fails after the first member whatever
// follows.) The caller's decoded-size limit sees every member's output, so it bounds the total.
class zlib_decoder final : public coding_decoder {
 public:
  explicit zlib_decoder(bool gzip) : gzip_(gzip) {}
  ~zlib_decoder() override {
    if (started_) inflateEnd(&z_);
  }

  std::error_code write(std::string_view in, const sink& out) override {
    if (!started_) {
      if (in.empty()) return {};
      int bits = 15 + 16;  // gzip only
      if (!gzip_) {
        // A zlib header is CMF/FLG with CM = 8 and (CMF*256 + FLG) % 31 == 0 (RFC 1950 §2.2); we need
        // both bytes to tell, so wait for a second byte.
        if (in.size() + pending_len_ < 2) {
          pending_[pending_len_++] = in[0];
          return {};
        }
        unsigned char b[2];
        std::size_t k = 0;
        for (; k < pending_len_; ++k)
          b[k] = static_cast<unsigned char>(pending_[k]);
        for (std::size_t j = 0; k < 2; ++k, ++j)
          b[k] = static_cast<unsigned char>(in[j]);
        const bool wrapped = (b[0] & 0x0f) == 8 && ((b[0] << 8) | b[1]) % 31 == 0;
        bits = wrapped ? 15 : -15;
      }
      if (inflateInit2(&z_, bits) != Z_OK) return make_error_code(error::internal);
      started_ = true;
      if (pending_len_ > 0) {
        const std::string_view first(pending_.data(), pending_len_);
        pending_len_ = 0;
        if (auto ec = feed(first, out)) return ec;
      }
    }
    return feed(in, out);
  }

  std::error_code finish(const sink& out) override {
    if (!started_) return pending_len_ == 0 ? std::error_code{} : corrupt();
    if (done_) return {};
    if (between_members_) return magic_seen_ ? corrupt() : std::error_code{};  // "\x1f" alone: truncated
    // Flush what inflate still holds; a stream that never reached its end is truncated.
    if (auto ec = feed({}, out)) return ec;
    return done_ || (between_members_ && !magic_seen_) ? std::error_code{} : corrupt();
  }

 private:
  // A loop, not recursion, over the members that end inside `in`: a body may hold thousands of them.
  std::error_code feed(std::string_view in, const sink& out) {
    for (;;) {
      if (done_) return in.empty() ? std::error_code{} : corrupt();  // bytes after the end of the stream
      if (between_members_) {
        if (auto ec = next_member(in, out)) return ec;
        if (between_members_) return {};  // waiting for the rest of the next member's magic
      }
      std::string_view rest;
      if (auto ec = inflate_some(in, out, rest)) return ec;
      if (rest.empty()) return {};
      in = rest;  // a gzip member ended inside `in`: what follows must be the next member
    }
  }

  // Between gzip members: checks that `in` starts the next one (its first magic byte may have come in the
  // previous write), and if so resets inflate and hands it the magic already consumed.
  std::error_code next_member(std::string_view& in, const sink& out) {
    static constexpr char magic[2] = {'\x1f', '\x8b'};
    if (in.empty()) return {};
    if (!magic_seen_) {
      if (in[0] != magic[0]) return corrupt();  // trailing garbage after a member
      magic_seen_ = true;
      in.remove_prefix(1);
      if (in.empty()) return {};
    }
    if (in[0] != magic[1]) return corrupt();
    if (inflateReset(&z_) != Z_OK) return make_error_code(error::internal);
    between_members_ = magic_seen_ = false;
    std::string_view none;                                       // one header byte cannot end a member
    return inflate_some(std::string_view(magic, 1), out, none);  // `in` still holds the second magic byte
  }

  // Inflates `in`. When a gzip member ends, sets `rest` to the input after it; a deflate stream that ends
  // must end the input too.
  std::error_code inflate_some(std::string_view in, const sink& out, std::string_view& rest) {
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z_.avail_in = static_cast<uInt>(in.size());
    std::array<char, out_block> buf;
    for (;;) {
      z_.next_out = reinterpret_cast<Bytef*>(buf.data());
      z_.avail_out = static_cast<uInt>(buf.size());
      const int rc = inflate(&z_, Z_NO_FLUSH);
      const std::size_t produced = buf.size() - z_.avail_out;
      if (produced > 0) {
        if (auto ec = out(std::string_view(buf.data(), produced))) return ec;
      }
      if (rc == Z_STREAM_END) {
        rest = std::string_view(reinterpret_cast<const char*>(z_.next_in), z_.avail_in);
        if (gzip_) {
          between_members_ = true;
          return {};
        }
        done_ = true;
        return rest.empty() ? std::error_code{} : corrupt();
      }
      if (rc == Z_BUF_ERROR) return {};  // needs more input
      if (rc != Z_OK) return corrupt();
      if (z_.avail_in == 0 && z_.avail_out != 0) return {};
    }
  }

  z_stream z_{};
  bool gzip_;
  bool started_ = false;
  bool done_ = false;             // deflate: the stream ended (a gzip body can always go on)
  bool between_members_ = false;  // gzip: a member ended; more input must start the next one
  bool magic_seen_ = false;       // gzip, between members: the next member's first byte (1f) arrived
  std::array<char, 2> pending_{};
  std::size_t pending_len_ = 0;
};

#if SENTINEL_HAS_BROTLI
class brotli_decoder final : public coding_decoder {
 public:
  brotli_decoder() : s_(BrotliDecoderCreateInstance(nullptr, nullptr, nullptr)) {}
  ~brotli_decoder() override { BrotliDecoderDestroyInstance(s_); }

  std::error_code write(std::string_view in, const sink& out) override {
    if (s_ == nullptr) return make_error_code(error::internal);
    auto next_in = reinterpret_cast<const std::uint8_t*>(in.data());
    std::size_t avail_in = in.size();
    std::array<char, out_block> buf;
    for (;;) {
      auto next_out = reinterpret_cast<std::uint8_t*>(buf.data());
      std::size_t avail_out = buf.size();
      const auto rc = BrotliDecoderDecompressStream(s_, &avail_in, &next_in, &avail_out, &next_out, nullptr);
      const std::size_t produced = buf.size() - avail_out;
      if (produced > 0) {
        if (auto ec = out(std::string_view(buf.data(), produced))) return ec;
      }
      switch (rc) {
        case BROTLI_DECODER_RESULT_SUCCESS:
          return avail_in == 0 ? std::error_code{} : corrupt();
        case BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT:
          return {};
        case BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT:
          continue;
        default:
          return corrupt();
      }
    }
  }
  std::error_code finish(const sink&) override {
    return s_ != nullptr && BrotliDecoderIsFinished(s_) ? std::error_code{} : corrupt();
  }

 private:
  BrotliDecoderState* s_;
};
#endif

#if SENTINEL_HAS_ZSTD
class zstd_decoder final : public coding_decoder {
 public:
  zstd_decoder() : d_(ZSTD_createDStream()) {
    if (d_ != nullptr) ZSTD_initDStream(d_);
  }
  ~zstd_decoder() override { ZSTD_freeDStream(d_); }

  std::error_code write(std::string_view in, const sink& out) override {
    if (d_ == nullptr) return make_error_code(error::internal);
    ZSTD_inBuffer input{in.data(), in.size(), 0};
    std::array<char, out_block> buf;
    while (input.pos < input.size || more_) {
      ZSTD_outBuffer output{buf.data(), buf.size(), 0};
      const std::size_t rc = ZSTD_decompressStream(d_, &output, &input);
      if (ZSTD_isError(rc)) return corrupt();
      if (output.pos > 0) {
        if (auto ec = out(std::string_view(buf.data(), output.pos))) return ec;
      }
      frame_done_ = rc == 0;
      // A full output buffer may mean zstd holds more: call again even without input.
      more_ = output.pos == output.size;
      if (!more_ && input.pos == input.size) break;
    }
    return {};
  }
  std::error_code finish(const sink&) override { return frame_done_ ? std::error_code{} : corrupt(); }

 private:
  ZSTD_DStream* d_;
  bool frame_done_ = false;
  bool more_ = false;
};
#endif

}  // namespace

std::string_view supported_accept_encoding() noexcept {
#if SENTINEL_HAS_BROTLI && SENTINEL_HAS_ZSTD
  return "gzip, deflate, br, zstd";
#elif SENTINEL_HAS_BROTLI
  return "gzip, deflate, br";
#elif SENTINEL_HAS_ZSTD
  return "gzip, deflate, zstd";
#else
  return "gzip, deflate";
#endif
}

std::error_code content_decoder::init(std::string_view value) {
  chain_.clear();
  std::vector<std::unique_ptr<coding_decoder>> listed;
  while (!value.empty()) {
    const std::size_t comma = value.find(',');
    const std::string_view coding = chars::trim_ows(value.substr(0, comma));
    value = comma == std::string_view::npos ? std::string_view{} : value.substr(comma + 1);
    if (coding.empty() || iequals(coding, "identity")) continue;
    if (iequals(coding, "gzip") || iequals(coding, "x-gzip")) {
      listed.push_back(std::make_unique<zlib_decoder>(true));
    } else if (iequals(coding, "deflate")) {
      listed.push_back(std::make_unique<zlib_decoder>(false));
#if SENTINEL_HAS_BROTLI
    } else if (iequals(coding, "br")) {
      listed.push_back(std::make_unique<brotli_decoder>());
#endif
#if SENTINEL_HAS_ZSTD
    } else if (iequals(coding, "zstd")) {
      listed.push_back(std::make_unique<zstd_decoder>());
#endif
    } else {
      return make_error_code(error::unsupported_content_encoding);
    }
  }
  // The last coding listed was applied last, so it is undone first.
  for (auto it = listed.rbegin(); it != listed.rend(); ++it)
    chain_.push_back(std::move(*it));
  return {};
}

std::error_code content_decoder::run(std::size_t i, std::string_view in, bool last,
                                     const coding_decoder::sink& out) {
  if (i == chain_.size()) return in.empty() ? std::error_code{} : out(in);
  auto next = [&](std::string_view d) { return run(i + 1, d, false, out); };
  if (auto ec = in.empty() && !last ? std::error_code{} : chain_[i]->write(in, next)) return ec;
  if (!last) return {};
  if (auto ec = chain_[i]->finish(next)) return ec;
  return run(i + 1, {}, true, out);
}

std::error_code content_decoder::write(std::string_view in, const coding_decoder::sink& out) {
  if (!in.empty()) saw_input_ = true;
  return run(0, in, false, out);
}

std::error_code content_decoder::finish(const coding_decoder::sink& out) {
  // An empty body is empty whatever its Content-Encoding says (servers label empty bodies too).
  if (!saw_input_) return {};
  return run(0, {}, true, out);
}

}  // namespace sentinel::detail
