#include "core/timestamp.hpp"

#include <doctest/doctest.h>
#include <limits>
#include <string>
#include <vector>

using namespace vtc::core;

namespace {

// Seconds since the epoch, computed with Python's calendar.timegm.
constexpr TimeNs k_2026_05_11 = 1'778'457'600LL * k_ns_per_second;
constexpr TimeNs k_2026_01_01 = 1'767'225'600LL * k_ns_per_second;
constexpr TimeNs k_2024_02_29_123456 = 1'709'210'096LL * k_ns_per_second;
constexpr TimeNs k_2000_02_29 = 951'782'400LL * k_ns_per_second;

} // namespace

TEST_CASE("core: format_rfc3339 uses the shortest exact of 0/3/6/9 digits")
{
  struct Case
  {
    TimeNs t;
    std::string base; // without suffix
  };
  const std::vector<Case> cases{
    {0, "1970-01-01T00:00:00"},
    {k_2026_05_11, "2026-05-11T00:00:00"},
    {k_2026_05_11 + 120'000'000, "2026-05-11T00:00:00.120"},
    {k_2026_05_11 + 100'000'000, "2026-05-11T00:00:00.100"},
    {k_2026_05_11 + 1'000'000, "2026-05-11T00:00:00.001"},
    {k_2026_05_11 + 1'000, "2026-05-11T00:00:00.000001"},
    {k_2026_05_11 + 100'000, "2026-05-11T00:00:00.000100"},
    {k_2026_05_11 + 123'456'000, "2026-05-11T00:00:00.123456"},
    {k_2026_05_11 + 123'456'789, "2026-05-11T00:00:00.123456789"},
    {k_2026_05_11 + 1, "2026-05-11T00:00:00.000000001"},
    {k_2026_05_11 + 120'000'001, "2026-05-11T00:00:00.120000001"},
    {k_2026_01_01 + 2'750'000'000, "2026-01-01T00:00:02.750"},
    {k_2026_01_01 - 1, "2025-12-31T23:59:59.999999999"},
    {k_2024_02_29_123456, "2024-02-29T12:34:56"},
    {k_2000_02_29, "2000-02-29T00:00:00"},
    {-1, "1969-12-31T23:59:59.999999999"},
    {-k_ns_per_second, "1969-12-31T23:59:59"},
    // The ends of the TimeNs range.
    {std::numeric_limits<TimeNs>::min(), "1677-09-21T00:12:43.145224192"},
    {std::numeric_limits<TimeNs>::max(), "2262-04-11T23:47:16.854775807"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.t);
    CHECK(format_rfc3339(c.t) == c.base + "Z");
    CHECK(format_rfc3339(c.t, "Z") == c.base + "Z");
    CHECK(format_rfc3339(c.t, "+00:00") == c.base + "+00:00");
  }
  // The examples of docs/design.md, Audit hash chain, verbatim.
  CHECK(format_rfc3339(k_2026_05_11, "+00:00") == "2026-05-11T00:00:00+00:00");
  CHECK(format_rfc3339(k_2026_05_11 + 120'000'000, "+00:00") ==
        "2026-05-11T00:00:00.120+00:00");
  CHECK(format_rfc3339(k_2026_05_11 + 1'000, "+00:00") ==
        "2026-05-11T00:00:00.000001+00:00");
}

TEST_CASE("core: parse_rfc3339 accepts Z times with 0 to 9 fraction digits")
{
  struct Case
  {
    std::string text;
    TimeNs expected;
  };
  const std::vector<Case> cases{
    {"1970-01-01T00:00:00Z", 0},
    {"2026-05-11T00:00:00Z", k_2026_05_11},
    {"2026-05-11T00:00:00.1Z", k_2026_05_11 + 100'000'000},
    {"2026-05-11T00:00:00.12Z", k_2026_05_11 + 120'000'000},
    {"2026-05-11T00:00:00.120Z", k_2026_05_11 + 120'000'000},
    {"2026-05-11T00:00:00.0001Z", k_2026_05_11 + 100'000},
    {"2026-05-11T00:00:00.000001Z", k_2026_05_11 + 1'000},
    {"2026-05-11T00:00:00.000000001Z", k_2026_05_11 + 1},
    {"2026-05-11T00:00:00.123456789Z", k_2026_05_11 + 123'456'789},
    {"2026-01-01T00:00:02.750Z", k_2026_01_01 + 2'750'000'000},
    {"2025-12-31T23:59:59.999999999Z", k_2026_01_01 - 1},
    {"2024-02-29T12:34:56Z", k_2024_02_29_123456},
    {"2000-02-29T00:00:00Z", k_2000_02_29},
  };
  for (const auto& c : cases) {
    CAPTURE(c.text);
    const auto t = parse_rfc3339(c.text);
    REQUIRE(t.has_value());
    CHECK(*t == c.expected);
  }
}

TEST_CASE("core: parse_rfc3339 rejects anything but the exact Z form")
{
  const std::vector<std::string> bad{
    "",
    "2026-05-11T00:00:00",  // no Z
    "2026-05-11t00:00:00Z", // lower-case t
    "2026-05-11T00:00:00z", // lower-case z
    "2026-05-11 00:00:00Z",
    "2026-05-11T00:00:00.1234567890Z", // 10 fraction digits
    "2026-05-11T00:00:00.Z",           // empty fraction
    "2026-05-11T00:00:00,5Z",
    "2026-02-30T00:00:00Z", // Feb 30
    "2025-02-29T00:00:00Z", // not a leap year
    "1900-02-29T00:00:00Z", // century, not a leap year
    "2026-04-31T00:00:00Z",
    "2026-13-01T00:00:00Z",
    "2026-00-01T00:00:00Z",
    "2026-01-00T00:00:00Z",
    "2026-05-11T24:00:00Z", // hour 24
    "2026-05-11T23:60:00Z",
    "2026-05-11T23:59:60Z",      // leap second
    "2026-05-11T00:00:00+00:00", // offsets
    "2026-05-11T00:00:00-00:00",
    "2026-05-11T02:00:00+02:00",
    "2026-05-11T00:00:00.5+00:00",
    "2026-05-11T00:00:00ZZ",
    "2026-05-11T00:00:00Z ",
    " 2026-05-11T00:00:00Z",
    "2026-5-11T00:00:00Z",
    "26-05-11T00:00:00Z",
    "+2026-05-11T00:00:00Z",
    "2026-05-11T0:00:00Z",
    "2026-05-11T00:00:0aZ",
    "2026-05-11T00:00:00.-1Z",
  };
  for (const auto& text : bad) {
    CAPTURE(text);
    CHECK_FALSE(parse_rfc3339(text).has_value());
  }
}

TEST_CASE("core: parse_rfc3339 rejects instants outside the nanosecond range")
{
  CHECK(parse_rfc3339("2262-04-11T23:47:16.854775807Z") == INT64_MAX);
  CHECK(parse_rfc3339("1677-09-21T00:12:43.145224192Z") == INT64_MIN);
  for (const char* text :
       {"2262-04-11T23:47:16.854775808Z", "2262-04-12T00:00:00Z",
        "9999-12-31T23:59:59.999999999Z", "1677-09-21T00:12:43.145224191Z",
        "1013-01-01T00:00:03.123456Z", "0000-01-01T00:00:00Z"}) {
    CAPTURE(text);
    CHECK_FALSE(parse_rfc3339(text).has_value());
  }
}

TEST_CASE("core: parse_rfc3339 and format_rfc3339 round-trip")
{
  for (const TimeNs t :
       {TimeNs{0}, k_2026_05_11, k_2026_05_11 + 1, k_2026_05_11 + 120'000'000,
        k_2026_05_11 + 1'000, k_2024_02_29_123456 + 999'999'999}) {
    CAPTURE(t);
    CHECK(parse_rfc3339(format_rfc3339(t)) == t);
  }
}
