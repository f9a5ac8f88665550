#pragma once

#include <string>

namespace vtc::http {

// The parts of a URL that decide where a request goes, as libcurl's URL
// parser reads them.
struct UrlParts
{
  std::string scheme; // lower case
  std::string host;   // without brackets for IPv6
  std::string port;   // explicit or the scheme's default
  bool has_userinfo = false;
};

// Parses `url` with libcurl's parser. Throws ConfigError (78) naming `key`
// when it is not an absolute http(s) URL.
UrlParts parse_url(const std::string& url, const std::string& key);

// "scheme://host:port", the origin a database is bound to.
std::string origin(const UrlParts& parts);

// True for localhost, 127.0.0.0/8 and ::1.
bool is_loopback(const std::string& host);

// Checks the URL rule of vtc-sync(1), THE REGISTRY (registry, OPA and a VTC
// alike) with libcurl's parser: https, or http only to localhost, 127.0.0.0/8
// or ::1; no user information. Returns the origin. Throws ConfigError (78)
// naming `key`.
std::string checked_origin(const std::string& url, const std::string& key);

} // namespace vtc::http
