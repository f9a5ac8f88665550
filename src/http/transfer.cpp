#include "http/transfer.hpp"

#include "http/curl_lib.hpp"
#include "http/header.hpp"

#include "util/error.hpp"

#include <fmt/core.h>

#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <map>
#include <optional>
#include <set>

namespace vtc::http {

using detail::curl;

namespace {

Failure failure_of(CURLcode code, const std::string& message)
{
  switch (code) {
  case CURLE_OK:
    return Failure::none;
  case CURLE_COULDNT_RESOLVE_PROXY:
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_CONNECT:
  case CURLE_OPERATION_TIMEDOUT:
  case CURLE_GOT_NOTHING:
  case CURLE_SEND_ERROR:
  case CURLE_PARTIAL_FILE:
  case CURLE_HTTP2:
  case CURLE_HTTP2_STREAM:
    return Failure::unreachable;
  case CURLE_RECV_ERROR:
    // Under TLS 1.3 a server rejecting our certificate shows up as a
    // receive error naming the TLS alert.
    return message.find("alert") != std::string::npos ||
               message.find("SSL") != std::string::npos ||
               message.find("TLS") != std::string::npos
             ? Failure::tls
             : Failure::unreachable;
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_CIPHER:
  case CURLE_SSL_CACERT_BADFILE:
  case CURLE_SSL_CRL_BADFILE:
  case CURLE_SSL_ISSUER_ERROR:
  case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
  case CURLE_SSL_INVALIDCERTSTATUS:
  case CURLE_SSL_ENGINE_NOTFOUND:
  case CURLE_SSL_ENGINE_SETFAILED:
  case CURLE_SSL_ENGINE_INITFAILED:
  case CURLE_USE_SSL_FAILED:
    return Failure::tls;
  default:
    return Failure::local;
  }
}

// One transfer's handle and the buffers libcurl writes into.
struct Transfer
{
  std::uint64_t tag = 0;
  std::size_t max_body = 0;
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  Request request;
  Response response;
  char error[CURL_ERROR_SIZE] = {};

  ~Transfer()
  {
    curl().slist_free_all(headers);
    curl().easy_cleanup(easy);
  }
};

std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user)
{
  auto* t = static_cast<Transfer*>(user);
  // An answer is bounded; a huge one is an error, not data.
  if (t->response.body.size() + size * n > t->max_body) {
    return 0;
  }
  t->response.body.append(data, size * n);
  return size * n;
}

std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user)
{
  auto* t = static_cast<Transfer*>(user);
  const std::string_view line(data, size * n);
  if (const auto value = header_value(line, "retry-after")) {
    t->response.retry_after = std::string(*value);
  } else if (is_status_line(line)) {
    // A new status line (after 100 Continue): forget earlier headers.
    t->response.retry_after.reset();
  }
  return size * n;
}

template<class T>
void set(CURL* easy, CURLoption option, T value)
{
  if (curl().easy_setopt(easy, option, value) != CURLE_OK) {
    throw Error(ExitCode::software, fmt::format("libcurl refused option {}",
                                                static_cast<int>(option)));
  }
}

void configure(Transfer& t, const ClientOptions& o)
{
  CURL* e = t.easy;
  set(e, CURLOPT_URL, t.request.url.c_str());
  set(e, CURLOPT_NOSIGNAL, 1L);
  set(e, CURLOPT_FOLLOWLOCATION, 0L);
  set(e, CURLOPT_PROTOCOLS_STR, "http,https");
  set(e, CURLOPT_CONNECTTIMEOUT, o.connect_timeout_seconds);
  set(e, CURLOPT_TIMEOUT, o.timeout_seconds);
  set(e, CURLOPT_ERRORBUFFER, t.error);
  set(e, CURLOPT_WRITEFUNCTION, on_body);
  set(e, CURLOPT_WRITEDATA, &t);
  set(e, CURLOPT_HEADERFUNCTION, on_header);
  set(e, CURLOPT_HEADERDATA, &t);
  set(e, CURLOPT_NOPROXY, "localhost,127.0.0.1,::1");
  if (!o.proxy.empty()) {
    set(e, CURLOPT_PROXY, o.proxy.c_str());
  }
  if (!o.ca_file.empty()) {
    set(e, CURLOPT_CAINFO, o.ca_file.c_str());
  }
  if (!o.client_cert.empty()) {
    set(e, CURLOPT_SSLCERT, o.client_cert.c_str());
    set(e, CURLOPT_SSLKEY, o.client_key.c_str());
  }
  if (t.request.method == "GET") {
    set(e, CURLOPT_HTTPGET, 1L);
  } else {
    set(e, CURLOPT_CUSTOMREQUEST, t.request.method.c_str());
    if (t.request.method != "DELETE" || !t.request.body.empty()) {
      set(e, CURLOPT_POSTFIELDS, t.request.body.c_str());
      set(e, CURLOPT_POSTFIELDSIZE_LARGE,
          static_cast<curl_off_t>(t.request.body.size()));
    }
  }
  // No "Expect: 100-continue" round trip for small bodies.
  t.headers = curl().slist_append(t.headers, "Expect:");
  for (const auto& h : t.request.headers) {
    t.headers = curl().slist_append(t.headers, h.c_str());
  }
  set(e, CURLOPT_HTTPHEADER, t.headers);
}

} // namespace

namespace {

// The epoll set and the timer through which libcurl has its sockets
// watched: curl_multi_socket_action() then touches only the connections
// that have something to do, where curl_multi_perform() checks every
// running transfer's socket with a poll(2) of its own on each call.
struct Events
{
  int epoll = -1;
  std::set<curl_socket_t> watched; // in the epoll set
  // When libcurl wants curl_multi_socket_action(CURL_SOCKET_TIMEOUT).
  std::optional<std::chrono::steady_clock::time_point> timer;

  Events() = default;
  Events(const Events&) = delete;
  Events& operator=(const Events&) = delete;
  ~Events()
  {
    if (epoll >= 0) {
      ::close(epoll);
    }
  }
};

int on_socket(CURL* /*easy*/, curl_socket_t socket, int what, void* user,
              void* /*socket_data*/)
{
  auto* events = static_cast<Events*>(user);
  if (what == CURL_POLL_REMOVE) {
    if (events->watched.erase(socket) > 0) {
      ::epoll_ctl(events->epoll, EPOLL_CTL_DEL, socket, nullptr);
    }
    return 0;
  }
  epoll_event ev{};
  ev.data.fd = socket;
  ev.events = ((what & CURL_POLL_IN) != 0 ? EPOLLIN : 0U) |
              ((what & CURL_POLL_OUT) != 0 ? EPOLLOUT : 0U);
  const bool known = !events->watched.insert(socket).second;
  if (::epoll_ctl(events->epoll, known ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, socket,
                  &ev) == 0) {
    return 0;
  }
  // Out of step with the set (a socket closed unannounced, its number
  // reused): the other operation is the right one.
  if ((errno == ENOENT || errno == EEXIST) &&
      ::epoll_ctl(events->epoll, known ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, socket,
                  &ev) == 0) {
    return 0;
  }
  events->watched.erase(socket);
  return -1;
}

int on_timer(CURLM* /*multi*/, long timeout_ms, void* user)
{
  auto* events = static_cast<Events*>(user);
  if (timeout_ms < 0) {
    events->timer.reset();
  } else {
    events->timer =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  }
  return 0;
}

} // namespace

struct Transfers::Impl
{
  ClientOptions options;
  Events events; // outlives `multi`, whose cleanup may still call on_socket
  CURLM* multi = nullptr;
  std::map<CURL*, std::unique_ptr<Transfer>> running;

  void act(curl_socket_t socket, int what)
  {
    int still = 0;
    curl().multi_socket_action(multi, socket, what, &still);
  }
};

Transfers::Transfers(const ClientOptions& options)
  : m_impl(std::make_unique<Impl>())
{
  m_impl->options = options;
  m_impl->events.epoll = ::epoll_create1(EPOLL_CLOEXEC);
  if (m_impl->events.epoll < 0) {
    throw Error(ExitCode::software,
                fmt::format("epoll_create1: {}", std::strerror(errno)));
  }
  m_impl->multi = curl().multi_init();
  if (m_impl->multi == nullptr) {
    throw Error(ExitCode::software, "libcurl: cannot create a multi handle");
  }
  Events* events = &m_impl->events;
  curl().multi_setopt(m_impl->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
  curl().multi_setopt(m_impl->multi, CURLMOPT_SOCKETDATA, events);
  curl().multi_setopt(m_impl->multi, CURLMOPT_TIMERFUNCTION, on_timer);
  curl().multi_setopt(m_impl->multi, CURLMOPT_TIMERDATA, events);
  curl().multi_setopt(m_impl->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
                      options.max_connections);
  curl().multi_setopt(m_impl->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
                      options.max_connections);
  curl().multi_setopt(m_impl->multi, CURLMOPT_MAXCONNECTS,
                      options.max_connections);
}

Transfers::~Transfers()
{
  abort_all();
  curl().multi_cleanup(m_impl->multi);
}

void Transfers::add(std::uint64_t tag, Request request)
{
  auto t = std::make_unique<Transfer>();
  t->tag = tag;
  t->max_body = m_impl->options.max_body_bytes;
  t->request = std::move(request);
  t->easy = curl().easy_init();
  if (t->easy == nullptr) {
    throw Error(ExitCode::software, "libcurl: cannot create a handle");
  }
  configure(*t, m_impl->options);
  curl().multi_add_handle(m_impl->multi, t->easy);
  CURL* key = t->easy;
  m_impl->running.emplace(key, std::move(t));
}

std::size_t Transfers::running() const
{
  return m_impl->running.size();
}

void Transfers::abort_all()
{
  for (auto& [easy, t] : m_impl->running) {
    curl().multi_remove_handle(m_impl->multi, easy);
  }
  m_impl->running.clear();
}

std::vector<std::pair<std::uint64_t, Response>> Transfers::wait(
  std::chrono::steady_clock::time_point until)
{
  std::vector<std::pair<std::uint64_t, Response>> done;
  while (!m_impl->running.empty()) {
    int queued = 0;
    while (CURLMsg* msg = curl().multi_info_read(m_impl->multi, &queued)) {
      if (msg->msg != CURLMSG_DONE) {
        continue;
      }
      auto it = m_impl->running.find(msg->easy_handle);
      if (it == m_impl->running.end()) {
        continue;
      }
      Transfer& t = *it->second;
      const CURLcode code = msg->data.result;
      if (code == CURLE_OK) {
        curl().easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &t.response.status);
      } else {
        t.response.error =
          t.error[0] != '\0' ? t.error : curl().easy_strerror(code);
        t.response.failure = failure_of(code, t.response.error);
      }
      curl().multi_remove_handle(m_impl->multi, t.easy);
      done.emplace_back(t.tag, std::move(t.response));
      m_impl->running.erase(it);
    }
    if (!done.empty()) {
      break;
    }
    const auto now = std::chrono::steady_clock::now();
    auto& timer = m_impl->events.timer;
    if (timer && *timer <= now) {
      timer.reset();
      m_impl->act(CURL_SOCKET_TIMEOUT, 0);
      continue;
    }
    if (now >= until) {
      break;
    }
    auto wake = until;
    if (timer) {
      wake = std::min(wake, *timer);
    }
    const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(wake - now);
    std::array<epoll_event, 64> events{};
    const int n = ::epoll_wait(
      m_impl->events.epoll, events.data(), static_cast<int>(events.size()),
      static_cast<int>(std::min<std::int64_t>(left.count() + 1, 1000)));
    for (int i = 0; i < n; ++i) {
      const auto e = events[static_cast<std::size_t>(i)].events;
      m_impl->act(events[static_cast<std::size_t>(i)].data.fd,
                  ((e & EPOLLIN) != 0 ? CURL_CSELECT_IN : 0) |
                    ((e & EPOLLOUT) != 0 ? CURL_CSELECT_OUT : 0) |
                    ((e & (EPOLLERR | EPOLLHUP)) != 0 ? CURL_CSELECT_ERR : 0));
    }
  }
  return done;
}

Response Transfers::perform(Request request)
{
  constexpr std::uint64_t k_tag = 0;
  add(k_tag, std::move(request));
  const auto until = std::chrono::steady_clock::now() +
                     std::chrono::seconds(m_impl->options.timeout_seconds + 1);
  for (;;) {
    auto done = wait(until);
    if (!done.empty()) {
      return std::move(done.front().second);
    }
    if (std::chrono::steady_clock::now() >= until) {
      abort_all();
      Response r;
      r.failure = Failure::unreachable;
      r.error = "timed out";
      return r;
    }
  }
}

Response perform(const ClientOptions& options, Request request)
{
  Transfers transfers(options);
  return transfers.perform(std::move(request));
}

} // namespace vtc::http
