#include "core/policy.hpp"

#include <algorithm>
#include <doctest/doctest.h>
#include <optional>
#include <string>
#include <vector>

using namespace vtc::core;

namespace {

// ---- The removal rules of vtc-sync(1), MEMBERS AND JOBS, written out on
// plain strings, independently of the code.

int preserves(const std::string& d)
{
  if (d == "historical") {
    return 2;
  }
  if (d == "tombstone") {
    return 1;
  }
  return 0; // purge
}

struct Expected
{
  std::string effective;
  std::string would_be;
  bool rtbf;
  std::string reason;
};

Expected spec_rule(const std::vector<std::string>& options,
                   const std::string& default_departure,
                   const std::string& floor,
                   const std::optional<std::string>& requested, bool self)
{
  const bool known =
    requested && (*requested == "purge" || *requested == "tombstone" ||
                  *requested == "historical");
  std::string d;
  std::string reason;
  if (!known) {
    // "a missing or unknown one is default_departure"
    d = default_departure;
    reason = "unknown_disposition";
  } else if (std::find(options.begin(), options.end(), *requested) ==
             options.end()) {
    // "the requested one if it is in departure_options, else default"
    d = default_departure;
    reason = "not_offered";
  } else {
    d = *requested;
  }
  // "the floor raises it to min_disposition when it preserves less"
  if (preserves(d) < preserves(floor)) {
    d = floor;
    reason = "floor";
  }
  Expected e;
  e.would_be = d;
  // RTBF: exactly "purge", actor hash == target hash: stays purge; an
  // override is recorded when the rules would have changed it.
  if (self && requested && *requested == "purge") {
    e.rtbf = true;
    e.effective = "purge";
    e.reason = d != "purge" ? "rtbf" : "";
    return e;
  }
  e.rtbf = false;
  e.effective = d;
  // Recorded only when the outcome differs from what was requested.
  e.reason = known && d == *requested ? "" : reason;
  return e;
}

Disposition parse(const std::string& d)
{
  const auto p = disposition_from(d);
  REQUIRE(p.has_value());
  return *p;
}

} // namespace

TEST_CASE("core: effective_disposition follows the disposition rules for "
          "every combination")
{
  const std::vector<std::optional<std::string>> requests{
    std::string("purge"), std::string("tombstone"), std::string("historical"),
    std::nullopt,         std::string("x"),         std::string("Purge"),
    std::string("")};
  const std::vector<std::vector<std::string>> option_sets{
    {"purge", "tombstone", "historical"},
    {"tombstone"},
    {"historical", "tombstone"},
    {"purge"},
    {"purge", "historical"},
  };
  const std::vector<std::string> all{"purge", "tombstone", "historical"};
  int combinations = 0;
  for (const auto& requested : requests) {
    for (const auto& options : option_sets) {
      for (const auto& default_departure : all) {
        for (const auto& floor : all) {
          for (const bool self : {false, true}) {
            Policy policy;
            policy.default_departure = parse(default_departure);
            policy.min_disposition = parse(floor);
            policy.departure_options.clear();
            for (const auto& o : options) {
              policy.departure_options.push_back(parse(o));
            }
            const Expected want =
              spec_rule(options, default_departure, floor, requested, self);
            const DispositionDecision got =
              effective_disposition(policy, requested, self);
            ++combinations;
            const bool same = to_string(got.effective) == want.effective &&
                              got.rtbf == want.rtbf &&
                              got.override_reason == want.reason &&
                              to_string(got.would_be) == want.would_be;
            if (!same) {
              CAPTURE(requested.value_or("<missing>"));
              CAPTURE(options.size());
              CAPTURE(options.front());
              CAPTURE(default_departure);
              CAPTURE(floor);
              CAPTURE(self);
              CHECK(to_string(got.effective) == want.effective);
              CHECK(got.rtbf == want.rtbf);
              CHECK(got.override_reason == want.reason);
              CHECK(to_string(got.would_be) == want.would_be);
            }
          }
        }
      }
    }
  }
  CHECK(combinations == 7 * 5 * 3 * 3 * 2);
}

TEST_CASE("core: effective_disposition spot checks")
{
  const Policy defaults;
  // No policy: every request stands.
  for (const char* d : {"purge", "tombstone", "historical"}) {
    CAPTURE(d);
    const auto r = effective_disposition(defaults, std::string(d), false);
    CHECK(to_string(r.effective) == d);
    CHECK(r.override_reason.empty());
    CHECK_FALSE(r.rtbf);
  }
  // Missing: the default, recorded.
  auto r = effective_disposition(defaults, std::nullopt, false);
  CHECK(r.effective == Disposition::tombstone);
  CHECK(r.override_reason == "unknown_disposition");

  // Floor historical: an admin purge becomes historical.
  Policy floor;
  floor.min_disposition = Disposition::historical;
  r = effective_disposition(floor, std::string("purge"), false);
  CHECK(r.effective == Disposition::historical);
  CHECK(r.override_reason == "floor");
  CHECK_FALSE(r.rtbf);

  // The member's own purge bypasses the floor, and says so.
  r = effective_disposition(floor, std::string("purge"), true);
  CHECK(r.effective == Disposition::purge);
  CHECK(r.rtbf);
  CHECK(r.override_reason == "rtbf");
  CHECK(r.would_be == Disposition::historical);

  // Self-request of tombstone is not RTBF.
  r = effective_disposition(floor, std::string("tombstone"), true);
  CHECK_FALSE(r.rtbf);
  CHECK(r.effective == Disposition::historical);

  // RTBF under no policy: purge, nothing to record.
  r = effective_disposition(defaults, std::string("purge"), true);
  CHECK(r.rtbf);
  CHECK(r.effective == Disposition::purge);
  CHECK(r.override_reason.empty());
}

namespace {

constexpr TimeNs k_hour = 3600 * k_ns_per_second;
constexpr TimeNs k_day = 24 * k_hour;
constexpr TimeNs k_2026_01_01 = 1'767'225'600LL * k_ns_per_second;
constexpr TimeNs k_2026_01_02 = k_2026_01_01 + k_day;
constexpr TimeNs k_2026_01_03 = k_2026_01_02 + k_day;

} // namespace

TEST_CASE("core: rtbf_release_time is the end of the half-open window")
{
  struct Case
  {
    const char* what;
    TimeNs t;
    std::int64_t hours;
    TimeNs expected;
  };
  const std::vector<Case> cases{
    // The basic vector: Carol's self-purge.
    {"carol", parse_rfc3339("2026-01-01T00:00:02.750Z").value(), 24,
     parse_rfc3339("2026-01-02T00:00:00Z").value()},
    {"start of a window", k_2026_01_02, 24, k_2026_01_03},
    {"last nanosecond", k_2026_01_02 - 1, 24, k_2026_01_02},
    {"first nanosecond", k_2026_01_01 + 1, 24, k_2026_01_02},
    {"midday", k_2026_01_01 + 12 * k_hour, 24, k_2026_01_02},
    {"window 0: at once", k_2026_01_01 + 12345, 0, k_2026_01_01 + 12345},
    {"window 0 on a boundary", k_2026_01_02, 0, k_2026_01_02},
    {"1 h", k_2026_01_01 + 30 * 60 * k_ns_per_second, 1, k_2026_01_01 + k_hour},
    {"1 h boundary", k_2026_01_01 + k_hour, 1, k_2026_01_01 + 2 * k_hour},
    // 5 h windows are aligned to the epoch, not to midnight:
    // 2026-01-01T00:00Z is epoch hour 490896 = 5 * 98179 + 1.
    {"5 h from the epoch", k_2026_01_01, 5, k_2026_01_01 + 4 * k_hour},
    {"5 h boundary", k_2026_01_01 - k_hour, 5, k_2026_01_01 + 4 * k_hour},
    {"epoch", 0, 24, k_day},
    {"one year", k_2026_01_01, 8760,
     // 2026-01-01 is epoch day 20454 = 365 * 56 + 14.
     (365LL * 57) * k_day},
  };
  for (const auto& c : cases) {
    CAPTURE(c.what);
    CHECK(rtbf_release_time(c.t, c.hours) == c.expected);
  }
}

TEST_CASE("core: rtbf_release_time groups a whole window together")
{
  // Everything in [2026-01-01, 2026-01-02) is released at one instant.
  for (TimeNs t = k_2026_01_01; t < k_2026_01_02; t += 7 * k_hour / 3) {
    CHECK(rtbf_release_time(t, 24) == k_2026_01_02);
  }
}
