// What the schema promises: the values it allows, and what its indexes and
// keys cost the walk (store/schema.cpp).

#include "store_fixture.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>
#include <fmt/format.h>

using namespace vtc;
using namespace vtc::test;
using core::JobKind;
using core::JobState;
using core::MemberStatus;

namespace {

// The definitions' CHECK constraints.
std::string checks(const std::string& path)
{
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  std::string out;
  SQLite::Statement st(db, "SELECT sql FROM sqlite_schema WHERE type = 'table' "
                           "AND name IN ('members', 'jobs') ORDER BY name");
  while (st.executeStep()) {
    const std::string sql = st.getColumn(0).getString();
    for (auto at = sql.find("CHECK ("); at != std::string::npos;
         at = sql.find("CHECK (", at + 1)) {
      out += sql.substr(at, sql.find('\n', at) - at) + "\n";
    }
  }
  return out;
}

// Whether the program SQLite compiles for `statement` has an instruction
// whose name starts with `opcode`. What a write costs is the point of the
// schema choices these tests check, and only the program shows it.
bool compiles_to(const std::string& path, const std::string& statement,
                 const std::string& opcode)
{
  // Read-write: on a read-only connection SQLite compiles no checks.
  SQLite::Database db(path, SQLite::OPEN_READWRITE);
  db.exec("PRAGMA foreign_keys = ON");
  SQLite::Statement st(db, "EXPLAIN " + statement);
  while (st.executeStep()) {
    if (st.getColumn(1).getString().rfind(opcode, 0) == 0) {
      return true;
    }
  }
  return false;
}

// The tables a job's columns refer to.
std::string job_references(const std::string& path)
{
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  std::string out;
  SQLite::Statement st(db, "SELECT \"from\", \"table\" FROM "
                           "pragma_foreign_key_list('jobs') ORDER BY 1");
  while (st.executeStep()) {
    out +=
      st.getColumn(0).getString() + "->" + st.getColumn(1).getString() + "\n";
  }
  return out;
}

// The names of the indexes on `table`, a line each.
std::string indexes(const std::string& path, const std::string& table)
{
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  std::string out;
  SQLite::Statement st(db, "SELECT name FROM pragma_index_list(?) "
                           "ORDER BY name");
  st.bind(1, table);
  while (st.executeStep()) {
    out += st.getColumn(0).getString() + "\n";
  }
  return out;
}

// The indexes on jobs.id: name, unique, partial.
std::string job_id_indexes(const std::string& path)
{
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  std::string out;
  SQLite::Statement st(db, "SELECT l.name, l.\"unique\", l.partial FROM "
                           "pragma_index_list('jobs') l, "
                           "pragma_index_info(l.name) i WHERE i.name = 'id' "
                           "ORDER BY 1");
  while (st.executeStep()) {
    out += fmt::format("{} unique={} partial={}\n", st.getColumn(0).getString(),
                       st.getColumn(1).getInt(), st.getColumn(2).getInt());
  }
  return out;
}

// How SQLite runs `query`, a line per step.
std::string query_plan(const std::string& path, const std::string& query)
{
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  SQLite::Statement plan(db, "EXPLAIN QUERY PLAN " + query);
  std::string out;
  while (plan.executeStep()) {
    out += plan.getColumn(3).getString() + "\n";
  }
  return out;
}

} // namespace

TEST_CASE_FIXTURE(StoreFixture,
                  "store: job and member values are checked without IN lists")
{
  walk_alice(s);
  CHECK(
    checks(path) ==
    "CHECK (kind = 'publish' OR kind = 'update' OR kind = 'depart' OR "
    "kind = 'delete' OR kind = 'withdraw' OR kind = 'retire'),\n"
    "CHECK (state = 'pending' OR state = 'in_flight' OR state = 'failed'),\n"
    "CHECK (status = 'unknown' OR status = 'active' OR status = 'departed' "
    "OR status = 'purged'),\n"
    "CHECK (consent = 'granted' OR consent = 'withdrawn')\n");
  // For an IN list of three or more values SQLite builds a temporary index
  // (an ephemeral table) each time it checks a row: the cost these CHECKs
  // avoid.
  CHECK_FALSE(compiles_to(path,
                          "UPDATE jobs SET kind = 'update', state = 'pending' "
                          "WHERE member_id = 1",
                          "OpenEphemeral"));
  CHECK_FALSE(compiles_to(path,
                          "UPDATE members SET status = 'departed' WHERE id = 1",
                          "OpenEphemeral"));
  // Every value the constraints allowed before, and nothing else.
  sql(path, "UPDATE jobs SET kind = 'delete', state = 'failed'");
  sql(path, "UPDATE members SET status = 'purged'");
  CHECK_THROWS(sql(path, "UPDATE jobs SET kind = 'publish ' "));
  CHECK_THROWS(sql(path, "UPDATE jobs SET state = 'done'"));
  CHECK_THROWS(sql(path, "UPDATE members SET status = 'Active'"));
  CHECK(count(path, "SELECT count(*) FROM jobs WHERE kind = 'delete' AND "
                    "state = 'failed'") == 1);
}

TEST_CASE_FIXTURE(
  StoreFixture,
  "store: a superseded outcome, the walk's most frequent, is in no index")
{
  walk_alice(s);
  write_batch(s, batch({change("did:key:alice", MemberStatus::departed, J('2'),
                               JobKind::depart, 20, 3)},
                       3));
  Batch counted = batch({}, 4);
  outcome_only(counted, {core::OutcomeKind::invalid_event, J('3'), 0, "k", "h",
                         R"({"reason":"invalid_did"})"});
  write_batch(s, counted);
  CHECK(indexes(path, "outcomes") == "outcomes_counted\noutcomes_job\n");
  // A kind status counts is in outcomes_counted.
  CHECK(count(path, "SELECT count(*) FROM outcomes INDEXED BY "
                    "outcomes_counted WHERE kind = 'invalid_event'") == 1);
  // The superseded outcome is in the table; neither index can find it.
  CHECK(count(path, "SELECT count(*) FROM outcomes "
                    "WHERE kind = 'superseded'") == 1);
  CHECK_THROWS_WITH(count(path, "SELECT count(*) FROM outcomes INDEXED BY "
                                "outcomes_counted WHERE kind = 'superseded'"),
                    doctest::Contains("no query solution"));
  CHECK_THROWS_WITH(count(path, "SELECT count(*) FROM outcomes INDEXED BY "
                                "outcomes_job WHERE job_id = x'00' "
                                "AND kind = 'superseded'"),
                    doctest::Contains("no query solution"));
}

TEST_CASE_FIXTURE(StoreFixture, "store: a job's audit key is not a foreign key")
{
  walk_alice(s);
  CHECK(job_references(path) == "member_id->members\n");
  // Checking a foreign key in an UPDATE costs a statement journal (a copy
  // of every page it changes); the walk rewrites a job's key for every
  // event that supersedes one.
  CHECK_FALSE(
    compiles_to(path, "UPDATE jobs SET key = 1 WHERE member_id = 1", "Fk"));
  // The member still is one.
  CHECK(compiles_to(path, "UPDATE jobs SET member_id = 2 WHERE member_id = 1",
                    "Fk"));
  CHECK_THROWS(sql(path, "PRAGMA foreign_keys = ON; "
                         "UPDATE jobs SET member_id = 99"));
}

TEST_CASE_FIXTURE(StoreFixture,
                  "store: jobs are indexed by id unless pending and never sent")
{
  walk_alice(s);
  write_batch(s, batch({change("did:key:bob", MemberStatus::active, J('2'),
                               JobKind::publish, 10, 3)},
                       3));
  CHECK(job_id_indexes(path) == "jobs_id unique=0 partial=1\n");
  const std::string in_index = "SELECT count(*) FROM jobs INDEXED BY jobs_id "
                               "WHERE (state <> 'pending' OR attempts > 0)";
  CHECK(count(path, in_index) == 0); // the walk puts none in
  sql(path, "UPDATE jobs SET state = 'failed' WHERE member_id = 1");
  CHECK(count(path, in_index) == 1);
  sql(path, "UPDATE jobs SET attempts = 1 WHERE member_id = 2");
  CHECK(count(path, in_index) == 2); // pending, after an answer
  sql(path, "UPDATE jobs SET attempts = 0 WHERE member_id = 2");
  // Saying so finds a failed, in-flight or sent job by the index. The plan
  // is what is promised here: queue show, retry and discard find a job by
  // id without reading the queue, however long (the results are checked
  // below).
  for (const char* state : {"failed", "in_flight", "pending"}) {
    CHECK(query_plan(path, fmt::format("SELECT 1 FROM jobs j WHERE j.state = "
                                       "'{}' AND (j.state <> 'pending' OR "
                                       "j.attempts > 0) AND j.id = x'00'",
                                       state)) ==
          "SEARCH j USING INDEX jobs_id (id=?)\n");
  }

  // Superseding the failed job takes it out of the index.
  write_batch(s, batch({change("did:key:alice", MemberStatus::departed, J('3'),
                               JobKind::depart, 20, 4)},
                       4));
  CHECK(count(path, in_index) == 0);

  // Operators find jobs in every state by id.
  sql(path, "UPDATE jobs SET state = 'failed' WHERE member_id = 2");
  const auto pending = s.job_detail(J('3'));
  REQUIRE(pending.has_value());
  CHECK(pending->live);
  CHECK(pending->job.state == JobState::pending);
  const auto failed = s.job_detail(J('2'));
  REQUIRE(failed.has_value());
  CHECK(failed->job.state == JobState::failed);
  const auto ended = s.job_detail(J('1'));
  REQUIRE(ended.has_value());
  CHECK_FALSE(ended->live);
  // Its superseded outcome is not in outcomes_job: found by a scan.
  REQUIRE(ended->outcomes.size() == 1);
  CHECK(ended->outcomes[0].kind == "superseded");
  CHECK(pending->outcomes.empty());
  CHECK_FALSE(s.job_detail(J('9')).has_value());
  CHECK(s.retry({J('2'), J('3'), J('9')}) ==
        std::vector<app::JobChange>{app::JobChange::done,
                                    app::JobChange::wrong_state,
                                    app::JobChange::not_found});
  CHECK(s.jobs({})[1].state == JobState::pending);
  sql(path, "UPDATE jobs SET state = 'failed' WHERE member_id = 2");
  CHECK(s.discard({J('2')}) ==
        std::vector<app::JobChange>{app::JobChange::done});
  // Its outcomes, through outcomes_job.
  const auto gone = s.job_detail(J('2'));
  REQUIRE(gone.has_value());
  REQUIRE(gone->outcomes.size() == 2);
  CHECK(gone->outcomes[0].kind == "retried");
  CHECK(gone->outcomes[1].kind == "discarded");
  CHECK(job_ids(s.jobs({})) == std::vector<std::string>{J('3')});
}
