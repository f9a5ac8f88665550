#include "http/url.hpp"

#include "util/error.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace vtc;

TEST_CASE("http: checked_origin allows https and loopback http only")
{
  struct Ok
  {
    std::string url;
    std::string origin;
  };
  const std::vector<Ok> ok{
    {"https://registry.example", "https://registry.example:443"},
    {"https://registry.example:8443/admin", "https://registry.example:8443"},
    {"http://127.0.0.1:8080", "http://127.0.0.1:8080"},
    {"http://127.9.8.7:1/x", "http://127.9.8.7:1"},
    {"http://[::1]:1/", "http://[::1]:1"},
    {"http://localhost", "http://localhost:80"},
  };
  for (const auto& c : ok) {
    CAPTURE(c.url);
    CHECK(http::checked_origin(c.url, "registry.url") == c.origin);
  }
  const std::vector<std::string> refused{
    "http://example.org",
    "http://localhost:80@evil.example",
    "http://localhost:80@evil.example/",
    "https://user:pw@registry.example",
    "ftp://registry.example",
    "ftp://127.0.0.1",
    "file:///etc/passwd",
    "http://128.0.0.1",
    "http://localhost.evil.example",
    "http://10.0.0.1",
    "registry.example",
    "",
  };
  for (const auto& url : refused) {
    CAPTURE(url);
    CHECK_THROWS_AS(http::checked_origin(url, "registry.url"), ConfigError);
  }
}
