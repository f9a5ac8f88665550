// publish_on_join at dispatch (SPEC §5.3) and RTBF window properties that
// policy_test.cpp's fixed cases do not cover: times before the epoch and
// the window invariants for many window sizes.

#include "core/policy.hpp"

#include <doctest/doctest.h>
#include <vector>

using namespace vtc::core;

TEST_CASE("core: skipped_by_publish_on_join, the whole table")
{
  struct Row
  {
    bool publish_on_join;
    MemberStatus status;
    bool mirror_absent;
    bool skipped;
  };
  // true: nothing is ever skipped. false: an active record is never sent;
  // a departed one only when the registry may hold the record (mirror not
  // absent: present or unknown); deletes are always sent.
  const std::vector<Row> table{
    { true, MemberStatus::active, true, false },
    { true, MemberStatus::active, false, false },
    { true, MemberStatus::departed, true, false },
    { true, MemberStatus::departed, false, false },
    { true, MemberStatus::purged, true, false },
    { true, MemberStatus::purged, false, false },
    { true, MemberStatus::unknown, true, false },
    { true, MemberStatus::unknown, false, false },
    { false, MemberStatus::active, true, true },
    { false, MemberStatus::active, false, true },
    { false, MemberStatus::departed, true, true },
    { false, MemberStatus::departed, false, false },
    { false, MemberStatus::purged, true, false },
    { false, MemberStatus::purged, false, false },
    { false, MemberStatus::unknown, false, false },
  };
  for (const auto& r : table) {
    CAPTURE(r.publish_on_join);
    CAPTURE(to_string(r.status));
    CAPTURE(r.mirror_absent);
    CHECK(skipped_by_publish_on_join(
            r.publish_on_join, r.status, r.mirror_absent) == r.skipped);
  }
}

namespace {

constexpr TimeNs k_hour = 3600 * k_ns_per_second;

TimeNs floor_mod(TimeNs a, TimeNs b)
{
  const TimeNs m = a % b;
  return m < 0 ? m + b : m;
}

} // namespace

TEST_CASE("core: rtbf_release_time before the epoch is still the window end")
{
  const TimeNs day = 24 * k_hour;
  // [-1 day, 0) ends at the epoch; its first and last nanoseconds too.
  CHECK(rtbf_release_time(-1, 24) == 0);
  CHECK(rtbf_release_time(-day, 24) == 0);
  CHECK(rtbf_release_time(-day - 1, 24) == -day);
  CHECK(rtbf_release_time(-12 * k_hour, 24) == 0);
  CHECK(rtbf_release_time(-1, 0) == -1);
  CHECK(rtbf_release_time(-5 * k_hour, 5) == 0);
  CHECK(rtbf_release_time(-5 * k_hour - 1, 5) == -5 * k_hour);
}

TEST_CASE("core: rtbf_release_time invariants over window sizes")
{
  // 1969-12-31 .. 2038, with awkward offsets.
  const std::vector<TimeNs> times{
    -86'400 * k_ns_per_second + 7,
    -1,
    0,
    1,
    k_hour - 1,
    k_hour,
    1'767'225'600LL * k_ns_per_second,                 // 2026-01-01T00:00:00Z
    1'767'225'600LL * k_ns_per_second + 2'750'000'000, // Carol's self-purge
    1'767'311'999LL * k_ns_per_second +
      999'999'999, // 2026-01-01T23:59:59.999999999Z
    2'147'483'647LL * k_ns_per_second
  };
  for (const std::int64_t hours :
       { 1, 2, 3, 5, 7, 23, 24, 25, 168, 720, 8760 }) {
    const TimeNs w = hours * k_hour;
    for (const TimeNs t : times) {
      CAPTURE(hours);
      CAPTURE(t);
      const TimeNs end = rtbf_release_time(t, hours);
      // Half-open [start, end): strictly after t, at most one window later,
      // on a window boundary counted from the epoch.
      CHECK(end > t);
      CHECK(end - t <= w);
      CHECK(floor_mod(end, w) == 0);
      // Everything in the same window is released together; the end itself
      // starts the next window.
      CHECK(rtbf_release_time(end - 1, hours) == end);
      CHECK(rtbf_release_time(end - w, hours) == end);
      CHECK(rtbf_release_time(end, hours) == end + w);
      // Window 0: at once.
      CHECK(rtbf_release_time(t, 0) == t);
    }
  }
}
