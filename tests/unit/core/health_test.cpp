#include "core/health.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace vtc;
using core::AnswerClass;
using core::Health;
using core::HealthState;

namespace {

constexpr core::TimeNs k_s = core::k_ns_per_second;
constexpr core::TimeNs k_t0 = 1'000 * k_s;

Health in_state(HealthState state, std::int64_t failures = 0)
{
  Health h;
  h.state = state;
  h.since = 1;
  h.consecutive_failures = failures;
  return h;
}

} // namespace

TEST_CASE("health: one answer moves the state and the failure count")
{
  struct Row
  {
    HealthState before;
    std::int64_t failures_before;
    AnswerClass cls;
    int status;
    HealthState after;
    std::int64_t failures_after;
  };
  // clang-format off
  const std::vector<Row> rows = {
    // A success clears the count and makes a degraded registry active.
    {HealthState::active,       0, AnswerClass::success,      200, HealthState::active,       0},
    {HealthState::degraded,     4, AnswerClass::success,      200, HealthState::active,       0},
    // Only a probe clears incompatible.
    {HealthState::incompatible, 0, AnswerClass::success,      200, HealthState::incompatible, 0},
    // 5xx, 408 and no answer count for the breaker.
    {HealthState::active,       0, AnswerClass::transient,    503, HealthState::degraded,     1},
    {HealthState::degraded,     2, AnswerClass::transient,    408, HealthState::degraded,     3},
    {HealthState::active,       0, AnswerClass::unreachable,    0, HealthState::degraded,     1},
    // A 429 degrades but is the registry asking to wait, not failing.
    {HealthState::active,       0, AnswerClass::transient,    429, HealthState::degraded,     0},
    // A permanent answer is the job's fault, not the registry's.
    {HealthState::active,       3, AnswerClass::permanent,    422, HealthState::active,       3},
    {HealthState::active,       0, AnswerClass::incompatible, 405, HealthState::incompatible, 0},
    {HealthState::degraded,     1, AnswerClass::incompatible, 501, HealthState::incompatible, 1},
    {HealthState::incompatible, 0, AnswerClass::transient,    503, HealthState::incompatible, 1},
    {HealthState::active,       0, AnswerClass::auth,         401, HealthState::degraded,     0},
  };
  // clang-format on
  for (const Row& r : rows) {
    CAPTURE(core::to_string(r.before));
    CAPTURE(core::to_string(r.cls));
    CAPTURE(r.status);
    const Health h = core::observe(in_state(r.before, r.failures_before), r.cls,
                                   r.status, "the error", k_t0);
    CHECK(h.state == r.after);
    CHECK(h.consecutive_failures == r.failures_after);
    // `since` moves only when the state does.
    CHECK(h.since == (r.after == r.before ? 1 : k_t0));
    if (r.cls == AnswerClass::success) {
      CHECK(h.last_success == k_t0);
      CHECK_FALSE(h.last_failure);
    } else {
      CHECK(h.last_failure == k_t0);
      CHECK(h.last_error == "the error");
      CHECK_FALSE(h.last_success);
    }
  }
}

TEST_CASE("health: the breaker stays open 30 s, doubling per trip up to the "
          "maximum backoff")
{
  struct Row
  {
    std::int64_t trips_before;
    std::int64_t max_backoff;
    core::TimeNs open_for;
  };
  const std::vector<Row> rows = {
    {0, 3600, 30 * k_s},   {1, 3600, 60 * k_s},   {2, 3600, 120 * k_s},
    {6, 3600, 1920 * k_s}, {7, 3600, 3600 * k_s}, {40, 3600, 3600 * k_s},
    {0, 10, 10 * k_s},     {3, 100, 100 * k_s},
  };
  for (const Row& r : rows) {
    CAPTURE(r.trips_before);
    CAPTURE(r.max_backoff);
    Health h = in_state(HealthState::degraded, 5);
    h.breaker_trips = r.trips_before;
    const Health open = core::trip(h, k_t0, r.max_backoff);
    CHECK(open.breaker_trips == r.trips_before + 1);
    REQUIRE(open.breaker_open_until);
    CHECK(*open.breaker_open_until == k_t0 + r.open_for);
    CHECK(core::breaker_open(open, k_t0 + r.open_for - 1));
    CHECK_FALSE(core::breaker_open(open, k_t0 + r.open_for));
    CHECK_FALSE(core::probe_due(open, k_t0 + r.open_for - 1));
    CHECK(core::probe_due(open, k_t0 + r.open_for));
  }
}

TEST_CASE("health: a trip degrades an active registry and keeps another state")
{
  const Health from_active =
    core::trip(in_state(HealthState::active), k_t0, 3600);
  CHECK(from_active.state == HealthState::degraded);
  CHECK(from_active.since == k_t0);
  const Health from_incompatible =
    core::trip(in_state(HealthState::incompatible), k_t0, 3600);
  CHECK(from_incompatible.state == HealthState::incompatible);
  CHECK(from_incompatible.since == 1);
}

TEST_CASE("health: a probe's success closes the breaker and clears "
          "incompatible; its failure reopens it for longer")
{
  for (const HealthState before :
       {HealthState::degraded, HealthState::incompatible}) {
    CAPTURE(core::to_string(before));
    Health h = core::trip(in_state(before, 5), k_t0, 3600);
    h = core::trip(h, k_t0, 3600); // the second trip: 60 s
    CHECK(core::probe_due(h, k_t0 + 60 * k_s));

    const Health ok = core::observe_probe(h, AnswerClass::success, 200, "",
                                          k_t0 + 60 * k_s, 3600);
    CHECK(ok.state == HealthState::active);
    CHECK(ok.since == k_t0 + 60 * k_s);
    CHECK(ok.breaker_trips == 0);
    CHECK_FALSE(ok.breaker_open_until);
    CHECK(ok.consecutive_failures == 0);
    CHECK_FALSE(core::probe_due(ok, k_t0 + 60 * k_s));

    const Health failed =
      core::observe_probe(h, AnswerClass::unreachable, 0, "connection refused",
                          k_t0 + 60 * k_s, 3600);
    CHECK(failed.state == before);
    CHECK(failed.breaker_trips == 3);
    CHECK(failed.breaker_open_until == k_t0 + 60 * k_s + 120 * k_s);
    CHECK(failed.last_error == "connection refused");
  }
}

TEST_CASE("health: an incompatible registry needs a probe whatever the breaker")
{
  CHECK(core::probe_due(in_state(HealthState::incompatible), 0));
  CHECK_FALSE(core::probe_due(in_state(HealthState::degraded), k_t0));
  CHECK_FALSE(core::breaker_open(in_state(HealthState::incompatible), k_t0));
}

TEST_CASE("health: states read back from their names")
{
  for (const HealthState s : {HealthState::active, HealthState::degraded,
                              HealthState::incompatible}) {
    CHECK(core::health_state_from(core::to_string(s)) == s);
  }
  CHECK_FALSE(core::health_state_from("open"));
}

TEST_CASE("health: the Idempotency-Key names the job, the retry round and "
          "the request's digest")
{
  CHECK(core::idempotency_key("evt-1", 0, 0x1234) == "evt-1/0000000000001234");
  CHECK(core::idempotency_key("evt-1", 2, -1) == "evt-1/r2/ffffffffffffffff");
  CHECK(core::idempotency_key("reconcile:ab", 0, 0x0123456789abcdef) ==
        "reconcile:ab/0123456789abcdef");
}
