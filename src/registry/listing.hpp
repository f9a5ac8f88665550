#pragma once

#include "app/ports.hpp"
#include "registry/http_registry.hpp"

#include <memory>

namespace vtc::registry {

// The registry's paged listing of our authority's records over HTTP(S) (GET
// {admin}/records?authority_id=…), one connection reused across pages. Records
// of other actions or resources are not ours and are left out.
class HttpListing final : public app::RegistryListing
{
public:
  // `page_size`: records asked for per page.
  HttpListing(RegistryOptions options, std::int64_t page_size);
  ~HttpListing() override;
  app::ListingPage page(const std::string& cursor) override;

private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

// Parses one listing page (the body of a 200 answer). Throws Error (76)
// naming `url` when it is not {"records":[{…}…],"nextCursor":string|null}
// or a record lacks its key fields.
app::ListingPage parse_listing(const RecordKey& key, const std::string& body,
                               const std::string& url);

} // namespace vtc::registry
