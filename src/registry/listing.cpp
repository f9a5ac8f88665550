#include "registry/listing.hpp"

#include "core/answer.hpp"
#include "http/transfer.hpp"
#include "registry/urls.hpp"
#include "util/error.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

namespace vtc::registry {

struct HttpListing::Impl
{
  RegistryOptions options;
  std::int64_t page_size;
  http::Transfers transfers;

  Impl(RegistryOptions o, std::int64_t size)
    : options(std::move(o)),
      page_size(size),
      transfers(http::ClientOptions{
        options.ca_file, options.client_cert, options.client_key, options.proxy,
        options.connect_timeout_seconds, options.timeout_seconds, 1})
  {
  }
};

HttpListing::HttpListing(RegistryOptions options, std::int64_t page_size)
  : m_impl(std::make_unique<Impl>(std::move(options), page_size))
{
}

HttpListing::~HttpListing() = default;

app::ListingPage parse_listing(const RecordKey& key, const std::string& body,
                               const std::string& url)
{
  const auto fail = [&](const std::string& why) {
    return Error(ExitCode::protocol,
                 fmt::format("registry listing {}: {}", url, why));
  };
  const auto doc = nlohmann::json::parse(body, nullptr, false);
  if (!doc.is_object() || !doc.contains("records") ||
      !doc["records"].is_array()) {
    throw fail("the answer is not {\"records\": […], \"nextCursor\": …}");
  }
  app::ListingPage page;
  if (doc.contains("nextCursor") && !doc["nextCursor"].is_null()) {
    if (!doc["nextCursor"].is_string() ||
        doc["nextCursor"].get<std::string>().empty()) {
      throw fail("nextCursor is neither a non-empty string nor null");
    }
    page.next_cursor = doc["nextCursor"].get<std::string>();
  }
  for (const auto& r : doc["records"]) {
    const auto text = [&](const char* field) -> std::string {
      if (!r.is_object() || !r.contains(field) || !r[field].is_string()) {
        throw fail(fmt::format("a record has no string field '{}'", field));
      }
      return r[field].get<std::string>();
    };
    if (text("authority_id") != key.authority_id ||
        text("action") != key.action || text("resource") != key.resource) {
      continue; // another authority's, or another binding's
    }
    page.records.push_back({record_id(key, text("entity_id")), r.dump()});
  }
  return page;
}

app::ListingPage HttpListing::page(const std::string& cursor)
{
  const RegistryOptions& o = m_impl->options;
  http::Request request;
  request.method = "GET";
  request.url = listing_url(admin_base(o.url, o.admin_path), o.key.authority_id,
                            m_impl->page_size, cursor);
  if (!o.token.empty()) {
    request.headers.push_back("Authorization: Bearer " + o.token);
  }
  const std::string url = request.url;
  m_impl->transfers.add(0, std::move(request));
  const auto until = std::chrono::steady_clock::now() +
                     std::chrono::seconds(o.timeout_seconds + 1);
  std::optional<http::Response> response;
  while (!response && std::chrono::steady_clock::now() < until) {
    for (auto& [tag, r] : m_impl->transfers.wait(until)) {
      response = std::move(r);
    }
  }
  if (!response) {
    m_impl->transfers.abort_all();
    throw Error(ExitCode::unavailable,
                fmt::format("registry listing {}: timed out", url));
  }
  if (response->failure == http::Failure::tls) {
    throw Error(ExitCode::config,
                fmt::format("registry listing {}: {}", url, response->error));
  }
  if (response->failure != http::Failure::none) {
    throw Error(ExitCode::unavailable,
                fmt::format("registry listing {}: {}", url, response->error));
  }
  const int status = static_cast<int>(response->status);
  if (status == 200) {
    return parse_listing(o.key, response->body, url);
  }
  const auto cls = core::classify(false, status, core::Transport::ok);
  const ExitCode code = cls == core::AnswerClass::auth ? ExitCode::config
                        : cls == core::AnswerClass::transient
                          ? ExitCode::unavailable
                          : ExitCode::protocol;
  throw Error(code, fmt::format("registry listing {}: HTTP {}", url, status));
}

} // namespace vtc::registry
