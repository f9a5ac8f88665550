#include "registry/urls.hpp"

#include <fmt/core.h>

#include <cctype>

namespace vtc::registry {

namespace {

std::string url_escape(const std::string& text)
{
  static constexpr char k_hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += k_hex[c >> 4U];
      out += k_hex[c & 15U];
    }
  }
  return out;
}

} // namespace

std::string admin_base(std::string url, const std::string& admin_path)
{
  while (!url.empty() && url.back() == '/') {
    url.pop_back();
  }
  return url + admin_path;
}

std::string record_url(const std::string& base, const std::string& id)
{
  return base + "/records/" + id;
}

std::string listing_url(const std::string& base,
                        const std::string& authority_id, std::int64_t limit,
                        const std::string& cursor)
{
  std::string url = fmt::format("{}/records?authority_id={}&limit={}", base,
                                url_escape(authority_id), limit);
  if (!cursor.empty()) {
    url += "&cursor=" + url_escape(cursor);
  }
  return url;
}

} // namespace vtc::registry
