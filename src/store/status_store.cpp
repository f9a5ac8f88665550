// The views of the store: the pass record, status and the job listing.

#include "store/sqlite_store.hpp"

#include "store/connection.hpp"
#include "store/store_impl.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <iterator>
#include <utility>

namespace vtc::store {

using detail::guarded;
using detail::meta_json;
using detail::WriteTransaction;
using nlohmann::json;

namespace {

// The tallies status shows (store/schema.cpp), and where.
constexpr std::pair<std::string_view, std::int64_t app::StatusView::*>
  k_tallies[] = {
    {"jobs.pending", &app::StatusView::pending},
    {"jobs.in_flight", &app::StatusView::in_flight},
    {"jobs.failed", &app::StatusView::failed},
    {"members.active", &app::StatusView::members_active},
    {"members.departed", &app::StatusView::members_departed},
    {"outcomes.invalid_event", &app::StatusView::invalid_events},
    {"outcomes.unattributable", &app::StatusView::unattributable},
    {"outcomes.unattributable_removal",
     &app::StatusView::unattributable_removals},
};

} // namespace

void SqliteStore::record_pass(const app::PassRecord& p)
{
  guarded(m_impl->path, [&] {
    const json j = {
      {"started", p.started},           {"finished", p.finished},
      {"exit_code", p.exit_code},       {"entries", p.entries},
      {"jobs_created", p.jobs_created}, {"jobs_superseded", p.jobs_superseded},
      {"recovered", p.recovered},       {"sent", p.sent},
      {"succeeded", p.succeeded},       {"failed", p.failed}};
    WriteTransaction tx(*m_impl->db);
    detail::meta_set(*m_impl->db, "last_pass", j.dump());
    if (p.exit_code == 0) {
      detail::meta_set(*m_impl->db, "last_success", std::to_string(p.finished));
    }
    m_impl->commit(tx);
  });
}

namespace {

// The counts status shows: kept at each write (SqliteStore::Impl::tally,
// store/schema.cpp), one read however many jobs, members and outcomes
// there are.
void read_tallies(SQLite::Database& db, app::StatusView& v)
{
  SQLite::Statement tallies(db, "SELECT name, n FROM tallies");
  while (tallies.executeStep()) {
    const std::string name = tallies.getColumn(0).getString();
    for (const auto& [key, field] : k_tallies) {
      if (name == key) {
        v.*field = tallies.getColumn(1).getInt64();
      }
    }
  }
}

// The due time of the oldest pending job due at `now`.
std::optional<core::TimeNs> oldest_due(SQLite::Database& db, core::TimeNs now)
{
  SQLite::Statement oldest(
    db, "SELECT min(due) FROM jobs WHERE state = 'pending' AND due <= ?");
  detail::bind(oldest, now);
  if (!oldest.executeStep() || oldest.getColumn(0).isNull()) {
    return std::nullopt;
  }
  return oldest.getColumn(0).getInt64();
}

std::optional<app::PassRecord> last_pass(SQLite::Database& db)
{
  const auto j = meta_json(db, "last_pass");
  if (!j) {
    return std::nullopt;
  }
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
  return p;
}

// Requests by answer class, kept across passes.
decltype(app::StatusView::requests) request_counts(SQLite::Database& db)
{
  decltype(app::StatusView::requests) out;
  SQLite::Statement requests(db, "SELECT substr(name, 10), value FROM counters "
                                 "WHERE name LIKE 'requests.%' ORDER BY name");
  while (requests.executeStep()) {
    out.emplace_back(requests.getColumn(0).getString(),
                     requests.getColumn(1).getInt64());
  }
  return out;
}

} // namespace

app::StatusView SqliteStore::status(core::TimeNs now)
{
  return guarded(m_impl->path, [&] {
    auto& db = *m_impl->db;
    app::StatusView v;
    v.cursor = cursor();
    read_tallies(db, v);
    v.oldest_due = oldest_due(db, now);
    v.last_pass = last_pass(db);
    v.audit_failure = audit_failure();
    if (const auto t = detail::meta_get(db, "last_success")) {
      v.last_success = std::stoll(*t);
    }
    v.requests = request_counts(db);
    v.generation = detail::meta_get(db, "generation").value_or("");
    v.health = health();
    v.pause_until = pause_until();
    return v;
  });
}

namespace {

// The query for a job listing of one state, or of one member; named
// parameters for what `q` sets.
std::string jobs_sql(const app::JobQuery& q)
{
  std::string sql = fmt::format("SELECT {} FROM jobs j {}",
                                detail::k_job_columns, detail::k_job_keys);
  std::vector<std::string> where;
  if (q.member_did) {
    sql += "JOIN members m ON m.id = j.member_id ";
    where.emplace_back("m.did = :did");
  }
  if (q.state) {
    // Spelled out, so the planner can use the state's partial index.
    where.emplace_back(
      fmt::format("j.state = '{}'", core::to_string(*q.state)));
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
  return sql + "ORDER BY j.due, j.rowid LIMIT :limit";
}

// A job listing of every state, in due order: see SqliteStore::jobs().
std::vector<app::JobRow> jobs_in_every_state(SqliteStore& store,
                                             const app::JobQuery& q)
{
  // One query per state walks its index (jobs_due, jobs_in_flight,
  // jobs_failed) in due order and stops at the limit; one query over all
  // states would sort the whole queue first.
  std::vector<app::JobRow> rows;
  for (const auto state : {core::JobState::pending, core::JobState::in_flight,
                           core::JobState::failed}) {
    app::JobQuery one = q;
    one.state = state;
    auto part = store.jobs(one);
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

} // namespace

std::vector<app::JobRow> SqliteStore::jobs(const app::JobQuery& q)
{
  if (!q.state && !q.member_did) {
    return jobs_in_every_state(*this, q);
  }
  return guarded(m_impl->path, [&] {
    SQLite::Statement st(*m_impl->db, jobs_sql(q));
    if (q.member_did) {
      st.bind(":did", *q.member_did);
    }
    if (q.kind) {
      st.bind(":kind", std::string(core::to_string(*q.kind)));
    }
    if (q.after) {
      st.bind(":due", q.after->first);
      st.bind(":seq", q.after->second);
    }
    st.bind(":limit", q.limit);
    std::vector<app::JobRow> rows;
    while (st.executeStep()) {
      rows.push_back(detail::job_from(st));
    }
    return rows;
  });
}

} // namespace vtc::store
