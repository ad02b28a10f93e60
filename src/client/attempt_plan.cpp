// sentinel: planning a request's attempts. See attempt_plan.hpp.
#include "client/attempt_plan.hpp"

#include "protocols/sessions.hpp"

#include "transport/deadlines.hpp"
#include "wire/decoder.hpp"

#include <algorithm>
#include <charconv>

namespace sentinel::detail {
namespace {

// "scheme://host:port" (what url::origin() returns) and `suffix` written into `buf`, with no allocation;
// into `fallback` when it does not fit (host names are at most 253 bytes, so only absurd URLs get there).
std::string_view origin_key(const url& u, std::string_view suffix, std::array<char, 320>& buf,
                            std::string& fallback) {
  const std::string_view scheme = u.is_https() ? "https://" : "http://";
  const std::size_t need = scheme.size() + u.host().size() + 2 + 1 + 5 + suffix.size();
  if (need > buf.size()) {
    fallback = u.origin();
    fallback += suffix;
    return fallback;
  }
  char* p = std::copy(scheme.begin(), scheme.end(), buf.data());
  if (u.host_is_ipv6()) *p++ = '[';
  p = std::copy(u.host().begin(), u.host().end(), p);
  if (u.host_is_ipv6()) *p++ = ']';
  *p++ = ':';
  p = std::to_chars(p, buf.data() + buf.size(), u.port()).ptr;
  p = std::copy(suffix.begin(), suffix.end(), p);
  return std::string_view(buf.data(), static_cast<std::size_t>(p - buf.data()));
}

void plan_exchange(const client_options& opts, const request& req, clock::time_point total_deadline,
                   attempt_plan& plan) {
  const auto& ro = req.options();
  const auto& to = opts.timeouts;
  auto& params = plan.params;
  params.kind = req.method() == "HEAD"      ? method_kind::head
                : req.method() == "CONNECT" ? method_kind::connect
                                            : method_kind::normal;
  params.total_deadline = total_deadline;
  params.response_head_timeout = ro.response_head_timeout.value_or(to.response_head);
  params.idle_read_timeout = ro.idle_read_timeout.value_or(to.idle_read);
  // A body streamed to on_body does not accumulate: the default size limit is for memory, so it applies
  // only when the request sets one.
  params.max_body_bytes = ro.max_body_bytes.value_or(ro.on_body ? 0 : opts.limits.max_body_bytes);
  plan.connect_timeout = ro.connect_timeout.value_or(to.connect);
  params.ping_timeout = plan.connect_timeout;
  plan.acquire_deadline =
      std::min(deadline_after(ro.pool_acquire_timeout.value_or(to.pool_acquire)), total_deadline);
  plan.acquire_error = plan.acquire_deadline == total_deadline ? error::request_timeout : error::pool_timeout;
  plan.may_retry = opts.retry.retry_stale &&
                   (req.is_idempotent() || ro.retryable || req.headers().contains("Idempotency-Key")) &&
                   req.body_replayable();
  plan.refusals_left = req.body_replayable() ? opts.retry.max_refused : 0;
  plan.extras.user_agent = opts.user_agent;
  plan.decompress = ro.decompress.value_or(opts.decompress) && params.kind == method_kind::normal;
  if (plan.decompress) plan.extras.accept_encoding = supported_accept_encoding();
}

void plan_body(const client_options& opts, const request& req, attempt_plan& plan) {
  auto& body = plan.body;
  body.expect_continue = req.options().expect_continue;
  body.continue_timeout = opts.timeouts.expect_continue;
  if (req.body_type() == request::body_kind::buffer) {
    body.data = req.body();
  } else if (req.body_type() == request::body_kind::source) {
    body.source = req.body_source();
    body.length = req.body_source_length();
    body.chunked = !body.length;
    plan.extras.body_length = body.length;
    plan.extras.length_unknown = body.chunked;
  }
}

}  // namespace

std::error_code make_plan(const client_options& opts, const proxy_config& proxies, const request& req,
                          clock::time_point total_deadline, attempt_plan& plan) {
  plan_exchange(opts, req, total_deadline, plan);
  plan_body(opts, req, plan);
  // The route: direct, through a forward proxy (http://, absolute-form requests, connections to the proxy
  // shared by every target), or through a CONNECT tunnel (https://, one tunnel per target).
  std::error_code ec;
  const proxy_endpoint* proxy = proxies.for_target(req.url(), ec);
  if (ec) return ec;
  plan.rt =
      route{&req.url(), proxy ? &proxy->address : nullptr, proxy != nullptr && req.url().is_https(), {}};
  const bool forward = proxy != nullptr && !plan.rt.tunnel;
  plan.offer = offer_for(req.options().version.value_or(opts.version), req.url().is_https(), forward);
  const std::string_view suffix = offer_key_suffix(plan.offer);
  if (proxy == nullptr) {
    plan.origin = origin_key(req.url(), suffix, plan.key_buf, plan.proxied_key);
    return {};
  }
  plan.rt.proxy_authorization = proxy->authorization;
  if (plan.rt.tunnel) {
    plan.proxied_key = req.url().origin() + std::string(suffix) + " via " + proxy->key;
  } else {
    plan.proxied_key = proxy->key;
    plan.extras.forward_proxy = true;
    plan.extras.proxy_authorization = proxy->authorization;
  }
  plan.origin = plan.proxied_key;
  return {};
}

}  // namespace sentinel::detail
