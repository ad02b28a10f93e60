// sentinel: which session a connection gets: the one place above the protocols that knows them all.
//
// The pool makes sessions through a session_factory and the client sends through the session interface
// (session/session.hpp), so neither names a protocol; this layer does. It also works out what a request
// offers (offer_for): HTTP/1.1 only, HTTP/2 preferred by ALPN, or HTTP/2 by prior knowledge.
#pragma once

#include "session/session.hpp"
#include "transport/context.hpp"

#include <sentinel/options.hpp>

#include <memory>

namespace sentinel::detail {

/// Makes the sessions of one client: HTTP/1.1 connections whose parsers allow `limits`, and HTTP/2 ones
/// (with the same head limits, `pool`'s max_streams_per_connection and ping_after_idle) when the library
/// is built with it and the connection negotiated (or assumed) "h2".
session_factory make_session_factory(std::shared_ptr<connection_context> ctx, const limit_options& limits,
                                     const connection_pool_options& pool);

/// What a connection for a request asking for `v` offers: `https` is the target's scheme, `forward_proxy`
/// true when it goes through an HTTP forward proxy (which speaks HTTP/1.1, as curl's do). A library built
/// without HTTP/2 offers HTTP/1.1 whatever `v` says.
protocol_offer offer_for(http_version v, bool https, bool forward_proxy) noexcept;

/// What the pool key of a request with `offer` ends with, so that connections offering different
/// protocols to one origin never mix: "" for HTTP/1.1 only.
std::string_view offer_key_suffix(const protocol_offer& offer) noexcept;

}  // namespace sentinel::detail
