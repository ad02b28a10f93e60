// sentinel test support: ports for child servers (nginx, nghttpd) that cannot listen on port 0.
#pragma once

namespace sentinel::test::detail {

/// A port on 127.0.0.1 that was free a moment ago: the kernel picks it, and it is released at once, so a
/// server started on it must retry if another process takes it in between.
unsigned short free_port();

/// Whether something accepts TCP connections on 127.0.0.1:`port` now.
bool accepts(unsigned short port);

}  // namespace sentinel::test::detail

namespace sentinel::test {

/// A port on 127.0.0.1 that nothing listens on: connects to it are refused (a free port; another process
/// could take it in between, which loopback tests on this machine do not).
inline unsigned short closed_port() {
  return detail::free_port();
}

}  // namespace sentinel::test
