// sentinel: which session a connection gets: the one place above the protocols that knows them all.
//
// The pool makes sessions through a session_factory and the client sends through the session interface
// (session/session.hpp), so neither names a protocol; this layer does. Today every connection is an
// HTTP/1.1 one (ALPN offers only http/1.1); HTTP/2 adds its session here.
#pragma once

#include "session/session.hpp"
#include "transport/context.hpp"

#include <sentinel/options.hpp>

#include <memory>

namespace sentinel::detail {

/// Makes the sessions of one client: HTTP/1.1 connections whose parsers allow `limits`.
session_factory make_session_factory(std::shared_ptr<connection_context> ctx, const limit_options& limits);

}  // namespace sentinel::detail
