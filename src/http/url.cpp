#include "http/url.hpp"

#include "http/curl_lib.hpp"
#include "util/error.hpp"

#include <arpa/inet.h>
#include <fmt/core.h>

#include <algorithm>
#include <memory>

namespace vtc::http {

using detail::curl;

namespace {

struct UrlDeleter
{
  void operator()(CURLU* u) const { curl().url_cleanup(u); }
};

std::string part(CURLU* u, CURLUPart which, unsigned flags = 0)
{
  char* value = nullptr;
  if (curl().url_get(u, which, &value, flags) != CURLUE_OK ||
      value == nullptr) {
    return {};
  }
  std::string out(value);
  curl().free(value);
  return out;
}

} // namespace

UrlParts parse_url(const std::string& url, const std::string& key)
{
  std::unique_ptr<CURLU, UrlDeleter> u(curl().url());
  if (!u ||
      curl().url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) {
    throw ConfigError(fmt::format("{} '{}': not a valid URL", key, url));
  }
  UrlParts p;
  p.scheme = part(u.get(), CURLUPART_SCHEME);
  std::transform(
    p.scheme.begin(), p.scheme.end(), p.scheme.begin(),
    [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  p.host = part(u.get(), CURLUPART_HOST);
  if (p.host.size() >= 2 && p.host.front() == '[' && p.host.back() == ']') {
    p.host = p.host.substr(1, p.host.size() - 2);
  }
  p.port = part(u.get(), CURLUPART_PORT, CURLU_DEFAULT_PORT);
  p.has_userinfo = !part(u.get(), CURLUPART_USER).empty() ||
                   !part(u.get(), CURLUPART_PASSWORD).empty();
  if (p.scheme != "http" && p.scheme != "https") {
    throw ConfigError(fmt::format(
      "{} '{}': scheme must be https (or http to loopback)", key, url));
  }
  if (p.host.empty()) {
    throw ConfigError(fmt::format("{} '{}': no host", key, url));
  }
  return p;
}

std::string origin(const UrlParts& p)
{
  const bool v6 = p.host.find(':') != std::string::npos;
  return fmt::format("{}://{}{}{}:{}", p.scheme, v6 ? "[" : "", p.host,
                     v6 ? "]" : "", p.port);
}

bool is_loopback(const std::string& host)
{
  std::string h = host;
  std::transform(h.begin(), h.end(), h.begin(), [](unsigned char c) {
    return static_cast<char>(std::tolower(c));
  });
  if (h == "localhost") {
    return true;
  }
  in_addr v4{};
  if (inet_pton(AF_INET, h.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24U) == 127;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, h.c_str(), &v6) == 1) {
    return IN6_IS_ADDR_LOOPBACK(&v6);
  }
  return false;
}

std::string checked_origin(const std::string& url, const std::string& key)
{
  const UrlParts p = parse_url(url, key);
  if (p.has_userinfo) {
    // Not echoed: the user information may hold a password.
    throw ConfigError(fmt::format(
      "{}: user information in the URL is refused (host {})", key, p.host));
  }
  if (p.scheme == "http" && !is_loopback(p.host)) {
    throw ConfigError(fmt::format(
      "{} '{}': cleartext http is allowed only to loopback; use https", key,
      url));
  }
  return origin(p);
}

} // namespace vtc::http
