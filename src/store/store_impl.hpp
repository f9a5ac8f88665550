#pragma once

// Internal to store/: the private state of SqliteStore, shared by the
// files that implement it.

#include "store/codec.hpp"
#include "store/connection.hpp"
#include "store/sqlite_store.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <string_view>

namespace vtc::store {

namespace detail {

// A statement borrowed from SqliteStore::Impl::prepare(): reset when the
// borrower is done, so an unfinished query holds no read snapshot.
class Prepared
{
public:
  explicit Prepared(SQLite::Statement& st) : m_st(&st) {}
  ~Prepared() { m_st->tryReset(); }
  Prepared(const Prepared&) = delete;
  Prepared& operator=(const Prepared&) = delete;

  SQLite::Statement& operator*() const { return *m_st; }
  SQLite::Statement* operator->() const { return m_st; }

private:
  SQLite::Statement* m_st;
};

} // namespace detail

struct SqliteStore::Impl
{
  std::string path;
  const app::Clock& clock;
  // A scratch connection's snapshot (detail::hold_snapshot), released
  // after it: declared before it.
  std::unique_ptr<SQLite::Database> snapshot;
  // Declared before the statements: a Database must outlive them.
  std::unique_ptr<SQLite::Database> db;
  // Prepared once per connection: a walk or a dispatch runs the same few
  // statements for every entry or job, and compiling SQL costs more than
  // running it.
  std::map<std::string, std::unique_ptr<SQLite::Statement>, std::less<>>
    statements;

  // Audit key id (text) → its audit_keys row, as far as this connection
  // has seen; forgotten when a transaction rolls back, which may have taken
  // a row just added with it.
  std::map<std::string, std::int64_t, std::less<>> key_refs;

  // Changes to the counts in the tallies table (store/schema.cpp) made in
  // the open write transaction: commit() writes them with it; forgotten
  // when it rolls back.
  std::map<std::string, std::int64_t, std::less<>> tally_deltas;

  Impl(std::string p, const app::Clock& c) : path(std::move(p)), clock(c) {}

  // Opens the connection (see open_connection()) and watches its rollbacks.
  void open(OpenMode mode, const Binding& binding);

  // The statement for `sql`, prepared on first use; bind every parameter.
  detail::Prepared prepare(std::string_view sql)
  {
    auto it = statements.find(sql);
    if (it == statements.end()) {
      it =
        statements
          .emplace(std::string(sql),
                   std::make_unique<SQLite::Statement>(*db, std::string(sql)))
          .first;
    }
    return detail::Prepared(*it->second);
  }

  // The audit_keys row of `key_id`, added when `add` (inside a write
  // transaction); nullopt for "" or a key id never stored.
  std::optional<std::int64_t> key_ref(const std::string& key_id, bool add);

  // Appends an outcome row stamped with the clock; returns its seq.
  std::int64_t add_outcome(const app::Outcome& o);
  // Adds `delta` to a count status shows (store/schema.cpp, tallies), for
  // commit() to write.
  void tally(std::string_view name, std::int64_t delta)
  {
    if (delta != 0) {
      tally_deltas[std::string(name)] += delta;
    }
  }
  // `n` jobs (or members) went from one state (status) to another: names
  // as in tallies ("jobs.pending"); "" for none (a row added or deleted).
  void moved(std::string_view from, std::string_view to, std::int64_t n = 1)
  {
    if (from == to) {
      return;
    }
    if (!from.empty()) {
      tally(from, -n);
    }
    if (!to.empty()) {
      tally(to, n);
    }
  }
  // Writes the tallies' changes, then commits `tx`.
  void commit(detail::WriteTransaction& tx);
  // The member of `did`, and whether its hash under `key_id` ("" for
  // none) is stored: see app::WalkTransaction::find_member().
  std::optional<app::Member> find_member(const std::string& did,
                                         const std::string& key_id,
                                         bool& key_stored);
  // Writes a walk change: see app::WalkTransaction::apply().
  void apply(const app::WalkChange& change, app::BatchResult& counts);
  // Writes a walk change's member and its (key, hash) pair; returns its
  // id. A member without an id (never stored) is inserted unless the table
  // has it; `fresh` is set for a member just inserted, which has no job yet.
  std::int64_t write_member(const app::WalkChange& change, bool& fresh);
  // The member's live job ends as superseded (its outcome recorded), unless
  // it is in flight; returns whether there was one.
  bool supersede_job(std::int64_t member_id);
  // Moves a member to its new DID (app::Rotation): see WalkChange.
  void rotate(const app::WalkChange& change, app::BatchResult& counts);
  // Makes `job` the live job of the member: a job it had ends as
  // superseded (its outcome recorded first) and its row is reused. Returns
  // whether there was one; a member just inserted (`may_have_one` false)
  // has none. Throws Error (70) for a job in flight.
  bool replace_job(std::int64_t member_id, const app::NewJob& job,
                   bool may_have_one);

  // The parts of a dispatch step (app::StateStore::dispatch_step()), each
  // inside the write transaction `tx` the caller commits.
  //
  // Records the ends of requests and the registry's health: see
  // app::StateStore::finish().
  void record_answers(detail::WriteTransaction& tx,
                      const std::vector<app::Finished>& done,
                      const core::Health& health,
                      std::optional<core::AnswerClass> probe);
  // Puts claimed jobs never sent back as they were before the claim.
  void put_back(detail::WriteTransaction& tx,
                const std::vector<app::ClaimedJob>& unsent);
  // Claims up to `limit` jobs due at `now` within `scope`, in due order;
  // the jobs that send nothing end as skipped, and `skipped` counts them.
  std::vector<app::ClaimedJob> claim(detail::WriteTransaction& tx,
                                     core::TimeNs now, std::int64_t limit,
                                     app::ClaimScope scope,
                                     const core::Publication& publication,
                                     std::int64_t& skipped);
};

namespace detail {

// The cursor as the meta value "cursor" stores it.
nlohmann::json cursor_to_json(const app::Cursor& c);

// A nullable time column.
inline std::optional<core::TimeNs> optional_time(const SQLite::Column& c)
{
  if (c.isNull()) {
    return std::nullopt;
  }
  return c.getInt64();
}

// The member columns member_from() reads, in its order, of `members m`.
inline constexpr const char* k_member_columns =
  "m.id, m.did, m.status, m.role, m.active_from, m.active_to, m.consent";
inline constexpr int k_member_column_count = 7;

// Reads the k_member_columns starting at `first`.
inline app::Member member_from(SQLite::Statement& st, int first = 0)
{
  app::Member m;
  m.id = st.getColumn(first).getInt64();
  m.did = st.getColumn(first + 1).getString();
  m.state.status = core::member_status_from(st.getColumn(first + 2).getString())
                     .value_or(core::MemberStatus::unknown);
  m.state.role = st.getColumn(first + 3).getString();
  m.state.active_from = optional_time(st.getColumn(first + 4));
  m.state.active_to = optional_time(st.getColumn(first + 5));
  // NULL (no event has said) reads as "" and so as unknown.
  m.state.consent = core::consent_from(st.getColumn(first + 6).getString())
                      .value_or(core::Consent::unknown);
  return m;
}

// A mirror row's state column (NULL: no row).
inline core::MirrorState mirror_state(const SQLite::Column& c)
{
  if (c.isNull()) {
    return core::MirrorState::absent;
  }
  return c.getString() == "present" ? core::MirrorState::present
                                    : core::MirrorState::unknown;
}

// Joined to `jobs j`, they name the audit key id (a.key_id) and, with
// k_job_target, the target hash of the entry that made the job.
inline constexpr const char* k_job_keys =
  "LEFT JOIN audit_keys a ON a.id = j.key "
  "LEFT JOIN member_keys k ON k.member_id = j.member_id AND k.key = j.key ";
inline constexpr const char* k_job_target = "coalesce(j.target, k.target_hash)";

// A job by its id is found through jobs_id when the query says this, as
// jobs_id's WHERE does: SQLite does not see that state = 'failed' implies
// it. The index holds every job but pending ones never sent.
inline constexpr const char* k_job_id_indexed =
  "(j.state <> 'pending' OR j.attempts > 0)";

// The job columns job_from() reads, in its order (with k_job_keys).
inline constexpr const char* k_job_columns =
  "j.id, j.kind, j.state, j.attempts, j.due, j.rtbf, j.event_line, "
  "coalesce(j.target, k.target_hash), j.last_error, j.rowid";

// Reads the k_job_columns of a query on `jobs j`.
inline app::JobRow job_from(SQLite::Statement& st)
{
  app::JobRow r;
  r.id = job_id_text(st.getColumn(0));
  r.kind = core::job_kind_from(st.getColumn(1).getString())
             .value_or(core::JobKind::publish);
  r.state = core::job_state_from(st.getColumn(2).getString())
              .value_or(core::JobState::pending);
  r.attempts = st.getColumn(3).getInt64();
  r.due = st.getColumn(4).getInt64();
  r.rtbf = st.getColumn(5).getInt() != 0;
  r.event_line = st.getColumn(6).getInt64();
  r.target_hash = hash_text(st.getColumn(7));
  r.last_error = st.getColumn(8).getString();
  r.seq = st.getColumn(9).getInt64();
  return r;
}

} // namespace detail

} // namespace vtc::store
