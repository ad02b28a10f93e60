// sentinel: a link: one connection's stream and its deadlines, from connect() on, before and after a
// protocol takes it over.
//
// The pool connects a link (transport::connect, with the ALPN list the protocols offer), reads which
// protocol the server chose, and hands the link to the session made for that protocol, which owns it from
// then on. Held by shared_ptr: the deadline timer's handler holds a weak one (`life`), so a link closed
// while a deadline is pending is never touched after it is gone.
#pragma once

#include "transport/deadlines.hpp"
#include "transport/stream.hpp"

#include <asio/any_io_executor.hpp>

namespace sentinel::detail {

struct link {
  explicit link(const asio::any_io_executor& ex) : io(ex), deadlines(ex, io) {}
  link(const link&) = delete;
  link& operator=(const link&) = delete;
  ~link() { io.close(); }

  stream io;
  deadline_set deadlines;  // cancels `io` when one passes
  tcp::endpoint peer;      // the address connected to (unset over a device)
};

}  // namespace sentinel::detail
