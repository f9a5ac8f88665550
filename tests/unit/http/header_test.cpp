#include "http/header.hpp"

#include <doctest/doctest.h>
#include <optional>
#include <string>
#include <vector>

using namespace vtc;

TEST_CASE("header: header_value finds a header in any case and trims it")
{
  struct Case
  {
    std::string line;
    std::optional<std::string> value;
  };
  const std::vector<Case> cases{
    {"Retry-After: 120\r\n", "120"},
    {"retry-after:120\r\n", "120"},
    {"RETRY-AFTER: \t Wed, 21 Oct 2015 07:28:00 GMT \t\r\n",
     "Wed, 21 Oct 2015 07:28:00 GMT"},
    {"Retry-After:\r\n", ""},
    {"Retry-After-Extra: 5\r\n", std::nullopt},
    {"Retry-After 5\r\n", std::nullopt},
    {"Retry-Afte: 5\r\n", std::nullopt},
    {"Retry-After", std::nullopt},
    {"", std::nullopt},
    {"X-Retry-After: 5\r\n", std::nullopt},
    {"HTTP/1.1 503 Service Unavailable\r\n", std::nullopt},
  };
  for (const auto& c : cases) {
    CAPTURE(c.line);
    const auto got = http::header_value(c.line, "retry-after");
    REQUIRE(got.has_value() == c.value.has_value());
    if (got) {
      CHECK(std::string(*got) == *c.value);
    }
  }
}

TEST_CASE("header: is_status_line recognises HTTP status lines only")
{
  CHECK(http::is_status_line("HTTP/1.1 100 Continue\r\n"));
  CHECK(http::is_status_line("HTTP/2 503\r\n"));
  CHECK_FALSE(http::is_status_line("http/1.1 200 OK\r\n"));
  CHECK_FALSE(http::is_status_line("Retry-After: 1\r\n"));
  CHECK_FALSE(http::is_status_line(""));
}
