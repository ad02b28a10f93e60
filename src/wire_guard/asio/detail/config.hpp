// sentinel: a trap on the wire layer's include path (src/meson.build). Every Asio header includes
// "asio/detail/config.hpp"; the wire library's compile line names this directory before the system's,
// so a wire file that includes any Asio header, even through another header, fails to build here.
#error "sentinel: the wire layer (url, headers, response, errors, http1 parser/serializer, decoders) must not include Asio; see docs/architecture.md"
