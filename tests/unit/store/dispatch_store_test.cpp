// Claiming due jobs, recording answers and recovering interrupted jobs
// (store/dispatch_store.cpp).

#include "store_fixture.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>

using namespace vtc;
using namespace vtc::test;
using core::JobKind;
using core::JobState;
using core::MemberStatus;

TEST_CASE_FIXTURE(
  StoreFixture,
  "store: a publish for a member whose consent is unknown needs the policy")
{
  // Unknown consent is NULL: a scope written with `=` found no such job,
  // so a pass did not read the policy for it and scanned every due job.
  walk_alice(s);
  CHECK(s.has_due(1000, app::ClaimScope::needing_policy));
  CHECK(s.has_due(1000, app::ClaimScope::all));
  CHECK_FALSE(s.has_due(1000, app::ClaimScope::deletes_only));
  CHECK_FALSE(s.has_due(1000, app::ClaimScope::removals_only));
}

TEST_CASE_FIXTURE(
  StoreFixture, "store: recover_in_flight backs off or fails interrupted jobs")
{
  clock.set_wall(5'000'000);
  write_batch(s, batch({change("did:key:alice", MemberStatus::active, J('1'),
                               JobKind::publish, 10, 2),
                        change("did:key:bob", MemberStatus::active, J('2'),
                               JobKind::publish, 10, 3),
                        change("did:key:carol", MemberStatus::active, J('3'),
                               JobKind::publish, 10, 4)},
                       4));
  sql(path, "UPDATE jobs SET state = 'in_flight', attempts = 2 WHERE id = "
            "x'00000000000040008000000000000001';"
            "UPDATE jobs SET state = 'in_flight', attempts = 16 WHERE id = "
            "x'00000000000040008000000000000002';"
            "INSERT INTO attempts(job_id, n, started) VALUES "
            "(x'00000000000040008000000000000001', 2, 77);");

  std::vector<std::int64_t> asked;
  const auto n = s.recover_in_flight(16, [&](std::int64_t attempts) {
    asked.push_back(attempts);
    return core::TimeNs{900'000 + attempts};
  });
  CHECK(n == 2);
  CHECK(asked == std::vector<std::int64_t>{2});

  const auto pending = s.jobs(query(JobState::pending, 100));
  const auto failed = s.jobs(query(JobState::failed, 100));
  CHECK(s.jobs(query(JobState::in_flight, 100)).empty());
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].id == J('2'));
  CHECK(failed[0].last_error == "interrupted");
  REQUIRE(pending.size() == 2);
  const auto& j1 = pending[0].id == J('1') ? pending[0] : pending[1];
  CHECK(j1.id == J('1'));
  CHECK(j1.due == 900'002);
  CHECK(j1.last_error == "interrupted");

  const auto out = outcomes(path);
  REQUIRE(out.size() == 1);
  CHECK(out[0].kind == "failed");
  CHECK(out[0].job_id == J('2'));
  CHECK(out[0].attempts == 16);
  CHECK(out[0].target_hash == hash_of("did:key:bob"));
  CHECK(out[0].detail.find("interrupted") != std::string::npos);

  CHECK(count(path, "SELECT finished FROM attempts WHERE job_id = "
                    "x'00000000000040008000000000000001'") == 5'000'000);
  CHECK(count(path, "SELECT count(*) FROM attempts WHERE job_id = "
                    "x'00000000000040008000000000000001' AND "
                    "class = 'interrupted'") == 1);
}

TEST_CASE_FIXTURE(
  StoreFixture, "store: idle recover and unchanged audit failure write nothing")
{
  walk_alice(s);
  const app::AuditFailure failure{9, "e9", "tampered", "entry_hash differs",
                                  ""};
  s.set_audit_failure(failure);

  SQLite::Database watcher(path, SQLite::OPEN_READONLY);
  auto data_version = [&] {
    return watcher.execAndGet("PRAGMA data_version").getInt64();
  };
  const auto wal_size = [&] {
    std::error_code ec;
    const auto n = std::filesystem::file_size(path + "-wal", ec);
    return ec ? std::uintmax_t{0} : n;
  };
  const auto v0 = data_version();
  const auto w0 = wal_size();
  CHECK(s.recover_in_flight(16, [](std::int64_t) { return core::TimeNs{1}; }) ==
        0);
  s.set_audit_failure(failure); // same value
  (void)s.status(0);
  (void)s.jobs({});
  (void)s.cursor();
  CHECK(data_version() == v0);
  CHECK(wal_size() == w0);

  // Control: a real change is visible to the same probe.
  s.set_audit_failure(std::nullopt);
  CHECK(data_version() != v0);
  const auto v1 = data_version();
  s.set_audit_failure(std::nullopt); // nothing stored: nothing to erase
  CHECK(data_version() == v1);
}

TEST_CASE_FIXTURE(
  StoreFixture,
  "store: dispatch_step records answers, puts unsent jobs back, claims")
{
  clock.set_wall(5'000'000);
  write_batch(s, batch({change("did:key:alice", MemberStatus::active, J('1'),
                               JobKind::publish, 10, 2),
                        change("did:key:bob", MemberStatus::active, J('2'),
                               JobKind::update, 10, 3),
                        change("did:key:carol", MemberStatus::active, J('3'),
                               JobKind::publish, 10, 4),
                        change("did:key:dave", MemberStatus::active, J('4'),
                               JobKind::publish, 10, 5)},
                       5));
  // The registry already has bob's record.
  sql(path, "INSERT INTO mirror(member_id, state, record_id, body, updated) "
            "SELECT id, 'present', 'rec-bob', 'body-bob', 7 FROM members "
            "WHERE did = 'did:key:bob'");

  app::DispatchStep first;
  first.claim = 4;
  first.now = clock.now();
  std::int64_t skipped = -1;
  const auto claimed = s.dispatch_step(first, skipped);
  REQUIRE(claimed.size() == 4);
  CHECK(skipped == 0);
  CHECK(claimed[0].mirror == app::MirrorState::absent);
  CHECK(claimed[1].mirror == app::MirrorState::present);
  CHECK(count(path, "SELECT count(*) FROM mirror WHERE state = 'unknown'") ==
        4);
  CHECK(count(path, "SELECT count(*) FROM attempts") == 4);

  // alice and dave answered; bob and carol never sent; nothing claimed.
  auto answered = [](const app::ClaimedJob& j) {
    app::Finished f;
    f.job = j;
    f.sent = {"PUT", j.id, "rec-" + j.id, "body-" + j.id};
    f.answer = {core::AnswerClass::success, 200, std::nullopt, "HTTP 200"};
    f.step = core::NextStep::done;
    return f;
  };
  app::DispatchStep second;
  second.done = {answered(claimed[0]), answered(claimed[3])};
  second.unsent = {claimed[1], claimed[2]};
  CHECK(s.dispatch_step(second, skipped).empty());

  const auto pending = s.jobs(query(JobState::pending, 10));
  CHECK(job_ids(pending) == std::vector<std::string>{J('2'), J('3')});
  CHECK(std::all_of(pending.begin(), pending.end(),
                    [](const app::JobRow& r) { return r.attempts == 0; }));
  CHECK(s.jobs(query(JobState::in_flight, 10)).empty());
  CHECK(count(path, "SELECT count(*) FROM attempts WHERE job_id IN "
                    "(x'00000000000040008000000000000002', "
                    "x'00000000000040008000000000000003')") == 0);
  CHECK(count(path, "SELECT count(*) FROM attempts WHERE class = 'success' "
                    "AND finished IS NOT NULL") == 2);
  // The mirror as before the claim: bob's record present, carol's absent.
  CHECK(count(path, "SELECT count(*) FROM mirror JOIN members m ON m.id = "
                    "member_id WHERE m.did = 'did:key:bob' AND state = "
                    "'present' AND body = 'body-bob'") == 1);
  CHECK(count(path, "SELECT count(*) FROM mirror JOIN members m ON m.id = "
                    "member_id WHERE m.did = 'did:key:carol'") == 0);
  CHECK(count(path, "SELECT count(*) FROM mirror WHERE state = 'present'") ==
        3);
  const auto out = outcomes(path);
  REQUIRE(out.size() == 2);
  CHECK(out[0].kind == "succeeded");
  CHECK(out[1].job_id == J('4'));
  using Counts = std::vector<std::pair<std::string, std::int64_t>>;
  CHECK(s.status(0).requests == Counts{{"success", 2}});
}
