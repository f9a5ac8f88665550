// The views of the store: status and the job listing
// (store/status_store.cpp).

#include "store_fixture.hpp"

#include <doctest/doctest.h>

using namespace vtc;
using namespace vtc::test;
using core::JobKind;
using core::JobState;
using core::MemberStatus;

TEST_CASE_FIXTURE(
  StoreFixture, "store: jobs() lists in due order, then member order, by state")
{
  // Ids sort against member order (the order members were first seen), so
  // a tie in due must follow the member.
  auto d =
    change("did:key:d", MemberStatus::purged, J('1'), JobKind::erase, 100, 5);
  d.job->rtbf = true;
  write_batch(s, batch({change("did:key:a", MemberStatus::active, J('4'),
                               JobKind::publish, 300, 2),
                        change("did:key:b", MemberStatus::active, J('3'),
                               JobKind::publish, 100, 3),
                        change("did:key:c", MemberStatus::departed, J('2'),
                               JobKind::depart, 200, 4),
                        d},
                       5));
  CHECK(job_ids(s.jobs({})) ==
        std::vector<std::string>{J('3'), J('1'), J('2'), J('4')});
  CHECK(job_ids(s.jobs(query(std::nullopt, 2))) ==
        std::vector<std::string>{J('3'), J('1')});

  const auto rows = s.jobs({});
  REQUIRE(rows.size() == 4);
  CHECK(rows[1].kind == JobKind::erase);
  CHECK(rows[1].rtbf);
  CHECK(rows[1].event_line == 5);
  CHECK(rows[1].due == 100);
  CHECK(rows[1].target_hash == hash_of("did:key:d"));
  CHECK(rows[1].state == JobState::pending);
  CHECK(rows[1].attempts == 0);
  CHECK_FALSE(rows[0].rtbf);
  CHECK(rows[2].kind == JobKind::depart);

  sql(path, "UPDATE jobs SET state = 'failed', attempts = 4 WHERE id = "
            "x'00000000000040008000000000000002';"
            "UPDATE jobs SET state = 'in_flight' WHERE id = "
            "x'00000000000040008000000000000004';");
  CHECK(job_ids(s.jobs(query(JobState::failed, 100))) ==
        std::vector<std::string>{J('2')});
  CHECK(s.jobs(query(JobState::failed, 100))[0].attempts == 4);
  CHECK(job_ids(s.jobs(query(JobState::pending, 100))) ==
        std::vector<std::string>{J('3'), J('1')});
  CHECK(job_ids(s.jobs(query(JobState::in_flight, 100))) ==
        std::vector<std::string>{J('4')});
}

TEST_CASE_FIXTURE(
  StoreFixture,
  "store: status() counts jobs, members, invalid events and passes")
{
  auto b = batch(
    {change("did:key:a", MemberStatus::active, J('a'), JobKind::publish, 300,
            2),
     change("did:key:b", MemberStatus::active, J('b'), JobKind::publish, 100,
            3),
     change("did:key:c", MemberStatus::departed, J('c'), JobKind::depart, 200,
            4),
     change("did:key:d", MemberStatus::departed, J('d'), JobKind::depart, 120,
            5),
     change("did:key:e", MemberStatus::purged, J('e'), JobKind::erase, 50, 6)},
    6);
  outcome_only(b, {core::OutcomeKind::invalid_event, J('1'), 0, "k", "h",
                   R"({"reason":"invalid_did"})"});
  outcome_only(b, {core::OutcomeKind::invalid_event, J('2'), 0, "k", "h",
                   R"({"reason":"invalid_did"})"});
  outcome_only(b, {core::OutcomeKind::unattributable, J('3'), 0, "k", "h",
                   R"({"reason":"removal"})"});
  write_batch(s, b);
  sql(path, "UPDATE jobs SET state = 'failed' WHERE id = "
            "x'0000000000004000800000000000000c';"
            "UPDATE jobs SET state = 'in_flight' WHERE id = "
            "x'0000000000004000800000000000000a';"
            // An edit behind the store's back keeps its counts by hand.
            "UPDATE tallies SET n = n - 2 WHERE name = 'jobs.pending';"
            "UPDATE tallies SET n = n + 1 WHERE name IN ('jobs.failed', "
            "'jobs.in_flight');");

  auto v = s.status(150);
  CHECK(v.pending == 3);
  CHECK(v.in_flight == 1);
  CHECK(v.failed == 1);
  CHECK(v.members_active == 2);
  CHECK(v.members_departed == 2);
  CHECK(v.invalid_events == 2);
  REQUIRE(v.oldest_due.has_value());
  CHECK(*v.oldest_due == 50);
  REQUIRE(v.cursor.has_value());
  CHECK(*v.cursor == cursor_at(6));
  CHECK_FALSE(v.last_pass.has_value());
  CHECK_FALSE(v.audit_failure.has_value());
  CHECK_FALSE(s.status(49).oldest_due.has_value());

  const app::PassRecord pass{10, 20, 65, 12, 9, 4, 1};
  s.record_pass(pass);
  s.set_audit_failure(app::AuditFailure{9, "e9", "tampered", "detail", ""});
  v = s.status(150);
  REQUIRE(v.last_pass.has_value());
  CHECK(v.last_pass->started == 10);
  CHECK(v.last_pass->finished == 20);
  CHECK(v.last_pass->exit_code == 65);
  CHECK(v.last_pass->entries == 12);
  CHECK(v.last_pass->jobs_created == 9);
  CHECK(v.last_pass->jobs_superseded == 4);
  CHECK(v.last_pass->recovered == 1);
  REQUIRE(v.audit_failure.has_value());
  CHECK(v.audit_failure->line == 9);
  CHECK(v.audit_failure->event_id == "e9");
  CHECK(v.audit_failure->reason == "tampered");
  s.set_audit_failure(std::nullopt);
  CHECK_FALSE(s.status(150).audit_failure.has_value());
}

TEST_CASE("store: status() reads the last successful pass and request counts")
{
  test::FakeClock clock{1'000'000};
  store::SqliteStore s(":memory:", store::OpenMode::pass, binding(), clock);
  CHECK_FALSE(s.status(0).last_success.has_value());
  CHECK(s.status(0).requests.empty());

  s.record_pass(app::PassRecord{10, 20, 0, 1, 0, 0, 0});
  s.record_pass(app::PassRecord{30, 40, 76, 1, 0, 0, 0});
  CHECK(s.status(0).last_success == core::TimeNs{20});

  core::Health h;
  s.finish({}, h, core::AnswerClass::transient);
  s.finish({}, h, core::AnswerClass::transient);
  s.finish({}, h, std::nullopt);
  s.finish({}, h, core::AnswerClass::success);
  using Counts = std::vector<std::pair<std::string, std::int64_t>>;
  CHECK(s.status(0).requests == Counts{{"success", 1}, {"transient", 2}});
}
