#include "core/member.hpp"

#include <doctest/doctest.h>
#include <string>
#include <vector>

using namespace vtc::core;

namespace {

constexpr TimeNs k_t0 = 1'767'225'600'000'000'000; // 2026-01-01T00:00:00Z
constexpr TimeNs k_t1 = k_t0 + 5'000'000'000;
constexpr TimeNs k_t2 = k_t0 + 9'000'000'000;

MemberState unknown_state()
{
  return {};
}

MemberState active_state()
{
  return {MemberStatus::active, "member", k_t0, std::nullopt};
}

// Departed with a history (historical removal at t1).
MemberState departed_state()
{
  return {MemberStatus::departed, "", k_t0, k_t1};
}

MemberState purged_state()
{
  return {MemberStatus::purged, "", std::nullopt, std::nullopt};
}

struct Named
{
  const char* name;
  MemberState state;
};

std::vector<Named> all_states()
{
  return {{"unknown", unknown_state()},
          {"active", active_state()},
          {"departed", departed_state()},
          {"purged", purged_state()}};
}

} // namespace

TEST_CASE("core: MemberAdded on a non-active member publishes from this event")
{
  for (const auto& [name, before] :
       {Named{"unknown", unknown_state()}, Named{"departed", departed_state()},
        Named{"purged", purged_state()}}) {
    CAPTURE(name);
    const Transition t =
      apply_event(before, {EventType::member_added, k_t2, "issuer"});
    CHECK(t.after.status == MemberStatus::active);
    CHECK(t.after.active_from == k_t2);
    CHECK_FALSE(t.after.active_to.has_value());
    CHECK(t.after.role == "issuer");
    REQUIRE(t.job.has_value());
    CHECK(*t.job == JobKind::publish);
    CHECK(t.skip_reason.empty());
  }
}

TEST_CASE("core: duplicate MemberAdded on an active member keeps active_from")
{
  const Transition t =
    apply_event(active_state(), {EventType::member_added, k_t2, "moderator"});
  CHECK(t.after.status == MemberStatus::active);
  CHECK(t.after.active_from == k_t0);
  CHECK_FALSE(t.after.active_to.has_value());
  CHECK(t.after.role == "moderator");
  REQUIRE(t.job.has_value());
  CHECK(*t.job == JobKind::update);
}

TEST_CASE("core: RoleChanged on an active member updates the role")
{
  const Transition t =
    apply_event(active_state(), {EventType::role_changed, k_t2, "moderator"});
  CHECK(t.after.status == MemberStatus::active);
  CHECK(t.after.role == "moderator");
  CHECK(t.after.active_from == k_t0);
  REQUIRE(t.job.has_value());
  CHECK(*t.job == JobKind::update);
  CHECK(t.skip_reason.empty());
}

TEST_CASE("core: RoleChanged on a non-active member changes nothing")
{
  for (const auto& [name, before] :
       {Named{"unknown", unknown_state()}, Named{"departed", departed_state()},
        Named{"purged", purged_state()}}) {
    CAPTURE(name);
    const Transition t =
      apply_event(before, {EventType::role_changed, k_t2, "moderator"});
    CHECK(t.after == before);
    CHECK_FALSE(t.job.has_value());
    CHECK(t.skip_reason == "not_active");
  }
}

TEST_CASE("core: MemberRemoved tombstone departs from every state")
{
  for (const auto& [name, before] : all_states()) {
    CAPTURE(name);
    const Transition t = apply_event(
      before, {EventType::member_removed, k_t2, ""}, Disposition::tombstone);
    CHECK(t.after.status == MemberStatus::departed);
    CHECK(t.after.role.empty()); // no role on departed records
    CHECK_FALSE(t.after.active_to.has_value());
    CHECK(t.after.active_from == before.active_from);
    REQUIRE(t.job.has_value());
    CHECK(*t.job == JobKind::depart);
    CHECK(t.skip_reason.empty());
  }
}

TEST_CASE("core: MemberRemoved historical departs with active_to = event time")
{
  for (const auto& [name, before] : all_states()) {
    CAPTURE(name);
    const Transition t = apply_event(
      before, {EventType::member_removed, k_t2, ""}, Disposition::historical);
    CHECK(t.after.status == MemberStatus::departed);
    CHECK(t.after.role.empty());
    CHECK(t.after.active_to == k_t2);
    CHECK(t.after.active_from == before.active_from);
    REQUIRE(t.job.has_value());
    CHECK(*t.job == JobKind::depart);
  }
}

TEST_CASE("core: MemberRemoved purge purges from every state")
{
  for (const auto& [name, before] : all_states()) {
    CAPTURE(name);
    const Transition t = apply_event(
      before, {EventType::member_removed, k_t2, ""}, Disposition::purge);
    CHECK(t.after.status == MemberStatus::purged);
    CHECK(t.after.role.empty());
    REQUIRE(t.job.has_value());
    CHECK(*t.job == JobKind::erase);
    CHECK(to_string(*t.job) == "delete");
  }
}

TEST_CASE("core: names round-trip and reject unknown text")
{
  for (auto s : {MemberStatus::unknown, MemberStatus::active,
                 MemberStatus::departed, MemberStatus::purged}) {
    CHECK(member_status_from(to_string(s)) == s);
  }
  for (auto d :
       {Disposition::purge, Disposition::tombstone, Disposition::historical}) {
    CHECK(disposition_from(to_string(d)) == d);
  }
  for (auto k :
       {JobKind::publish, JobKind::update, JobKind::depart, JobKind::erase}) {
    CHECK(job_kind_from(to_string(k)) == k);
  }
  CHECK(to_string(Disposition::purge) == "purge");
  CHECK(to_string(Disposition::tombstone) == "tombstone");
  CHECK(to_string(Disposition::historical) == "historical");
  CHECK_FALSE(disposition_from("Purge").has_value());
  CHECK_FALSE(disposition_from("").has_value());
  CHECK_FALSE(job_kind_from("erase").has_value());
  CHECK_FALSE(member_status_from("gone").has_value());
}

TEST_CASE("core: is_valid_did accepts DID Core syntax and nothing else")
{
  struct Case
  {
    std::string did;
    bool valid;
  };
  const std::string max_len = "did:key:" + std::string(2048 - 8, 'a');
  const std::string too_long = "did:key:" + std::string(2049 - 8, 'a');
  REQUIRE(max_len.size() == 2048);
  REQUIRE(too_long.size() == 2049);
  const std::vector<Case> cases{
    {"did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", true},
    {"did:key:z6MkAlice", true},
    {"did:web:dave.example", true},
    {"did:webvh:QmCommunity:community.example", true},
    {"did:web:example.com%3A8443", true},
    {"did:web:example.com%3a8443:user%2Dalice", true},
    {"did:example:123456789abcdefghi", true},
    {"did:a1:x_y-z.w", true},
    {max_len, true},
    {too_long, false},
    {"", false},
    {"did:", false},
    {"did:key", false},
    {"did:key:", false},     // empty method-specific id
    {"did::z6Mk", false},    // empty method
    {"did:KEY:z6Mk", false}, // upper-case method
    {"did:Key:z6Mk", false},
    {"DID:key:z6Mk", false},
    {"did:web:dave.example:", false}, // trailing colon
    {"did:key:z6\x01Mk", false},      // control character
    {"did:key:z6Mk\n", false},
    {"did:key:z6Mk\x7f", false}, // DEL
    {std::string("did:key:z6\0Mk", 13), false},
    {"did:key:z6 Mk", false},
    {"did:key:%zz", false},  // bad percent-encoding
    {"did:key:ab%4", false}, // truncated percent-encoding
    {"did:key:ab%", false},
    {"did:web:dave.example/path", false},
    {"did:web:dave.example?x=1", false},
    {"did:web:dave.example#frag", false},
    {"did:web:caf\xc3\xa9.example", false},
    {"did:we-b:x", false}, // '-' is not allowed in a method name
    {" did:key:z6Mk", false},
  };
  for (const auto& c : cases) {
    CAPTURE(c.did);
    CHECK(is_valid_did(c.did) == c.valid);
  }
}
