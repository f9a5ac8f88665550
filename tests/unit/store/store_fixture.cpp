#include "store_fixture.hpp"

#include "util/digest.hpp"
#include "util/encoding.hpp"

#include <SQLiteCpp/SQLiteCpp.h>

namespace vtc::test {

std::string J(char c)
{
  return std::string("00000000-0000-4000-8000-00000000000") + c;
}

const std::string k_key_id = "6ba7b810-9dad-41d1-80b4-00c04fd430c8";

std::string hash_of(const std::string& did)
{
  return util::base64url_encode(util::sha256(did));
}

app::Cursor cursor_at(std::int64_t line)
{
  app::Cursor c;
  c.line = line;
  c.entry_hash = "hash-" + std::to_string(line);
  c.chained = true;
  c.line_start = static_cast<std::uint64_t>(line) * 100;
  c.offset = c.line_start + 100;
  c.device = 7;
  c.inode = 42;
  c.size = 5000;
  return c;
}

app::WalkChange change(const std::string& did, core::MemberStatus status,
                       const std::string& job_id, core::JobKind kind,
                       core::TimeNs due, std::int64_t line)
{
  app::WalkChange ch;
  ch.member.did = did;
  ch.member.state.status = status;
  ch.member.state.role = status == core::MemberStatus::active ? "member" : "";
  ch.member.state.active_from = 1000 + line;
  ch.key_id = k_key_id;
  ch.target_hash = hash_of(did);
  app::NewJob job;
  job.id = job_id;
  job.kind = kind;
  job.due = due;
  job.event_line = line;
  job.key_id = ch.key_id;
  job.target_hash = ch.target_hash;
  ch.job = job;
  return ch;
}

Batch batch(std::vector<app::WalkChange> changes, std::int64_t cursor_line)
{
  return Batch{std::move(changes), cursor_at(cursor_line)};
}

void outcome_only(Batch& b, app::Outcome o)
{
  app::WalkChange c;
  c.outcomes.push_back(std::move(o));
  b.changes.push_back(std::move(c));
}

app::BatchResult write_batch(store::SqliteStore& s, const Batch& b)
{
  app::BatchResult r;
  const auto tx = s.begin_walk();
  for (const auto& change : b.changes) {
    tx->apply(change, r);
  }
  tx->commit(b.cursor);
  return r;
}

void walk_alice(store::SqliteStore& s)
{
  write_batch(s, batch({change("did:key:alice", core::MemberStatus::active,
                               J('1'), core::JobKind::publish, 10, 2)},
                       2));
}

std::vector<std::string> job_ids(const std::vector<app::JobRow>& rows)
{
  std::vector<std::string> out;
  for (const auto& r : rows) {
    out.push_back(r.id);
  }
  return out;
}

app::JobQuery query(std::optional<core::JobState> state, std::int64_t limit)
{
  app::JobQuery q;
  q.state = state;
  q.limit = limit;
  return q;
}

std::vector<OutcomeRow> outcomes(const std::string& path)
{
  FakeClock clock{1'000'000};
  store::SqliteStore s(path, store::OpenMode::read_only, binding(), clock);
  std::vector<OutcomeRow> out;
  for (const auto& o : s.outcomes(0, 1000)) {
    out.push_back(
      {o.kind, o.job_id, o.attempts, o.key_id, o.target_hash, o.detail});
  }
  return out;
}

void sql(const std::string& path, const std::string& statement)
{
  SQLite::Database db(path, SQLite::OPEN_READWRITE);
  db.exec(statement);
}

std::int64_t count(const std::string& path, const std::string& query)
{
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  return db.execAndGet(query).getInt64();
}

} // namespace vtc::test
