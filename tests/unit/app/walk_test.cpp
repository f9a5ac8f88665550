#include "app/walk.hpp"
#include "audit/keys.hpp"
#include "audit/log_file.hpp"
#include "binding.hpp"
#include "fake_clock.hpp"
#include "state_text.hpp"
#include "store/sqlite_store.hpp"
#include "temp_dir.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <algorithm>
#include <cstdio>
#include <doctest/doctest.h>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <vector>

using namespace vtc;
using nlohmann::json;
using test::binding;

namespace {

// 2026-03-01T00:00:00Z: after every entry of the vectors, before nothing
// in particular. The walk may read the clock only through this.
constexpr core::TimeNs k_now = 1'772'323'200LL * core::k_ns_per_second;

std::string data(const std::string& name)
{
  return std::string(VTC_TEST_DATA) + "/" + name;
}

std::vector<std::string> lines_of(const std::string& path)
{
  std::vector<std::string> out;
  std::istringstream in(test::read_file(path));
  for (std::string line; std::getline(in, line);) {
    out.push_back(line);
  }
  return out;
}

std::shared_ptr<const audit::KeyRing> keys(const test::TempDir& dir)
{
  const std::string path =
    dir.write("keys.json", test::read_file(data("basic.keys.json")));
  REQUIRE(::chmod(path.c_str(), 0600) == 0);
  return std::make_shared<const audit::KeyRing>(audit::KeyRing::load(path));
}

// One walk of `log_path` into the database at `db_path`.
app::WalkResult walk_once(const test::TempDir& dir, const std::string& log_path,
                          const std::string& db_path,
                          std::int64_t batch_size = 1000)
{
  test::FakeClock clock{k_now};
  audit::LogOptions o;
  o.path = log_path;
  o.keys = keys(dir);
  audit::LogFile log(o);
  store::SqliteStore st(db_path, store::OpenMode::pass, binding(), clock);
  app::WalkOptions w;
  w.batch_size = batch_size;
  return app::walk(log, st, clock, w);
}

struct LiveJob
{
  std::string did;
  std::string id;
  std::string kind;
  std::int64_t event_line;
  bool rtbf;
  core::TimeNs due;
  std::string state;
  std::string target_hash;
};

// Live jobs with their member's DID, by a join on the database file.
std::map<std::string, LiveJob> live_jobs(const std::string& db_path)
{
  const auto db_text = test::open_state_text(db_path);
  SQLite::Database& db = *db_text;
  SQLite::Statement st(
    db, "SELECT m.did, j.id, j.kind, j.event_line, j.rtbf, j.due, j.state, "
        "j.target_hash FROM jobs j JOIN members m ON m.id = j.member_id");
  std::map<std::string, LiveJob> out;
  while (st.executeStep()) {
    LiveJob j{st.getColumn(0).getString(),   st.getColumn(1).getString(),
              st.getColumn(2).getString(),   st.getColumn(3).getInt64(),
              st.getColumn(4).getInt() != 0, st.getColumn(5).getInt64(),
              st.getColumn(6).getString(),   st.getColumn(7).getString()};
    out.emplace(j.did, j);
  }
  return out;
}

struct MemberRow
{
  std::string status;
  std::string role;
  std::optional<core::TimeNs> active_from;
  std::optional<core::TimeNs> active_to;
};

std::map<std::string, MemberRow> members(const std::string& db_path)
{
  const auto db_text = test::open_state_text(db_path);
  SQLite::Database& db = *db_text;
  SQLite::Statement st(db, "SELECT did, status, role, active_from, active_to "
                           "FROM members WHERE did IS NOT NULL");
  std::map<std::string, MemberRow> out;
  while (st.executeStep()) {
    MemberRow m{
      st.getColumn(1).getString(), st.getColumn(2).getString(), {}, {}};
    if (!st.getColumn(3).isNull()) {
      m.active_from = st.getColumn(3).getInt64();
    }
    if (!st.getColumn(4).isNull()) {
      m.active_to = st.getColumn(4).getInt64();
    }
    out.emplace(st.getColumn(0).getString(), m);
  }
  return out;
}

// Outcomes in sequence order: kind, job id, attempts, key id, target hash,
// detail.
std::vector<std::string> outcome_rows(const std::string& db_path)
{
  const auto db_text = test::open_state_text(db_path);
  SQLite::Database& db = *db_text;
  SQLite::Statement st(db, "SELECT kind, job_id, attempts, key_id, "
                           "target_hash, detail FROM outcomes ORDER BY seq");
  std::vector<std::string> out;
  while (st.executeStep()) {
    std::string row;
    for (int i = 0; i < 6; ++i) {
      row += st.getColumn(i).getString() + "|";
    }
    out.push_back(row);
  }
  return out;
}

std::vector<std::string> job_rows(const std::string& db_path)
{
  const auto db_text = test::open_state_text(db_path);
  SQLite::Database& db = *db_text;
  SQLite::Statement st(db, "SELECT j.id, j.kind, j.state, j.due, j.rtbf, "
                           "j.event_line, j.key_id, j.target_hash, m.did "
                           "FROM jobs j JOIN members m ON m.id = j.member_id "
                           "ORDER BY j.due, j.rowid");
  std::vector<std::string> out;
  while (st.executeStep()) {
    std::string row;
    for (int i = 0; i < 9; ++i) {
      row += st.getColumn(i).getString() + "|";
    }
    out.push_back(row);
  }
  return out;
}

std::int64_t count(const std::string& db_path, const std::string& query)
{
  const auto db_text = test::open_state_text(db_path);
  SQLite::Database& db = *db_text;
  return db.execAndGet(query).getInt64();
}

core::TimeNs at(const std::string& text)
{
  const auto t = core::parse_rfc3339(text);
  REQUIRE(t.has_value());
  return *t;
}

} // namespace

TEST_CASE(
  "app: walk: the basic vector gives exactly the jobs of basic.expected.json")
{
  test::TempDir dir;
  const std::string db = dir.file("state.db");
  const app::WalkResult r = walk_once(dir, data("basic.audit.jsonl"), db);
  const json expected =
    json::parse(test::read_file(data("basic.expected.json")));
  const auto lines = lines_of(data("basic.audit.jsonl"));

  CHECK(r.entries == expected["envelopes"].get<std::int64_t>());
  CHECK(r.complete);
  CHECK_FALSE(r.incomplete_tail);
  CHECK_FALSE(r.failure.has_value());
  CHECK(r.jobs_superseded == expected["superseded"].get<std::int64_t>());
  CHECK(r.jobs_created == static_cast<std::int64_t>(expected["jobs"].size()) +
                            expected["superseded"].get<std::int64_t>());

  const auto jobs = live_jobs(db);
  CHECK(jobs.size() == expected["jobs"].size());
  const auto rows = members(db);
  for (const auto& want : expected["jobs"]) {
    const std::string did = want["member"];
    CAPTURE(did);
    const auto it = jobs.find(did);
    REQUIRE(it != jobs.end());
    const LiveJob& got = it->second;
    const std::int64_t line = want["event_line"];
    CHECK(got.kind == want["kind"].get<std::string>());
    CHECK(got.event_line == line);
    // A job's id is the event_id of the entry that created it.
    CHECK(got.id ==
          json::parse(lines[static_cast<std::size_t>(line - 1)])["event_id"]
            .get<std::string>());
    CHECK(got.state == "pending");
    CHECK(got.rtbf == want.value("rtbf", false));
    if (want.contains("not_before")) {
      CHECK(got.due == at(want["not_before"]));
    } else {
      CHECK(got.due <= k_now); // due at once
    }

    const auto m = rows.find(did);
    REQUIRE(m != rows.end());
    if (want.contains("active_from")) {
      REQUIRE(m->second.active_from.has_value());
      CHECK(core::format_rfc3339(*m->second.active_from) ==
            want["active_from"].get<std::string>());
    }
    if (want.contains("active_to")) {
      REQUIRE(m->second.active_to.has_value());
      CHECK(core::format_rfc3339(*m->second.active_to) ==
            want["active_to"].get<std::string>());
    } else {
      CHECK_FALSE(m->second.active_to.has_value());
    }
    if (want.contains("role")) {
      CHECK(m->second.role == want["role"].get<std::string>());
    }
    const std::string kind = want["kind"];
    const std::string status = kind == "delete"   ? "purged"
                               : kind == "depart" ? "departed"
                                                  : "active";
    CHECK(m->second.status == status);
  }

  CHECK(count(db, "SELECT count(*) FROM outcomes WHERE kind = 'superseded'") ==
        expected["superseded"].get<std::int64_t>());
  // Nothing else happened: no override (no policy), nothing skipped.
  CHECK(count(db, "SELECT count(*) FROM outcomes") ==
        expected["superseded"].get<std::int64_t>());
  // Outcomes never carry a plaintext DID.
  CHECK(count(db, "SELECT count(*) FROM outcomes WHERE detail LIKE '%did:%' "
                  "OR job_id LIKE '%did:%' OR target_hash LIKE '%did:%'") == 0);

  // The cursor is on line 12.
  test::FakeClock clock{k_now};
  store::SqliteStore st(db, store::OpenMode::read_only, binding(), clock);
  const auto c = st.cursor();
  REQUIRE(c.has_value());
  CHECK(c->line == 12);
  CHECK(c->entry_hash == json::parse(lines[11])["entry_hash"]);
  CHECK(c->offset == test::read_file(data("basic.audit.jsonl")).size());
}

TEST_CASE("app: walk: walking again reads nothing and changes nothing")
{
  test::TempDir dir;
  const std::string db = dir.file("state.db");
  walk_once(dir, data("basic.audit.jsonl"), db);
  const auto jobs_before = job_rows(db);
  const auto outcomes_before = outcome_rows(db);
  const app::WalkResult again = walk_once(dir, data("basic.audit.jsonl"), db);
  CHECK(again.entries == 0);
  CHECK(again.jobs_created == 0);
  CHECK(again.jobs_superseded == 0);
  CHECK(again.complete);
  CHECK_FALSE(again.failure.has_value());
  CHECK(job_rows(db) == jobs_before);
  CHECK(outcome_rows(db) == outcomes_before);
}

TEST_CASE("app: walk: batch size does not change jobs or outcomes")
{
  test::TempDir dir;
  const std::string log = data("basic.audit.jsonl");
  std::vector<std::vector<std::string>> jobs;
  std::vector<std::vector<std::string>> outs;
  for (const std::int64_t size : {1000, 1, 5}) {
    CAPTURE(size);
    const std::string db = dir.file("state-" + std::to_string(size) + ".db");
    const auto r = walk_once(dir, log, db, size);
    CHECK(r.entries == 12);
    CHECK(r.jobs_superseded == 4);
    jobs.push_back(job_rows(db));
    outs.push_back(outcome_rows(db));
  }
  REQUIRE(jobs[0].size() == 5);
  REQUIRE(outs[0].size() == 4);
  CHECK(jobs[1] == jobs[0]);
  CHECK(jobs[2] == jobs[0]);
  CHECK(outs[1] == outs[0]);
  CHECK(outs[2] == outs[0]);
}

TEST_CASE("app: walk: batch size 1 commits the cursor after every entry")
{
  test::TempDir dir;
  const std::string db = dir.file("state.db");
  int stops = 0;
  test::FakeClock clock{k_now};
  audit::LogOptions o;
  o.path = data("basic.audit.jsonl");
  o.keys = keys(dir);
  {
    audit::LogFile log(o);
    store::SqliteStore st(db, store::OpenMode::pass, binding(), clock);
    app::WalkOptions w;
    w.batch_size = 1;
    w.should_stop = [&] { return ++stops == 4; };
    const auto r = app::walk(log, st, clock, w);
    CHECK(r.stopped_early);
    CHECK_FALSE(r.complete);
    CHECK(r.entries == 4);
    REQUIRE(st.cursor().has_value());
    CHECK(st.cursor()->line == 4);
    // Measured from the stop, though the log was read further ahead.
    struct stat s = {};
    REQUIRE(::stat(o.path.c_str(), &s) == 0);
    CHECK(r.lag_bytes ==
          static_cast<std::uint64_t>(s.st_size) - st.cursor()->offset);
  }
  // The next walk continues from line 5 and ends like one walk would.
  const auto r = walk_once(dir, data("basic.audit.jsonl"), db);
  CHECK(r.entries == 8);
  CHECK(r.complete);
  const test::TempDir other;
  const std::string db2 = other.file("state.db");
  walk_once(other, data("basic.audit.jsonl"), db2);
  CHECK(job_rows(db) == job_rows(db2));
  CHECK(outcome_rows(db) == outcome_rows(db2));
}

TEST_CASE(
  "app: walk: a verification failure keeps earlier entries and records it")
{
  test::TempDir dir;
  for (const std::int64_t size : {1000, 3}) {
    CAPTURE(size);
    const std::string db = dir.file("tampered-" + std::to_string(size) + ".db");
    const auto r = walk_once(dir, data("tampered.audit.jsonl"), db, size);
    REQUIRE(r.failure.has_value());
    CHECK(r.failure->line == 9);
    CHECK(r.failure->reason == "tampered");
    CHECK(r.entries == 8);
    CHECK_FALSE(r.complete);

    // Jobs from lines 1..8: Alice and Dave published, Bob updated, Carol
    // published; nothing from line 9 on.
    const auto jobs = live_jobs(db);
    REQUIRE(jobs.size() == 4);
    CHECK(jobs.at("did:key:z6MkAlice").kind == "publish");
    CHECK(jobs.at("did:key:z6MkBob").kind == "update");
    CHECK(jobs.at("did:key:z6MkCarol").kind == "publish");
    CHECK(jobs.at("did:web:dave.example").kind == "publish");

    test::FakeClock clock{k_now};
    store::SqliteStore st(db, store::OpenMode::read_only, binding(), clock);
    const auto c = st.cursor();
    REQUIRE(c.has_value());
    CHECK(c->line == 8);
    CHECK(c->entry_hash ==
          json::parse(lines_of(data("tampered.audit.jsonl"))[7])["entry_hash"]);
    const auto v = st.status(k_now);
    REQUIRE(v.audit_failure.has_value());
    CHECK(v.audit_failure->line == 9);
    CHECK(v.audit_failure->reason == "tampered");
  }
}

TEST_CASE("app: walk: a failure clears once the log verifies again")
{
  test::TempDir dir;
  const auto lines = lines_of(data("basic.audit.jsonl"));
  const auto bad = lines_of(data("tampered.audit.jsonl"));
  std::string text;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    text += (i == 8 ? bad[i] : lines[i]) + "\n";
  }
  const std::string log = dir.write("audit.jsonl", text);
  const std::string db = dir.file("state.db");
  REQUIRE(walk_once(dir, log, db).failure.has_value());
  // The operator restores the original line 9.
  dir.write("audit.jsonl", test::read_file(data("basic.audit.jsonl")));
  const auto r = walk_once(dir, log, db);
  CHECK_FALSE(r.failure.has_value());
  CHECK(r.entries == 4);
  test::FakeClock clock{k_now};
  store::SqliteStore st(db, store::OpenMode::read_only, binding(), clock);
  CHECK_FALSE(st.status(k_now).audit_failure.has_value());
  CHECK(live_jobs(db).size() == 5);
}

TEST_CASE("app: walk: an incomplete last line is left for the next walk")
{
  test::TempDir dir;
  const auto lines = lines_of(data("basic.audit.jsonl"));
  std::string text;
  for (std::size_t i = 0; i < 11; ++i) {
    text += lines[i] + "\n";
  }
  const std::string log =
    dir.write("audit.jsonl", text + lines[11].substr(0, 100));
  const std::string db = dir.file("state.db");
  auto r = walk_once(dir, log, db);
  CHECK(r.entries == 11);
  CHECK(r.complete);
  CHECK(r.incomplete_tail);
  CHECK_FALSE(r.failure.has_value());
  CHECK(live_jobs(db).count("did:key:z6MkErin") == 0);

  dir.append("audit.jsonl", lines[11].substr(100) + "\n");
  r = walk_once(dir, log, db);
  CHECK(r.entries == 1);
  CHECK_FALSE(r.incomplete_tail);
  CHECK(live_jobs(db).at("did:key:z6MkErin").kind == "publish");
}

TEST_CASE("app: walk: legacy-prefix publishes only the chained members")
{
  test::TempDir dir;
  const std::string db = dir.file("state.db");
  const auto r = walk_once(dir, data("legacy-prefix.audit.jsonl"), db);
  const json expected =
    json::parse(test::read_file(data("legacy-prefix.expected.json")));
  CHECK_FALSE(r.failure.has_value());
  CHECK(r.legacy == expected["legacy_rows"].get<std::int64_t>());
  const auto jobs = live_jobs(db);
  for (const auto& did : expected["published"]) {
    CAPTURE(did.get<std::string>());
    REQUIRE(jobs.count(did) == 1);
    CHECK(jobs.at(did).kind == "publish");
  }
  for (const auto& did : expected["not_published"]) {
    CAPTURE(did.get<std::string>());
    CHECK(jobs.count(did) == 0);
  }
}

TEST_CASE("app: walk: precision keeps every fraction digit of activeFrom")
{
  test::TempDir dir;
  const std::string db = dir.file("state.db");
  const auto r = walk_once(dir, data("precision.audit.jsonl"), db);
  CHECK_FALSE(r.failure.has_value());
  const json expected = json::parse(
    test::read_file(data("precision.expected.json")))["active_from"];
  const auto rows = members(db);
  for (const auto& [did, text] : expected.items()) {
    CAPTURE(did);
    REQUIRE(rows.count(did) == 1);
    REQUIRE(rows.at(did).active_from.has_value());
    CHECK(core::format_rfc3339(*rows.at(did).active_from) ==
          text.get<std::string>());
  }
}

TEST_CASE("app: walk: redacted removals are matched by key id and target hash")
{
  test::TempDir dir;
  const std::string db = dir.file("state.db");
  const auto r = walk_once(dir, data("redacted.audit.jsonl"), db);
  CHECK_FALSE(r.failure.has_value());
  const json expected =
    json::parse(test::read_file(data("redacted.expected.json")));
  const auto rows = members(db);
  for (const auto& did : expected["departed"]) {
    CAPTURE(did.get<std::string>());
    REQUIRE(rows.count(did) == 1);
    CHECK(rows.at(did).status == "departed");
  }
  for (const auto& did : expected["active"]) {
    CAPTURE(did.get<std::string>());
    REQUIRE(rows.count(did) == 1);
    CHECK(rows.at(did).status == "active");
  }
  // Exactly the lines listed are unattributable.
  const auto lines = lines_of(data("redacted.audit.jsonl"));
  std::vector<std::string> want;
  for (const auto& line : expected["unattributable_lines"]) {
    want.push_back(json::parse(lines[line.get<std::size_t>() - 1])["event_id"]
                     .get<std::string>());
  }
  std::vector<std::string> got;
  {
    const auto sdb_text = test::open_state_text(db);
    SQLite::Database& sdb = *sdb_text;
    SQLite::Statement st(sdb, "SELECT job_id FROM outcomes WHERE kind = "
                              "'unattributable' ORDER BY seq");
    while (st.executeStep()) {
      got.push_back(st.getColumn(0).getString());
    }
  }
  auto joined = [](const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) {
      out += s + ",";
    }
    return out;
  };
  CHECK(joined(got) == joined(want));
}

namespace {

std::string app_fixture(const std::string& name)
{
  return std::string(VTC_APP_FIXTURES) + "/" + name;
}

struct OverrideRow
{
  std::string job_id;
  json detail;
};

std::vector<OverrideRow> overrides(const std::string& db_path)
{
  const auto db_text = test::open_state_text(db_path);
  SQLite::Database& db = *db_text;
  SQLite::Statement st(db, "SELECT job_id, detail FROM outcomes WHERE kind = "
                           "'policy_override' ORDER BY seq");
  std::vector<OverrideRow> out;
  while (st.executeStep()) {
    out.push_back(
      {st.getColumn(0).getString(), json::parse(st.getColumn(1).getString())});
  }
  return out;
}

} // namespace

TEST_CASE("app: walk: the policy floor overrides removals, RTBF stays purge")
{
  test::TempDir dir;
  const std::string db = dir.file("state.db");
  test::FakeClock clock{k_now};
  audit::LogOptions o;
  o.path = data("basic.audit.jsonl");
  o.keys = keys(dir);
  audit::LogFile log(o);
  store::SqliteStore st(db, store::OpenMode::pass, binding(), clock);
  app::WalkOptions w;
  core::Policy policy;
  policy.min_disposition = core::Disposition::historical;
  w.policy = [&] { return &policy; };
  const auto r = app::walk(log, st, clock, w);
  REQUIRE_FALSE(r.failure.has_value());

  const auto lines = lines_of(data("basic.audit.jsonl"));
  auto event_id = [&](std::size_t line) {
    return json::parse(lines[line - 1])["event_id"].get<std::string>();
  };
  const auto rows = overrides(db);
  REQUIRE(rows.size() == 2);
  // Alice's tombstone (line 9) is raised to historical by the floor.
  CHECK(rows[0].job_id == event_id(9));
  CHECK(rows[0].detail["reason"] == "floor");
  CHECK(rows[0].detail["requested"] == "tombstone");
  CHECK(rows[0].detail["would_be"] == "historical");
  CHECK(rows[0].detail["effective"] == "historical");
  // Carol's own purge (line 11) bypasses it, and that is recorded.
  CHECK(rows[1].job_id == event_id(11));
  CHECK(rows[1].detail["reason"] == "rtbf");
  CHECK(rows[1].detail["requested"] == "purge");
  CHECK(rows[1].detail["would_be"] == "historical");
  CHECK(rows[1].detail["effective"] == "purge");

  const auto m = members(db);
  CHECK(m.at("did:key:z6MkAlice").status == "departed");
  REQUIRE(m.at("did:key:z6MkAlice").active_to.has_value());
  CHECK(core::format_rfc3339(*m.at("did:key:z6MkAlice").active_to) ==
        "2026-01-01T00:00:02.250Z");
  const auto jobs = live_jobs(db);
  CHECK(jobs.at("did:key:z6MkCarol").kind == "delete");
  CHECK(jobs.at("did:key:z6MkCarol").rtbf);
  CHECK(jobs.at("did:key:z6MkCarol").due == at("2026-01-02T00:00:00Z"));
  CHECK(count(db, "SELECT count(*) FROM outcomes WHERE detail LIKE '%did:%'") ==
        0);
}

TEST_CASE(
  "app: walk: an RTBF window of 0 releases the delete at its entry time")
{
  test::TempDir dir;
  const std::string db = dir.file("state.db");
  test::FakeClock clock{k_now};
  audit::LogOptions o;
  o.path = data("basic.audit.jsonl");
  audit::LogFile log(o);
  store::SqliteStore st(db, store::OpenMode::pass, binding(), clock);
  app::WalkOptions w;
  w.rtbf_window_hours = 0;
  REQUIRE_FALSE(app::walk(log, st, clock, w).failure.has_value());
  CHECK(live_jobs(db).at("did:key:z6MkCarol").due ==
        at("2026-01-01T00:00:02.750Z"));
}

TEST_CASE(
  "app: walk: invalid, non-member and unattributable events make no job")
{
  test::TempDir dir;
  const std::string db = dir.file("state.db");
  const std::string log = app_fixture("edge.audit.jsonl");
  const auto r = walk_once(dir, log, db);
  REQUIRE_FALSE(r.failure.has_value());
  CHECK(r.entries == 4);
  const auto lines = lines_of(log);
  auto event_id = [&](std::size_t line) {
    return json::parse(lines[line - 1])["event_id"].get<std::string>();
  };

  const auto jobs = live_jobs(db);
  CHECK(jobs.size() == 1);
  CHECK(jobs.count("did:key:z6MkFine") == 1);

  const auto sdb_text = test::open_state_text(db);
  SQLite::Database& sdb = *sdb_text;
  SQLite::Statement st(sdb, "SELECT kind, job_id, detail FROM outcomes "
                            "ORDER BY seq");
  std::vector<std::string> got;
  while (st.executeStep()) {
    got.push_back(st.getColumn(0).getString() + " " +
                  st.getColumn(1).getString() + " " +
                  json::parse(st.getColumn(2).getString()).value("reason", ""));
  }
  CHECK(got.size() == 3);
  CHECK(std::count(got.begin(), got.end(),
                   "invalid_event " + event_id(1) + " invalid_did") == 1);
  CHECK(std::count(got.begin(), got.end(),
                   "skipped " + event_id(2) + " not_active") == 1);
  CHECK(std::count(got.begin(), got.end(),
                   "unattributable " + event_id(3) + " removal") == 1);

  test::FakeClock clock{k_now};
  store::SqliteStore ro(db, store::OpenMode::read_only, binding(), clock);
  CHECK(ro.status(k_now).invalid_events == 1);
  // The invalid DID is not stored anywhere.
  CHECK(
    count(db,
          "SELECT count(*) FROM members WHERE did = 'did:KEY:z6MkShouty'") ==
    0);
  // Nor is the DID of someone who was never a member (line 2).
  CHECK(count(db, "SELECT count(*) FROM members WHERE did = "
                  "'did:key:z6MkStranger'") == 0);
  CHECK(count(db, "SELECT count(*) FROM members") == 1);
}

TEST_CASE("app: walk: a log rotated by renaming continues in the new file")
{
  test::TempDir dir;
  const std::string db = dir.file("state.db");
  const std::string log =
    dir.write("audit.jsonl", test::read_file(data("basic.audit.jsonl")));
  REQUIRE(walk_once(dir, log, db).entries == 12);
  // logrotate: rename the old file away, the VTC starts a new one that
  // continues the chain.
  REQUIRE(::rename(log.c_str(), dir.file("audit.jsonl.1").c_str()) == 0);
  dir.write("audit.jsonl", test::read_file(std::string(VTC_AUDIT_FIXTURES) +
                                           "/rotated.audit.jsonl"));
  const auto r = walk_once(dir, log, db);
  CHECK_FALSE(r.failure.has_value());
  if (r.failure) {
    MESSAGE(r.failure->reason << " at line " << r.failure->line << ": "
                              << r.failure->detail);
  }
  CHECK(r.entries == 3);
  const auto jobs = live_jobs(db);
  REQUIRE(jobs.count("did:key:z6MkFrank") == 1);
  CHECK(jobs.at("did:key:z6MkFrank").kind == "update");
  CHECK(jobs.at("did:key:z6MkErin").kind == "depart");
}
