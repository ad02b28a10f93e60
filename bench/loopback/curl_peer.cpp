// libcurl as a native peer of bench/loopback/harness.py (contract: peer.hpp): what a C or C++ user who
// picks libcurl's multi interface would write for many concurrent transfers.
//
// One thread, one multi handle driven through the event API (curl_multi_socket_action) on our own epoll
// descriptor: libcurl's scaling interface, the one its documentation recommends beyond a few hundred
// transfers (curl_multi_poll walks every socket on every call, and 10,000 connections would measure that
// walk). CONNECTIONS easy handles; each sends its share one after another: a finished handle is removed
// and added back, and takes its idle keep-alive connection from the multi handle's connection cache
// (sized to CONNECTIONS).
#include "peer.hpp"

#include <curl/curl.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

namespace {

struct loop_state {
  CURL* easy = nullptr;
  long index = 0;
  long next_k = 0;          ///< requests started so far
  long share = 0;           ///< requests in all
  std::size_t body = 0;     ///< body bytes of the transfer in progress
  peer::clock::time_point sent;
  bool waiting = false;     ///< rate-limited: not in the multi handle until its due time
};

int g_epoll = -1;
std::vector<bool> g_watched;                        // by descriptor: in g_epoll's set
std::optional<peer::clock::time_point> g_deadline;  // libcurl's timer

std::size_t on_body(char*, std::size_t size, std::size_t n, void* user) {
  static_cast<loop_state*>(user)->body += size * n;
  return size * n;
}

int on_socket(CURL*, curl_socket_t s, int what, void*, void*) {
  const auto fd = static_cast<std::size_t>(s);
  if (fd >= g_watched.size()) g_watched.resize(fd + 1024);
  if (what == CURL_POLL_REMOVE) {
    if (g_watched[fd]) epoll_ctl(g_epoll, EPOLL_CTL_DEL, s, nullptr);
    g_watched[fd] = false;
    return 0;
  }
  epoll_event ev{};
  ev.data.fd = s;
  ev.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0u) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0u);
  epoll_ctl(g_epoll, g_watched[fd] ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, s, &ev);
  g_watched[fd] = true;
  return 0;
}

int on_timer(CURLM*, long timeout_ms, void*) {
  if (timeout_ms < 0)
    g_deadline.reset();
  else
    g_deadline = peer::clock::now() + std::chrono::milliseconds(timeout_ms);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const peer::options o = peer::parse(argc, argv);
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) peer::usage(argv[0], "curl_global_init failed");
  g_epoll = epoll_create1(EPOLL_CLOEXEC);
  CURLM* multi = curl_multi_init();
  curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, o.connections);
  curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, on_socket);
  curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, on_timer);

  std::vector<loop_state> loops(static_cast<std::size_t>(o.connections));
  peer::tally t;
  const auto start = peer::clock::now();
  long active = 0, waiting = 0;
  auto begin = [&](loop_state& l) {  // the loop's next request, now or at its due time
    if (o.limited()) {
      l.sent = start + o.due(l.index, l.next_k);
      if (l.sent > peer::clock::now()) {
        l.waiting = true;
        ++waiting;
        return;
      }
    } else {
      l.sent = peer::clock::now();
    }
    ++l.next_k;
    l.body = 0;
    curl_multi_add_handle(multi, l.easy);
    ++active;
  };
  for (long i = 0; i < o.connections; ++i) {
    loop_state& l = loops[static_cast<std::size_t>(i)];
    l.index = i;
    l.share = o.share(i);
    l.easy = curl_easy_init();
    curl_easy_setopt(l.easy, CURLOPT_URL, o.url.c_str());
    curl_easy_setopt(l.easy, CURLOPT_PROXY, "");  // never an environment proxy: loopback only
    curl_easy_setopt(l.easy, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
    curl_easy_setopt(l.easy, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(l.easy, CURLOPT_NOSIGNAL, 1L);
    // No per-transfer timeout, as in the other native peers: the harness bounds the whole run. (With 10,000
    // connections libcurl spends ~1 ms of CPU per request, against 17 us with 64 -- its connection cache
    // seems to scan every connection to the host for an idle one -- so a 30 s limit would turn its
    // slowness into errors.)
    curl_easy_setopt(l.easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(l.easy, CURLOPT_WRITEDATA, &l);
    curl_easy_setopt(l.easy, CURLOPT_PRIVATE, &l);
    begin(l);
  }

  std::vector<epoll_event> events(256);
  int running = 0;
  while (active > 0 || waiting > 0) {
    // Sleep until a socket is ready, libcurl's timer fires, or (rate-limited) the next loop is due.
    auto wake = g_deadline;
    if (waiting > 0)
      for (const auto& l : loops)
        if (l.waiting && (!wake || l.sent < *wake)) wake = l.sent;
    int timeout_ms = 1000;
    if (wake) {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(*wake - peer::clock::now()).count();
      timeout_ms = static_cast<int>(std::clamp<long long>(left, 0, 1000));
    }
    const int n = epoll_wait(g_epoll, events.data(), static_cast<int>(events.size()), timeout_ms);
    for (int i = 0; i < n; ++i) {
      const auto e = events[static_cast<std::size_t>(i)].events;
      const int flags = ((e & EPOLLIN) ? CURL_CSELECT_IN : 0) | ((e & EPOLLOUT) ? CURL_CSELECT_OUT : 0) |
                        ((e & (EPOLLERR | EPOLLHUP)) ? CURL_CSELECT_ERR : 0);
      curl_multi_socket_action(multi, events[static_cast<std::size_t>(i)].data.fd, flags, &running);
    }
    if (g_deadline && *g_deadline <= peer::clock::now()) {
      g_deadline.reset();
      curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
    }

    int left = 0;
    while (CURLMsg* m = curl_multi_info_read(multi, &left)) {
      if (m->msg != CURLMSG_DONE) continue;
      loop_state* l = nullptr;
      curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&l));
      long status = 0;
      curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &status);
      const auto us = peer::micros(peer::clock::now() - l->sent);
      const CURLcode rc = m->data.result;
      curl_multi_remove_handle(multi, l->easy);  // m is invalid from here on
      --active;
      if (rc == CURLE_OK && status == 200 && (o.body_bytes < 0 || static_cast<long>(l->body) == o.body_bytes)) {
        t.complete(true, us);
      } else {
        const std::string what = rc != CURLE_OK ? std::string(curl_easy_strerror(rc))
                                                : "status " + std::to_string(status) + ", " +
                                                      std::to_string(l->body) + " body bytes";
        t.complete(false, us, what.c_str());
      }
      if (l->next_k < l->share) begin(*l);
    }

    if (waiting > 0) {
      const auto now = peer::clock::now();
      for (auto& l : loops)
        if (l.waiting && l.sent <= now) {
          l.waiting = false;
          --waiting;
          begin(l);
        }
    }
  }
  const double seconds = std::chrono::duration<double>(peer::clock::now() - start).count();
  for (auto& l : loops)
    curl_easy_cleanup(l.easy);
  curl_multi_cleanup(multi);
  curl_global_cleanup();
  ::close(g_epoll);
  return t.print(seconds);
}
