#include "core/job.hpp"

#include <cstdint>
#include <doctest/doctest.h>
#include <limits>
#include <vector>

using namespace vtc::core;

TEST_CASE("core: job state and outcome names")
{
  for (auto s : {JobState::pending, JobState::in_flight, JobState::failed}) {
    CHECK(job_state_from(to_string(s)) == s);
  }
  CHECK(to_string(JobState::in_flight) == "in_flight");
  CHECK_FALSE(job_state_from("done").has_value());
  CHECK(to_string(OutcomeKind::superseded) == "superseded");
  CHECK(to_string(OutcomeKind::policy_override) == "policy_override");
  CHECK(to_string(OutcomeKind::invalid_event) == "invalid_event");
  CHECK(to_string(OutcomeKind::entry_skipped) == "entry_skipped");
  CHECK(to_string(OutcomeKind::status_changed) == "status_changed");
}

namespace {

// The backoff of docs/design.md, Job states, written out independently:
// min(2^k + jitter, cap), computed without ever forming 2^k when it would
// exceed the cap. Valid for caps below 2^61.
std::int64_t expected_backoff(int k, std::int64_t jitter, std::int64_t cap)
{
  if (k >= 61) {
    return cap;
  }
  const std::int64_t base = std::int64_t{1} << k;
  if (base >= cap) {
    return cap;
  }
  return std::min(base + jitter, cap);
}

} // namespace

TEST_CASE("core: backoff_seconds is min(2^k + jitter, max) for k = 1..70")
{
  const std::vector<std::int64_t> caps{1, 60, 3600, 86400,
                                       std::int64_t{1} << 40};
  for (const std::int64_t cap : caps) {
    for (int k = 1; k <= 70; ++k) {
      for (std::int64_t jitter = 0; jitter <= k; ++jitter) {
        const std::int64_t got = backoff_seconds(k, jitter, cap);
        if (got != expected_backoff(k, jitter, cap)) {
          CAPTURE(cap);
          CAPTURE(k);
          CAPTURE(jitter);
          CHECK(got == expected_backoff(k, jitter, cap));
        }
        // Saturating: never above the cap, never negative (no overflow).
        REQUIRE(got >= 1);
        REQUIRE(got <= cap);
      }
    }
  }
  // Spot values.
  CHECK(backoff_seconds(1, 0, 3600) == 2);
  CHECK(backoff_seconds(1, 1, 3600) == 3);
  CHECK(backoff_seconds(10, 10, 3600) == 1034);
  CHECK(backoff_seconds(11, 0, 3600) == 2048);
  CHECK(backoff_seconds(11, 11, 3600) == 2059);
  CHECK(backoff_seconds(12, 0, 3600) == 3600);
  CHECK(backoff_seconds(11, 11, 2050) == 2050); // jitter pushes past the cap
  CHECK(backoff_seconds(16, 16, 86400) == 65552);
  CHECK(backoff_seconds(17, 0, 86400) == 86400);
}

TEST_CASE("core: backoff_seconds does not overflow for k >= 62")
{
  for (int k : {62, 63, 64, 65, 100, 1000, std::numeric_limits<int>::max()}) {
    CAPTURE(k);
    CHECK(backoff_seconds(k, 0, 3600) == 3600);
    CHECK(backoff_seconds(k, k > 1000 ? 1000 : k, 86400) == 86400);
    CHECK(backoff_seconds(k, 0, 1) == 1);
  }
}

TEST_CASE("core: backoff_seconds honours Retry-After, capped at max")
{
  struct Case
  {
    int k;
    std::int64_t jitter;
    std::int64_t cap;
    std::int64_t retry_after;
    std::int64_t expected;
  };
  const std::vector<Case> cases{
    {1, 0, 3600, 100, 100},    // floor above the computed 2 s
    {1, 1, 3600, 2, 3},        // computed is later than Retry-After
    {5, 0, 3600, 32, 32},      // equal
    {5, 3, 3600, 33, 35},      // computed 35 wins
    {1, 0, 3600, 10000, 3600}, // Retry-After is capped
    {1, 0, 3600, 3600, 3600},   {20, 0, 3600, 10, 3600}, // saturated anyway
    {70, 70, 3600, 7200, 3600}, {3, 0, 3600, 0, 8},      // zero changes nothing
    {3, 1, 3600, -5, 9}, // nonsense negative changes nothing
  };
  for (const auto& c : cases) {
    CAPTURE(c.k);
    CAPTURE(c.retry_after);
    CHECK(backoff_seconds(c.k, c.jitter, c.cap, c.retry_after) == c.expected);
  }
}
