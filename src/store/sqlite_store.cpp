#include "store/sqlite_store.hpp"

#include "store/connection.hpp"
#include "store/store_impl.hpp"
#include "store/schema.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <iterator>
#include <utility>

namespace vtc::store {

using detail::guarded;
using detail::member_from;
using detail::WriteTransaction;
using nlohmann::json;


namespace {

json cursor_to_json(const app::Cursor& c)
{
  return {{"line", c.line},         {"entry_hash", c.entry_hash},
          {"chained", c.chained},   {"line_start", c.line_start},
          {"offset", c.offset},     {"device", c.device},
          {"inode", c.inode},       {"size", c.size}};
}

app::Cursor cursor_from_json(const json& j)
{
  app::Cursor c;
  c.line = j.at("line").get<std::int64_t>();
  c.entry_hash = j.at("entry_hash").get<std::string>();
  c.chained = j.at("chained").get<bool>();
  c.line_start = j.at("line_start").get<std::uint64_t>();
  c.offset = j.at("offset").get<std::uint64_t>();
  c.device = j.at("device").get<std::uint64_t>();
  c.inode = j.at("inode").get<std::uint64_t>();
  c.size = j.at("size").get<std::uint64_t>();
  return c;
}

json failure_to_json(const app::AuditFailure& f)
{
  return {{"line", f.line},
          {"event_id", f.event_id},
          {"reason", f.reason},
          {"detail", f.detail}};
}

std::optional<json> meta_json(SQLite::Database& db, const char* key)
{
  const auto text = detail::meta_get(db, key);
  if (!text) {
    return std::nullopt;
  }
  auto j = json::parse(*text, nullptr, false);
  if (j.is_discarded()) {
    throw StoreError(fmt::format("meta value {} is not valid JSON", key));
  }
  return j;
}

void bind_optional(SQLite::Statement& st, int index,
                   const std::optional<core::TimeNs>& t)
{
  if (t) {
    st.bind(index, static_cast<std::int64_t>(*t));
  } else {
    st.bind(index);
  }
}

} // namespace

SqliteStore::SqliteStore(const std::string& path, OpenMode mode,
                         const Binding& binding, const app::Clock& clock)
  : m_impl(std::make_unique<Impl>(path, clock))
{
  m_impl->db = detail::open_connection(path, mode, binding);
}

SqliteStore::~SqliteStore() = default;

int SqliteStore::schema_version()
{
  return guarded(m_impl->path, [&] {
    return m_impl->db->execAndGet("PRAGMA user_version").getInt();
  });
}

std::optional<app::Cursor> SqliteStore::cursor()
{
  return guarded(m_impl->path, [&]() -> std::optional<app::Cursor> {
    const auto j = meta_json(*m_impl->db, "cursor");
    if (!j) {
      return std::nullopt;
    }
    return cursor_from_json(*j);
  });
}


std::optional<app::Member> SqliteStore::find_member(const std::string& did)
{
  return guarded(m_impl->path, [&]() -> std::optional<app::Member> {
    auto st = m_impl->prepare("SELECT id, did, status, role, active_from, active_to "
                         "FROM members WHERE did = ?");
    st->bind(1, did);
    if (!st->executeStep()) {
      return std::nullopt;
    }
    return member_from(*st);
  });
}

std::optional<app::Member> SqliteStore::find_member_by_key(
  const std::string& key_id, const std::string& target_hash)
{
  return guarded(m_impl->path, [&]() -> std::optional<app::Member> {
    auto st = m_impl->prepare(
      "SELECT m.id, m.did, m.status, m.role, m.active_from, m.active_to "
      "FROM member_keys k JOIN members m ON m.id = k.member_id "
      "WHERE k.key_id = ? AND k.target_hash = ? AND m.did IS NOT NULL");
    st->bind(1, key_id);
    st->bind(2, target_hash);
    if (!st->executeStep()) {
      return std::nullopt;
    }
    return member_from(*st);
  });
}

std::int64_t SqliteStore::Impl::add_outcome(const app::Outcome& o)
{
  auto st = prepare("INSERT INTO outcomes(at, kind, job_id, attempts, "
                            "key_id, target_hash, detail) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?)");
  st->bind(1, static_cast<std::int64_t>(clock.now()));
  st->bind(2, std::string(core::to_string(o.kind)));
  st->bind(3, o.job_id);
  st->bind(4, static_cast<std::int64_t>(o.attempts));
  st->bind(5, o.key_id);
  st->bind(6, o.target_hash);
  st->bind(7, o.detail);
  st->exec();
  return db->getLastInsertRowid();
}

std::int64_t SqliteStore::Impl::upsert_member(
  const app::WalkBatch::Change& change)
{
  const auto& m = change.member;
  auto st = prepare(
    "INSERT INTO members(did, status, role, active_from, active_to) "
         "VALUES (?, ?, ?, ?, ?) ON CONFLICT(did) DO UPDATE SET "
         "status = excluded.status, role = excluded.role, "
         "active_from = excluded.active_from, active_to = excluded.active_to "
         "RETURNING id");
  st->bind(1, m.did);
  st->bind(2, std::string(core::to_string(m.state.status)));
  st->bind(3, m.state.role);
  bind_optional(*st, 4, m.state.active_from);
  bind_optional(*st, 5, m.state.active_to);
  if (!st->executeStep()) {
    throw StoreError("member upsert returned no row");
  }
  const std::int64_t id = st->getColumn(0).getInt64();
  if (!change.key_id.empty() && !change.target_hash.empty()) {
    auto keys = prepare("INSERT OR IGNORE INTO member_keys(key_id, "
                                "target_hash, member_id) VALUES (?, ?, ?)");
    keys->bind(1, change.key_id);
    keys->bind(2, change.target_hash);
    keys->bind(3, id);
    keys->exec();
  }
  return id;
}

void SqliteStore::Impl::supersede(std::int64_t member_id,
                                  std::int64_t& superseded)
{
  auto st = prepare("SELECT id, state, attempts, key_id, target_hash "
                            "FROM jobs WHERE member_id = ?");
  st->bind(1, member_id);
  if (!st->executeStep()) {
    return;
  }
  app::Outcome o;
  o.kind = core::OutcomeKind::superseded;
  o.job_id = st->getColumn(0).getString();
  const auto state = core::job_state_from(st->getColumn(1).getString());
  o.attempts = st->getColumn(2).getInt64();
  o.key_id = st->getColumn(3).getString();
  o.target_hash = st->getColumn(4).getString();
  if (!state || !core::supersedes(*state)) {
    // Recovery runs before the walk under the same lock, so nothing can be
    // in flight here.
    throw Error(ExitCode::software,
                fmt::format("job {} is in flight during the walk", o.job_id));
  }
  auto del = prepare("DELETE FROM jobs WHERE id = ?");
  del->bind(1, o.job_id);
  del->exec();
  add_outcome(o);
  ++superseded;
}

app::BatchResult SqliteStore::commit_walk(const app::WalkBatch& batch)
{
  return guarded(m_impl->path, [&] {
    app::BatchResult result;
    WriteTransaction tx(*m_impl->db);
    for (const auto& change : batch.changes) {
      if (change.member.did.empty()) {
        for (const auto& o : change.outcomes) {
          m_impl->add_outcome(o);
        }
        continue;
      }
      const std::int64_t member_id = m_impl->upsert_member(change);
      if (change.job) {
        const app::NewJob& job = *change.job;
        m_impl->supersede(member_id, result.jobs_superseded);
        auto st = m_impl->prepare(
          "INSERT INTO jobs(id, member_id, kind, state, due, rtbf, event_line, "
          "key_id, target_hash, created) VALUES (?, ?, ?, 'pending', ?, ?, ?, "
          "?, ?, ?)");
        st->bind(1, job.id);
        st->bind(2, member_id);
        st->bind(3, std::string(core::to_string(job.kind)));
        st->bind(4, static_cast<std::int64_t>(job.due));
        st->bind(5, job.rtbf ? 1 : 0);
        st->bind(6, static_cast<std::int64_t>(job.event_line));
        st->bind(7, job.key_id);
        st->bind(8, job.target_hash);
        st->bind(9, static_cast<std::int64_t>(m_impl->clock.now()));
        st->exec();
        ++result.jobs_created;
      }
      for (const auto& o : change.outcomes) {
        m_impl->add_outcome(o);
      }
    }
    detail::meta_set(*m_impl->db, "cursor",
                     cursor_to_json(batch.cursor).dump());
    tx.commit();
    return result;
  });
}

void SqliteStore::set_audit_failure(const std::optional<app::AuditFailure>& f)
{
  guarded(m_impl->path, [&] {
    const auto stored = detail::meta_get(*m_impl->db, "audit_failure");
    if (!f) {
      if (stored) {
        WriteTransaction tx(*m_impl->db);
        detail::meta_erase(*m_impl->db, "audit_failure");
        tx.commit();
      }
      return;
    }
    const std::string text = failure_to_json(*f).dump();
    if (stored != text) {
      WriteTransaction tx(*m_impl->db);
      detail::meta_set(*m_impl->db, "audit_failure", text);
      tx.commit();
    }
  });
}

std::optional<app::AuditFailure> SqliteStore::audit_failure()
{
  return guarded(m_impl->path, [&]() -> std::optional<app::AuditFailure> {
    const auto j = meta_json(*m_impl->db, "audit_failure");
    if (!j) {
      return std::nullopt;
    }
    return app::AuditFailure{
      j->at("line").get<std::int64_t>(), j->at("event_id").get<std::string>(),
      j->at("reason").get<std::string>(), j->at("detail").get<std::string>(), ""};
  });
}

void SqliteStore::skip_entry(const std::optional<app::Cursor>& from,
                             const app::Cursor& to, const app::Outcome& skipped)
{
  guarded(m_impl->path, [&] {
    auto& db = *m_impl->db;
    WriteTransaction tx(db);
    const auto stored = meta_json(db, "cursor");
    const std::optional<app::Cursor> now =
      stored ? std::optional(cursor_from_json(*stored)) : std::nullopt;
    if (now != from) {
      throw Error(ExitCode::temp_fail,
                  "audit skip: a pass moved the cursor meanwhile; nothing changed");
    }
    detail::meta_set(db, "cursor", cursor_to_json(to).dump());
    detail::meta_erase(db, "audit_failure");
    m_impl->add_outcome(skipped);
    tx.commit();
  });
}

std::int64_t SqliteStore::recover_in_flight(
  std::int64_t max_attempts,
  const std::function<core::TimeNs(std::int64_t)>& due_after)
{
  return guarded(m_impl->path, [&] {
    auto& db = *m_impl->db;
    // Read first, without a write lock: an idle pass must write nothing.
    SQLite::Statement find(db, "SELECT 1 FROM jobs WHERE state = 'in_flight' "
                               "LIMIT 1");
    if (!find.executeStep()) {
      return std::int64_t{0};
    }
    WriteTransaction tx(db);
    SQLite::Statement st(db, "SELECT id, attempts, key_id, target_hash FROM "
                             "jobs WHERE state = 'in_flight'");
    std::int64_t n = 0;
    const auto now = static_cast<std::int64_t>(m_impl->clock.now());
    while (st.executeStep()) {
      const std::string id = st.getColumn(0).getString();
      const std::int64_t attempts = st.getColumn(1).getInt64();
      const bool exhausted = attempts >= max_attempts;
      SQLite::Statement up(db, "UPDATE jobs SET state = ?, due = ?, "
                               "last_error = 'interrupted' WHERE id = ?");
      up.bind(1, exhausted ? "failed" : "pending");
      up.bind(2, static_cast<std::int64_t>(exhausted ? now : due_after(attempts)));
      up.bind(3, id);
      up.exec();
      SQLite::Statement att(db, "UPDATE attempts SET finished = ?, "
                                "class = 'interrupted' WHERE job_id = ? AND "
                                "finished IS NULL");
      att.bind(1, now);
      att.bind(2, id);
      att.exec();
      if (exhausted) {
        m_impl->add_outcome({core::OutcomeKind::failed, id, attempts,
                             st.getColumn(2).getString(),
                             st.getColumn(3).getString(),
                             R"({"reason":"interrupted"})"});
      }
      ++n;
    }
    tx.commit();
    return n;
  });
}

void SqliteStore::record_pass(const app::PassRecord& p)
{
  guarded(m_impl->path, [&] {
    const json j = {{"started", p.started},
                    {"finished", p.finished},
                    {"exit_code", p.exit_code},
                    {"entries", p.entries},
                    {"jobs_created", p.jobs_created},
                    {"jobs_superseded", p.jobs_superseded},
                    {"recovered", p.recovered},
                    {"sent", p.sent},
                    {"succeeded", p.succeeded},
                    {"failed", p.failed}};
    WriteTransaction tx(*m_impl->db);
    detail::meta_set(*m_impl->db, "last_pass", j.dump());
    if (p.exit_code == 0) {
      detail::meta_set(*m_impl->db, "last_success", std::to_string(p.finished));
    }
    tx.commit();
  });
}

app::StatusView SqliteStore::status(core::TimeNs now)
{
  return guarded(m_impl->path, [&] {
    auto& db = *m_impl->db;
    app::StatusView v;
    v.cursor = cursor();
    SQLite::Statement counts(db, "SELECT state, count(*) FROM jobs "
                                 "GROUP BY state");
    while (counts.executeStep()) {
      const auto state = core::job_state_from(counts.getColumn(0).getString());
      const std::int64_t n = counts.getColumn(1).getInt64();
      if (state == core::JobState::pending) {
        v.pending = n;
      } else if (state == core::JobState::in_flight) {
        v.in_flight = n;
      } else if (state == core::JobState::failed) {
        v.failed = n;
      }
    }
    SQLite::Statement members(db, "SELECT status, count(*) FROM members "
                                  "GROUP BY status");
    while (members.executeStep()) {
      const std::string s = members.getColumn(0).getString();
      if (s == "active") {
        v.members_active = members.getColumn(1).getInt64();
      } else if (s == "departed") {
        v.members_departed = members.getColumn(1).getInt64();
      }
    }
    v.invalid_events =
      db.execAndGet("SELECT count(*) FROM outcomes WHERE kind = "
                    "'invalid_event'")
        .getInt64();
    v.unattributable =
      db.execAndGet("SELECT count(*) FROM outcomes WHERE kind = "
                    "'unattributable'")
        .getInt64();
    v.unattributable_removals =
      db.execAndGet("SELECT count(*) FROM outcomes WHERE kind = "
                    "'unattributable' AND detail->>'reason' = 'removal'")
        .getInt64();
    SQLite::Statement oldest(db, "SELECT min(due) FROM jobs WHERE state = "
                                 "'pending' AND due <= ?");
    oldest.bind(1, static_cast<std::int64_t>(now));
    if (oldest.executeStep() && !oldest.getColumn(0).isNull()) {
      v.oldest_due = oldest.getColumn(0).getInt64();
    }
    if (const auto j = meta_json(db, "last_pass")) {
      app::PassRecord p;
      p.started = j->at("started").get<std::int64_t>();
      p.finished = j->at("finished").get<std::int64_t>();
      p.exit_code = j->at("exit_code").get<int>();
      p.entries = j->at("entries").get<std::int64_t>();
      p.jobs_created = j->at("jobs_created").get<std::int64_t>();
      p.jobs_superseded = j->at("jobs_superseded").get<std::int64_t>();
      p.recovered = j->at("recovered").get<std::int64_t>();
      p.sent = j->value("sent", std::int64_t{0});
      p.succeeded = j->value("succeeded", std::int64_t{0});
      p.failed = j->value("failed", std::int64_t{0});
      v.last_pass = p;
    }
    v.audit_failure = audit_failure();
    if (const auto t = detail::meta_get(db, "last_success")) {
      v.last_success = std::stoll(*t);
    }
    SQLite::Statement requests(db, "SELECT substr(name, 10), value FROM counters "
                                   "WHERE name LIKE 'requests.%' ORDER BY name");
    while (requests.executeStep()) {
      v.requests.emplace_back(requests.getColumn(0).getString(),
                              requests.getColumn(1).getInt64());
    }
    v.generation = detail::meta_get(db, "generation").value_or("");
    v.health = health();
    if (const auto pause = detail::meta_get(db, "setting.pause_until");
        pause && !pause->empty()) {
      v.pause_until = std::stoll(*pause);
    }
    return v;
  });
}

std::vector<app::JobRow> SqliteStore::jobs(const app::JobQuery& q)
{
  if (!q.state && !q.member_did) {
    // Every state in due order: one query per state walks jobs_state
    // (state, due, rowid) in order and stops at the limit; one query over
    // all states would sort the whole queue first.
    std::vector<app::JobRow> rows;
    for (const auto state : {core::JobState::pending, core::JobState::in_flight,
                             core::JobState::failed}) {
      app::JobQuery one = q;
      one.state = state;
      auto part = jobs(one);
      rows.insert(rows.end(), std::make_move_iterator(part.begin()),
                  std::make_move_iterator(part.end()));
    }
    std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
      return std::pair(a.due, a.seq) < std::pair(b.due, b.seq);
    });
    if (static_cast<std::int64_t>(rows.size()) > q.limit) {
      rows.resize(static_cast<std::size_t>(q.limit));
    }
    return rows;
  }
  return guarded(m_impl->path, [&] {
    std::string sql = fmt::format("SELECT {} FROM jobs j ", detail::k_job_columns);
    std::vector<std::string> where;
    if (q.member_did) {
      sql += "JOIN members m ON m.id = j.member_id ";
      where.emplace_back("m.did = :did");
    }
    if (q.state) {
      where.emplace_back("j.state = :state");
    }
    if (q.kind) {
      where.emplace_back("j.kind = :kind");
    }
    if (q.after) {
      where.emplace_back("(j.due, j.rowid) > (:due, :seq)");
    }
    for (std::size_t i = 0; i < where.size(); ++i) {
      sql += (i == 0 ? "WHERE " : "AND ") + where[i] + " ";
    }
    sql += "ORDER BY j.due, j.rowid LIMIT :limit";
    SQLite::Statement st(*m_impl->db, sql);
    if (q.member_did) {
      st.bind(":did", *q.member_did);
    }
    if (q.state) {
      st.bind(":state", std::string(core::to_string(*q.state)));
    }
    if (q.kind) {
      st.bind(":kind", std::string(core::to_string(*q.kind)));
    }
    if (q.after) {
      st.bind(":due", static_cast<std::int64_t>(q.after->first));
      st.bind(":seq", static_cast<std::int64_t>(q.after->second));
    }
    st.bind(":limit", static_cast<std::int64_t>(q.limit));
    std::vector<app::JobRow> rows;
    while (st.executeStep()) {
      rows.push_back(detail::job_from(st));
    }
    return rows;
  });
}

} // namespace vtc::store
