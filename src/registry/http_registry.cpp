#include "registry/http_registry.hpp"

#include "core/health.hpp"
#include "http/transfer.hpp"
#include "registry/urls.hpp"
#include "util/error.hpp"
#include "util/secret_file.hpp"

#include <fmt/core.h>

#include <cctype>
#include <map>

namespace vtc::registry {

namespace {

core::Transport transport_of(http::Failure f)
{
  switch (f) {
  case http::Failure::none:
    return core::Transport::ok;
  case http::Failure::tls:
    return core::Transport::tls;
  case http::Failure::unreachable:
  case http::Failure::local:
    break;
  }
  return core::Transport::unreachable;
}

std::string trim(const std::string& s)
{
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) {
    return {};
  }
  const auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

} // namespace

std::string read_token(const std::string& path)
{
  std::string raw = util::read_secret_file(path, "registry.token_file");
  std::string token = trim(raw);
  util::wipe(raw);
  if (token.find_first_of("\r\n") != std::string::npos) {
    throw ConfigError(fmt::format(
      "registry.token_file {}: the token contains a line break", path));
  }
  if (token.empty()) {
    throw ConfigError(fmt::format("registry.token_file {}: empty", path));
  }
  return token;
}

struct HttpRegistry::Impl
{
  RegistryOptions options;
  std::string base; // {url}{admin_path}
  http::Transfers transfers;
  std::map<std::uint64_t, std::string> methods; // tag → method

  explicit Impl(RegistryOptions o)
    : options(std::move(o)),
      transfers(http::ClientOptions{
        options.ca_file, options.client_cert, options.client_key, options.proxy,
        options.connect_timeout_seconds, options.timeout_seconds,
        options.concurrency})
  {
    base = admin_base(options.url, options.admin_path);
  }
};

HttpRegistry::HttpRegistry(RegistryOptions options)
  : m_impl(std::make_unique<Impl>(std::move(options)))
{
}

HttpRegistry::~HttpRegistry()
{
  if (!m_impl->options.token.empty()) {
    util::wipe(m_impl->options.token);
  }
}

app::SentRequest HttpRegistry::submit(std::uint64_t tag,
                                      const app::ClaimedJob& job)
{
  app::SentRequest sent = request_for(m_impl->options.key, job);
  http::Request request;
  request.method = sent.method;
  request.url = record_url(m_impl->base, sent.record_id);
  request.body = sent.body;
  request.headers.push_back("Idempotency-Key: " + sent.idempotency_key);
  if (!sent.body.empty()) {
    request.headers.emplace_back("Content-Type: application/json");
  }
  if (!m_impl->options.token.empty()) {
    request.headers.push_back("Authorization: Bearer " + m_impl->options.token);
  }
  m_impl->methods[tag] = sent.method;
  m_impl->transfers.add(tag, std::move(request));
  return sent;
}

std::vector<std::pair<std::uint64_t, app::Answer>> HttpRegistry::wait(
  Deadline until)
{
  std::vector<std::pair<std::uint64_t, app::Answer>> out;
  for (auto& [tag, response] : m_impl->transfers.wait(until)) {
    const bool is_delete = m_impl->methods[tag] == "DELETE";
    m_impl->methods.erase(tag);
    app::Answer a;
    a.status = static_cast<int>(response.status);
    a.cls = core::classify(is_delete, a.status, transport_of(response.failure));
    a.retry_after = response.retry_after;
    a.error = response.failure == http::Failure::none
                ? fmt::format("HTTP {}", response.status)
                : response.error;
    out.emplace_back(tag, std::move(a));
  }
  return out;
}

app::Answer HttpRegistry::probe()
{
  http::Request request;
  request.method = "GET";
  request.url = listing_url(m_impl->base, m_impl->options.key.authority_id, 1);
  if (!m_impl->options.token.empty()) {
    request.headers.push_back("Authorization: Bearer " + m_impl->options.token);
  }
  constexpr std::uint64_t k_probe_tag = ~std::uint64_t{0};
  m_impl->methods[k_probe_tag] = "GET";
  m_impl->transfers.add(k_probe_tag, std::move(request));
  const auto until = std::chrono::steady_clock::now() +
                     std::chrono::seconds(m_impl->options.timeout_seconds + 1);
  while (std::chrono::steady_clock::now() < until) {
    for (auto& [tag, answer] : wait(until)) {
      if (tag == k_probe_tag) {
        return answer;
      }
    }
  }
  abandon();
  return {core::AnswerClass::unreachable, 0, std::nullopt, "probe timed out"};
}

std::size_t HttpRegistry::running() const
{
  return m_impl->transfers.running();
}

void HttpRegistry::abandon()
{
  m_impl->transfers.abort_all();
  m_impl->methods.clear();
}

} // namespace vtc::registry
