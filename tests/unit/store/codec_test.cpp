// How ids are spelled going in and coming out of the store
// (store/codec.cpp).

#include "store_fixture.hpp"

#include <doctest/doctest.h>

#include <algorithm>

using namespace vtc;
using namespace vtc::test;
using core::JobKind;
using core::MemberStatus;

TEST_CASE_FIXTURE(
  StoreFixture,
  "store: job ids keep their spelling: event UUIDs and reconcile ids")
{
  auto carol = change("did:key:carol", MemberStatus::active, J('3'),
                      JobKind::publish, 10, 4);
  carol.job.reset(); // a member without a job, for reconcile
  write_batch(s, batch({change("did:key:alice", MemberStatus::active,
                               "6BA7B810-9DAD-41D1-80B4-00C04FD430C9",
                               JobKind::publish, 10, 2),
                        carol},
                       4));
  const auto member = s.find_member("did:key:carol");
  REQUIRE(member.has_value());
  const std::string reconcile = "reconcile:0123456789abcdef0123456789abcdef";
  s.add_jobs({{reconcile, member->id, JobKind::update}});

  std::vector<std::string> ids = job_ids(s.jobs({}));
  std::sort(ids.begin(), ids.end());
  // A UUID comes back in lowercase, the spelling of every id vtc-sync shows.
  CHECK(ids == std::vector<std::string>{"6ba7b810-9dad-41d1-80b4-00c04fd430c9",
                                        reconcile});
  const auto d = s.job_detail(reconcile);
  REQUIRE(d.has_value());
  CHECK(d->job.target_hash == hash_of("did:key:carol"));
  CHECK(s.job_detail("6BA7B810-9dad-41d1-80b4-00c04fd430c9").has_value());
  CHECK_FALSE(s.job_detail("reconcile:0123456789ABCDEF0123456789ABCDEF"));
  CHECK_FALSE(s.job_detail("job-1").has_value());
}
