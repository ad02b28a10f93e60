// sentinel: how the pool opens a connection: count the slot, connect a link, make the session for the
// protocol the server chose, share its spare capacity. See connection_pool.hpp and docs/pool.md.
#include "pool/connection_pool.hpp"

#include <asio/use_awaitable.hpp>

namespace sentinel::detail {

void connection_pool::reserve_slot(origin_state& o) noexcept {
  ++o.open;
  ++o.connecting;
  ++total_open_;
  counters_.open_connections.set(total_open_);
}

void connection_pool::free_slot(origin_state& o) noexcept {
  --o.open;
  --total_open_;
  counters_.open_connections.set(total_open_);
  slot_freed(o);
}

std::shared_ptr<session> connection_pool::adopt(std::unique_ptr<session> s) {
  // The deleter takes the session out of `live_` wherever its last owner drops it (a background TLS
  // close may outlive this pool: the registry is then gone, and the weak pointer says so). If making the
  // shared_ptr throws, it deletes the session itself.
  std::shared_ptr<session> c(s.release(),
                             [registry = std::weak_ptr<std::unordered_set<session*>>(live_)](session* p) {
                               if (auto r = registry.lock()) r->erase(p);
                               delete p;
                             });
  live_->insert(c.get());
  return c;
}

asio::awaitable<std::error_code> connection_pool::open_new(std::string_view origin, origin_state& o,
                                                           const open_params& op, lease& out,
                                                           connect_report& report) {
  // The slot is counted already: every path below gives it back unless a session takes it.
  report.attempted = true;
  std::error_code ec;
  std::shared_ptr<link> l;
  std::shared_ptr<session> s;
  try {
    l = std::make_shared<link>(ctx_->ex);
    connecting_.insert(l.get());
  } catch (...) {
    --o.connecting;
    ec = make_error_code(std::errc::not_enough_memory);
  }
  if (!ec) {
    l->deadlines.set_total(op.total_deadline);
    connect_params p;
    p.connect_timeout = op.connect_timeout;
    p.session_key = origin;
    p.alpn = op.offer.alpn;
    p.tunnel = make_.tunnel;
    ec = co_await connect(*ctx_, *op.rt, p, l->io, l->deadlines, l, report);
    connecting_.erase(l.get());
    --o.connecting;
    l->peer = report.peer;
    if (!ec && stopped_) ec = error::pool_stopped;  // shutdown() came during the connect
    if (!ec) {
      try {
        std::string_view protocol = l->io.alpn_protocol();
        if (protocol.empty()) protocol = op.offer.assumed;
        s = adopt(make_.make(std::string(origin), protocol, l));
      } catch (...) {
        ec = make_error_code(std::errc::not_enough_memory);
      }
    }
  }
  if (ec) {
    if (l) l->io.close();
    // Requests that waited for this connection (it could have carried them) fail as it did, unless
    // another is being opened for them.
    if (o.may_multiplex && o.connecting == 0) fail_connect_waiters(o, ec);
    free_slot(o);
    co_return ec;
  }
  s->serial = ++opened_;
  s->leases = 1;
  if (s->capacity() > 1) list_shared(o, s);
  out = lease(*this, s, false);
  serve_waiters(o);  // its spare capacity to the waiters; or, if it carries one, room for theirs
  co_return std::error_code{};
}

}  // namespace sentinel::detail
