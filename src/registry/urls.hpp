#pragma once

// The registry URLs, all under base = {registry.url}{admin_path}.

#include <cstdint>
#include <string>

namespace vtc::registry {

// {url}{admin_path}, without a doubled slash between them.
std::string admin_base(std::string url, const std::string& admin_path);

// {base}/records/{id}
std::string record_url(const std::string& base, const std::string& id);

// {base}/records?authority_id=…&limit=…[&cursor=…], values percent-encoded.
std::string listing_url(const std::string& base,
                        const std::string& authority_id, std::int64_t limit,
                        const std::string& cursor = "");

} // namespace vtc::registry
