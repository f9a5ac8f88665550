// What dispatch sends (publish_on_join, consent) and RTBF window properties
// that policy_test.cpp's fixed cases do not cover: times before the epoch and
// the window invariants for many window sizes.

#include "core/policy.hpp"

#include <doctest/doctest.h>
#include <vector>

using namespace vtc::core;

TEST_CASE("core: decide_send, the whole table")
{
  // One row per (publish_on_join, status, consent, require_consent); `sends`
  // gives what is sent for the mirror absent, present and unknown: P = PUT,
  // D = DELETE, c = nothing for consent, j = nothing for publish_on_join.
  struct Row
  {
    bool publish_on_join;
    MemberStatus status;
    Consent consent;
    bool require_consent;
    const char* sends;
  };
  constexpr auto active = MemberStatus::active;
  constexpr auto departed = MemberStatus::departed;
  constexpr auto purged = MemberStatus::purged;
  constexpr auto unknown = Consent::unknown;
  constexpr auto granted = Consent::granted;
  constexpr auto withdrawn = Consent::withdrawn;
  const std::vector<Row> table{
    // Consent that allows publication: the record is put.
    {true, active, unknown, false, "PPP"},
    {true, active, granted, false, "PPP"},
    {true, active, granted, true, "PPP"},
    {true, departed, unknown, false, "PPP"},
    {true, departed, granted, false, "PPP"},
    {true, departed, granted, true, "PPP"},
    // Consent that blocks it: whatever the registry may hold is deleted.
    {true, active, unknown, true, "cDD"},
    {true, active, withdrawn, false, "cDD"},
    {true, active, withdrawn, true, "cDD"},
    {true, departed, unknown, true, "cDD"},
    {true, departed, withdrawn, false, "cDD"},
    {true, departed, withdrawn, true, "cDD"},
    // Purges are sent whatever the consent.
    {true, purged, unknown, false, "DDD"},
    {true, purged, unknown, true, "DDD"},
    {true, purged, withdrawn, false, "DDD"},
    // publish_on_join false: never an active record, a departed one only
    // where the registry may have had the member.
    {false, active, unknown, false, "jjj"},
    {false, active, granted, true, "jjj"},
    {false, departed, unknown, false, "jPP"},
    {false, departed, granted, true, "jPP"},
    // ... and consent still deletes, before publish_on_join is asked.
    {false, active, withdrawn, false, "cDD"},
    {false, active, unknown, true, "cDD"},
    {false, departed, withdrawn, true, "cDD"},
    {false, purged, granted, false, "DDD"},
  };
  const MirrorState mirrors[] = {MirrorState::absent, MirrorState::present,
                                 MirrorState::unknown};
  for (const auto& r : table) {
    for (int i = 0; i < 3; ++i) {
      CAPTURE(r.publish_on_join);
      CAPTURE(to_string(r.status));
      CAPTURE(to_string(r.consent));
      CAPTURE(r.require_consent);
      CAPTURE(to_string(mirrors[i]));
      MemberState m;
      m.status = r.status;
      m.consent = r.consent;
      const SendDecision d = decide_send(
        m, mirrors[i], Publication{r.publish_on_join, r.require_consent});
      switch (r.sends[i]) {
      case 'P':
        CHECK(d.send == Send::put);
        break;
      case 'D':
        CHECK(d.send == Send::erase);
        break;
      case 'c':
        CHECK(d.send == Send::none);
        CHECK(d.skip_reason == "consent");
        break;
      case 'j':
        CHECK(d.send == Send::none);
        CHECK(d.skip_reason == "publish_on_join");
        break;
      }
    }
  }
}

TEST_CASE("core: a member that was never one sends nothing")
{
  const SendDecision d = decide_send(MemberState{}, MirrorState::present, {});
  CHECK(d.send == Send::none);
  CHECK(d.skip_reason == "not_a_member");
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
    2'147'483'647LL * k_ns_per_second};
  for (const std::int64_t hours : {1, 2, 3, 5, 7, 23, 24, 25, 168, 720, 8760}) {
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
