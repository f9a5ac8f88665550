// SqliteStore: what operators read and change by hand (queue show, retry,
// discard, outcomes list).

#include "store/store_impl.hpp"

#include <nlohmann/json.hpp>

namespace vtc::store {

using detail::guarded;
using detail::WriteTransaction;

namespace {

// Operator changes commit in chunks: a bulk retry of 100,000 jobs must not
// hold the write lock against a running pass for long.
constexpr std::size_t k_chunk = 500;

app::OutcomeRow outcome_from(SQLite::Statement& st)
{
  app::OutcomeRow o;
  o.seq = st.getColumn(0).getInt64();
  o.at = st.getColumn(1).getInt64();
  o.kind = st.getColumn(2).getString();
  o.job_id = detail::job_id_text(st.getColumn(3));
  o.attempts = st.getColumn(4).getInt64();
  o.key_id = detail::uuid_text(st.getColumn(5));
  o.target_hash = detail::hash_text(st.getColumn(6));
  o.detail = st.getColumn(7).getString();
  o.generation = st.getColumn(8).getString();
  return o;
}

// The database's generation id rides along on every outcome.
constexpr const char* k_outcome_columns =
  "o.seq, o.at, o.kind, o.job_id, o.attempts, a.key_id, o.target_hash, "
  "o.detail, (SELECT value FROM meta WHERE key = 'generation')";
constexpr const char* k_outcome_from =
  "outcomes o LEFT JOIN audit_keys a ON a.id = o.key";

} // namespace

namespace {

// The live job of id `key` (as stored) with its retries; nullopt when no
// job has it now.
std::optional<app::JobDetail> live_job(SQLite::Database& db,
                                       const std::string& key)
{
  // A pending job never sent is not in jobs_id: the second query scans
  // the table for it, and runs only when the first found nothing. Its
  // `+` keeps SQLite from reading the whole of jobs_due instead.
  SQLite::Statement job(
    db, fmt::format("SELECT {0}, j.retries FROM jobs j {1} WHERE {2} AND "
                    "j.id = ?1 UNION ALL SELECT {0}, j.retries FROM jobs j "
                    "{1} WHERE j.id = ?1 AND +j.state = 'pending' LIMIT 1",
                    detail::k_job_columns, detail::k_job_keys,
                    detail::k_job_id_indexed));
  detail::bind(job, detail::Blob{key});
  if (!job.executeStep()) {
    return std::nullopt;
  }
  app::JobDetail d;
  d.job = detail::job_from(job);
  d.retries = job.getColumn(10).getInt64();
  d.live = true;
  return d;
}

// The requests sent for job `id` (`key` as stored), in order.
std::vector<app::AttemptRow> attempts_of(SQLite::Database& db,
                                         const std::string& id,
                                         const std::string& key)
{
  SQLite::Statement att(
    db, "SELECT n, started, finished, method, retry, http_status, "
        "class, error, digest FROM attempts WHERE job_id = ? ORDER BY n");
  detail::bind(att, detail::Blob{key});
  std::vector<app::AttemptRow> out;
  while (att.executeStep()) {
    app::AttemptRow a;
    a.n = att.getColumn(0).getInt64();
    a.started = att.getColumn(1).getInt64();
    a.finished = detail::optional_time(att.getColumn(2));
    a.method = att.getColumn(3).getString();
    // Known once the request was built and answered ("" for a request a
    // pass died in).
    if (!att.getColumn(8).isNull()) {
      a.idempotency_key = core::idempotency_key(id, att.getColumn(4).getInt64(),
                                                att.getColumn(8).getInt64());
    }
    if (!att.getColumn(5).isNull()) {
      a.http_status = att.getColumn(5).getInt();
    }
    a.cls = att.getColumn(6).getString();
    a.error = att.getColumn(7).getString();
    out.push_back(std::move(a));
  }
  return out;
}

// The outcomes of the job `key` (as stored), in order. Superseded outcomes
// are not in outcomes_job: the table is scanned for them only for a job
// that is not live, or one whose id recurs by design (reconcile:,
// retire:). A live job with an event's id was not superseded, unless the
// log repeated that event id (outcomes list shows such an outcome).
std::vector<app::OutcomeRow> outcomes_of(SQLite::Database& db,
                                         const std::string& key, bool live)
{
  SQLite::Statement out(
    db, fmt::format("SELECT {0} FROM {1} WHERE o.job_id = ?1 AND o.kind <> "
                    "'superseded' UNION ALL SELECT {0} FROM {1} WHERE ?2 AND "
                    "o.job_id = ?1 AND o.kind = 'superseded' ORDER BY 1",
                    k_outcome_columns, k_outcome_from));
  detail::bind(out, detail::Blob{key}, !live || key.size() != 16 ? 1 : 0);
  std::vector<app::OutcomeRow> rows;
  while (out.executeStep()) {
    rows.push_back(outcome_from(out));
  }
  return rows;
}

} // namespace

std::optional<app::JobDetail> SqliteStore::job_detail(const std::string& id)
{
  return guarded(m_impl->path, [&]() -> std::optional<app::JobDetail> {
    auto& db = *m_impl->db;
    const std::string key = detail::job_id_bytes(id);
    if (key.empty()) {
      return std::nullopt; // not the spelling of any job id
    }
    // A job that ended still has its history; only an id never seen is
    // unknown.
    app::JobDetail d = live_job(db, key).value_or(app::JobDetail{});
    d.attempts = attempts_of(db, id, key);
    d.outcomes = outcomes_of(db, key, d.live);
    if (!d.live && d.attempts.empty() && d.outcomes.empty()) {
      return std::nullopt;
    }
    if (!d.live) {
      d.job.id = detail::job_id_text(key);
    }
    return d;
  });
}

std::vector<std::string> SqliteStore::failed_jobs(
  const std::optional<std::string>& member_did)
{
  return guarded(m_impl->path, [&] {
    std::string sql = "SELECT j.id FROM jobs j ";
    if (member_did) {
      sql += "JOIN members m ON m.id = j.member_id WHERE m.did = ? AND ";
    } else {
      sql += "WHERE ";
    }
    sql += "j.state = 'failed' ORDER BY j.rowid";
    SQLite::Statement st(*m_impl->db, sql);
    if (member_did) {
      detail::bind(st, *member_did);
    }
    std::vector<std::string> ids;
    while (st.executeStep()) {
      ids.push_back(detail::job_id_text(st.getColumn(0)));
    }
    return ids;
  });
}

namespace {

// Applies `change` to each failed job in chunks; reports per id. `change`
// gets the job's member (its rowid), the job id as text, attempts, the
// audit key id and target hash, and retries.
template<class F>
std::vector<app::JobChange> change_failed(SqliteStore::Impl& impl,
                                          const std::vector<std::string>& ids,
                                          F&& change)
{
  auto& db = *impl.db;
  std::vector<app::JobChange> result;
  result.reserve(ids.size());
  for (std::size_t start = 0; start < ids.size(); start += k_chunk) {
    WriteTransaction tx(db);
    SQLite::Statement find(db, fmt::format("SELECT j.member_id, j.attempts, "
                                           "a.key_id, k.target_hash, "
                                           "j.retries FROM jobs j {} WHERE "
                                           "j.state = 'failed' AND {} AND "
                                           "j.id = ?",
                                           detail::k_job_keys,
                                           detail::k_job_id_indexed));
    // Only for an id that no failed job has: is it another job's?
    SQLite::Statement any(db, "SELECT 1 FROM jobs WHERE id = ?");
    for (std::size_t i = start; i < std::min(ids.size(), start + k_chunk);
         ++i) {
      const std::string key = detail::job_id_bytes(ids[i]);
      detail::bind(find, detail::Blob{key});
      if (key.empty()) {
        result.push_back(app::JobChange::not_found);
      } else if (find.executeStep()) {
        change(
          find.getColumn(0).getInt64(), detail::job_id_text(key),
          find.getColumn(1).getInt64(), detail::uuid_text(find.getColumn(2)),
          detail::hash_text(find.getColumn(3)), find.getColumn(4).getInt64());
        result.push_back(app::JobChange::done);
      } else {
        detail::bind(any, detail::Blob{key});
        result.push_back(any.executeStep() ? app::JobChange::wrong_state
                                           : app::JobChange::not_found);
        any.reset();
      }
      find.reset();
    }
    impl.commit(tx);
  }
  return result;
}

} // namespace

std::vector<app::JobChange> SqliteStore::retry(
  const std::vector<std::string>& ids)
{
  return guarded(m_impl->path, [&] {
    auto& db = *m_impl->db;
    const core::TimeNs now = m_impl->clock.now();
    SQLite::Statement up(db, "UPDATE jobs SET state = 'pending', attempts = 0, "
                             "retries = retries + 1, due = ?, last_error = '' "
                             "WHERE member_id = ?");
    return change_failed(
      *m_impl, ids,
      [&](std::int64_t member, const std::string& id, std::int64_t attempts,
          const std::string& key_id, const std::string& hash,
          std::int64_t retries) {
        detail::bind(up, now, member);
        m_impl->moved("jobs.failed", "jobs.pending", up.exec());
        up.reset();
        m_impl->add_outcome({core::OutcomeKind::retried, id, attempts, key_id,
                             hash,
                             nlohmann::json{{"retry", retries + 1}}.dump()});
      });
  });
}

std::vector<app::JobChange> SqliteStore::discard(
  const std::vector<std::string>& ids)
{
  return guarded(m_impl->path, [&] {
    auto& db = *m_impl->db;
    SQLite::Statement del(db, "DELETE FROM jobs WHERE member_id = ?");
    return change_failed(
      *m_impl, ids,
      [&](std::int64_t member, const std::string& id, std::int64_t attempts,
          const std::string& key_id, const std::string& hash, std::int64_t) {
        detail::bind(del, member);
        m_impl->moved("jobs.failed", "", del.exec());
        del.reset();
        m_impl->add_outcome(
          {core::OutcomeKind::discarded, id, attempts, key_id, hash, ""});
      });
  });
}

std::vector<app::OutcomeRow> SqliteStore::outcomes(std::int64_t since,
                                                   std::int64_t limit)
{
  return guarded(m_impl->path, [&] {
    SQLite::Statement st(*m_impl->db,
                         fmt::format("SELECT {} FROM {} WHERE o.seq > ? "
                                     "ORDER BY o.seq LIMIT ?",
                                     k_outcome_columns, k_outcome_from));
    detail::bind(st, since, limit);
    std::vector<app::OutcomeRow> out;
    while (st.executeStep()) {
      out.push_back(outcome_from(st));
    }
    return out;
  });
}

std::int64_t SqliteStore::prune_outcomes(std::int64_t before)
{
  return guarded(m_impl->path, [&] {
    auto& db = *m_impl->db;
    std::int64_t total = 0;
    for (;;) {
      WriteTransaction tx(db);
      // The chunk ends at `last`; the kinds status counts leave its tallies.
      SQLite::Statement end(db, "SELECT seq FROM outcomes WHERE seq < ? "
                                "ORDER BY seq LIMIT 1 OFFSET ?");
      detail::bind(end, before, static_cast<std::int64_t>(k_chunk) - 1);
      const std::int64_t last =
        end.executeStep() ? end.getColumn(0).getInt64() : before - 1;
      SQLite::Statement counted(
        db, "SELECT kind, count(*), sum(detail->>'reason' = 'removal') "
            "FROM outcomes WHERE (kind = 'invalid_event' OR kind = "
            "'unattributable') AND seq <= ? GROUP BY kind");
      detail::bind(counted, last);
      while (counted.executeStep()) {
        const std::string kind = counted.getColumn(0).getString();
        m_impl->tally("outcomes." + kind, -counted.getColumn(1).getInt64());
        if (kind == "unattributable") {
          m_impl->tally("outcomes.unattributable_removal",
                        -counted.getColumn(2).getInt64());
        }
      }
      SQLite::Statement del(db, "DELETE FROM outcomes WHERE seq <= ?");
      detail::bind(del, last);
      const int n = del.exec();
      m_impl->commit(tx);
      total += n;
      if (n < static_cast<int>(k_chunk)) {
        return total;
      }
    }
  });
}

} // namespace vtc::store
