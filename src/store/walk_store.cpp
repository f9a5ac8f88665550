// SqliteStore: a walk batch's writes (members, their key pairs, rotations
// and jobs) in the batch's one write transaction.

#include "store/store_impl.hpp"

#include <nlohmann/json.hpp>

namespace vtc::store {

using detail::guarded;
using detail::WriteTransaction;

namespace {

std::string members_tally(core::MemberStatus status)
{
  return fmt::format("members.{}", core::to_string(status));
}

// Binds a member's state to ?1 to ?5 (status, role, active_from,
// active_to, consent) and `last` (its DID or id) to ?6.
template<class Last>
void bind_member(SQLite::Statement& st, const core::MemberState& m,
                 const Last& last)
{
  // NULL for an unknown consent (store/schema.cpp).
  if (m.consent == core::Consent::unknown) {
    detail::bind(st, core::to_string(m.status), m.role, m.active_from,
                 m.active_to, std::nullopt, last);
  } else {
    detail::bind(st, core::to_string(m.status), m.role, m.active_from,
                 m.active_to, core::to_string(m.consent), last);
  }
}

// Inserts a member never stored; nullopt when the table has its DID.
std::optional<std::int64_t> insert_member(SqliteStore::Impl& impl,
                                          const app::Member& m)
{
  auto insert = impl.prepare(
    "INSERT INTO members(status, role, active_from, active_to, consent, did) "
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(did) DO NOTHING");
  bind_member(*insert, m.state, m.did);
  if (insert->exec() != 1) {
    return std::nullopt;
  }
  impl.moved("", members_tally(m.state.status));
  return impl.db->getLastInsertRowid();
}

// Updates a member stored before; returns its id. The walk read its status
// in this transaction (WalkChange::stored_status): set only when it
// changes, and the tallies follow. Without that (a row the batch did not
// find), the row says.
std::int64_t update_member(SqliteStore::Impl& impl,
                           const app::WalkChange& change)
{
  const auto& m = change.member;
  std::int64_t id = m.id;
  std::optional<core::MemberStatus> before = change.stored_status;
  if (id == 0 || !before) {
    auto old =
      impl.prepare(id != 0 ? "SELECT id, status FROM members WHERE id = ?"
                           : "SELECT id, status FROM members WHERE did = ?");
    if (id != 0) {
      detail::bind(*old, id);
    } else {
      detail::bind(*old, m.did);
    }
    if (!old->executeStep()) {
      throw StoreError("member update found no row");
    }
    id = old->getColumn(0).getInt64();
    before = core::member_status_from(old->getColumn(1).getString());
  }
  const bool same = before == m.state.status;
  auto update = impl.prepare(
    same ? "UPDATE members SET role = ?2, active_from = ?3, active_to = ?4, "
           "consent = ?5 WHERE id = ?6"
         : "UPDATE members SET status = ?1, role = ?2, active_from = ?3, "
           "active_to = ?4, consent = ?5 WHERE id = ?6");
  bind_member(*update, m.state, id);
  update->exec();
  if (!same && before) {
    impl.moved(members_tally(*before), members_tally(m.state.status));
  }
  return id;
}

// Stores the member's target hash under the change's audit key. One hash
// per member and key: HMAC(key, DID). In chain mode a log could declare
// another; the first is kept.
void add_key_pair(SqliteStore::Impl& impl, std::int64_t member_id,
                  const app::WalkChange& change)
{
  const std::string hash = detail::hash_bytes(change.target_hash);
  const auto key = impl.key_ref(change.key_id, true);
  if (!key || hash.empty()) {
    return;
  }
  auto keys = impl.prepare("INSERT OR IGNORE INTO member_keys(member_id, key, "
                           "target_hash) VALUES (?, ?, ?)");
  detail::bind(*keys, member_id, *key, detail::Blob{hash});
  keys->exec();
}

} // namespace

std::int64_t SqliteStore::Impl::write_member(const app::WalkChange& change,
                                             bool& fresh)
{
  std::optional<std::int64_t> inserted;
  if (change.member.id == 0) {
    inserted = insert_member(*this, change.member);
  }
  fresh = inserted.has_value();
  const std::int64_t id = fresh ? *inserted : update_member(*this, change);
  if (!change.key_stored) {
    add_key_pair(*this, id, change);
  }
  return id;
}

bool SqliteStore::Impl::supersede_job(std::int64_t member_id)
{
  // Its outcome is copied from its row. A pending job (held deletes
  // included) or a failed one; an in_flight job is being sent and is left
  // to finish: recovery runs before the walk under the same lock, so there
  // is none, and if there were the insert of a new job fails on it.
  auto outcome = prepare(
    "INSERT INTO outcomes(at, kind, job_id, attempts, key, target_hash, "
    "detail) SELECT ?2, 'superseded', j.id, j.attempts, j.key, "
    "coalesce(j.target, k.target_hash, x''), '' FROM jobs j "
    "LEFT JOIN member_keys k ON k.member_id = j.member_id AND k.key = j.key "
    "WHERE j.member_id = ?1 AND j.state <> 'in_flight'");
  detail::bind(*outcome, member_id, clock.now());
  return outcome->exec() == 1;
}

namespace {

// A new job as replace_job() writes it: its statements name these values
// ?1 to ?9 (bind_job()).
struct NewJobRow
{
  std::int64_t member_id;
  const app::NewJob& job;
  std::string id;                  // as stored
  std::optional<std::int64_t> key; // the audit key's row
  std::string target;              // as stored; empty: none of its own
};

void bind_job(SQLite::Statement& st, const NewJobRow& r)
{
  const auto with_target = [&](const auto& target) {
    detail::bind(st, r.member_id, detail::Blob{r.id},
                 core::to_string(r.job.kind), r.job.due, r.job.rtbf ? 1 : 0,
                 r.job.event_line, r.key, r.job.nonce, target);
  };
  if (r.target.empty()) {
    with_target(std::nullopt);
  } else {
    with_target(detail::Blob{r.target});
  }
}

// The row of the member's superseded job becomes the new job.
//
// A new job that replaces a pending job due no later than itself keeps
// that job's due time, its place in the queue, unless it is an RTBF delete
// held to its window's end. A member whose changes come faster than they
// are sent is not pushed back by each of them, and the oldest due age
// counts from the first change not sent. That UPDATE sets neither state
// nor due, so SQLite leaves the job's entry in jobs_due where it is:
// moving it cost a search in a cold page for every event of a first walk,
// about 10% of its time.
void reuse_row(SqliteStore::Impl& impl, const NewJobRow& r)
{
  auto keep_place = impl.prepare(
    "UPDATE jobs SET id = ?2, kind = ?3, attempts = 0, retries = 0, "
    "rtbf = ?5, event_line = ?6, key = ?7, last_error = '', nonce = ?8, "
    "target = ?9 WHERE member_id = ?1 AND state = 'pending' AND due <= ?4 "
    "AND NOT ?5");
  bind_job(*keep_place, r);
  if (keep_place->exec() == 1) {
    return;
  }
  // A pending job moved in the queue, else a failed one: made pending.
  for (const char* state : {"pending", "failed"}) {
    auto update = impl.prepare(fmt::format(
      "UPDATE jobs SET id = ?2, kind = ?3, state = 'pending', attempts = 0, "
      "retries = 0, due = ?4, rtbf = ?5, event_line = ?6, key = ?7, "
      "last_error = '', nonce = ?8, target = ?9 WHERE member_id = ?1 AND "
      "state = '{}'",
      state));
    bind_job(*update, r);
    if (update->exec() == 1) {
      impl.moved(fmt::format("jobs.{}", state), "jobs.pending");
      return;
    }
  }
  throw StoreError("a superseded job is neither pending nor failed");
}

// Adds the job of a member that has none, unless one is in flight: that
// is a bug (recovery runs before the walk), refused naming the job.
void insert_job(SqliteStore::Impl& impl, const NewJobRow& r)
{
  auto insert = impl.prepare(
    "INSERT INTO jobs(member_id, id, kind, state, due, rtbf, event_line, key, "
    "nonce, target) VALUES (?1, ?2, ?3, 'pending', ?4, ?5, ?6, ?7, ?8, ?9) "
    "ON CONFLICT(member_id) DO NOTHING");
  bind_job(*insert, r);
  if (insert->exec() == 1) {
    impl.moved("", "jobs.pending");
    return;
  }
  auto live = impl.prepare("SELECT id FROM jobs WHERE member_id = ?");
  detail::bind(*live, r.member_id);
  live->executeStep();
  throw Error(ExitCode::software,
              fmt::format("job {} is in flight during the walk",
                          detail::job_id_text(live->getColumn(0))));
}

} // namespace

bool SqliteStore::Impl::replace_job(std::int64_t member_id,
                                    const app::NewJob& job, bool may_have_one)
{
  const NewJobRow row{
    member_id, job, detail::new_job_id_bytes(job.id), key_ref(job.key_id, true),
    job.own_target ? detail::hash_bytes(job.target_hash) : std::string()};
  // The live job, if any, ends as superseded and its row becomes the new
  // job.
  if (may_have_one && supersede_job(member_id)) {
    reuse_row(*this, row);
    return true;
  }
  insert_job(*this, row);
  return false;
}

void SqliteStore::Impl::rotate(const app::WalkChange& change,
                               app::BatchResult& counts)
{
  const std::int64_t member = change.member.id;
  // Its live job is superseded, as by any event.
  if (supersede_job(member)) {
    auto del = prepare("DELETE FROM jobs WHERE member_id = ? RETURNING state");
    detail::bind(*del, member);
    if (del->executeStep()) {
      moved("jobs." + del->getColumn(0).getString(), "");
    }
    ++counts.jobs_superseded;
  }
  // The old DID's pairs still name the member in a redacted entry.
  auto former = prepare(
    "INSERT OR IGNORE INTO former_keys(member_id, key, target_hash) "
    "SELECT member_id, key, target_hash FROM member_keys WHERE member_id = ?");
  detail::bind(*former, member);
  former->exec();
  auto forget_pairs = prepare("DELETE FROM member_keys WHERE member_id = ?");
  detail::bind(*forget_pairs, member);
  forget_pairs->exec();
  auto move = prepare("UPDATE members SET did = ? WHERE id = ?");
  detail::bind(*move, change.member.did, member);
  move->exec();
  const auto& rotation = *change.rotation;
  if (!rotation.retire) {
    // The registry holds nothing under the old DID: it is forgotten now
    // (its row's text was just overwritten; the pass checkpoints the WAL).
    ++counts.dids_forgotten;
    return;
  }
  // A row of the old DID keeps the old record's mirror and gets the job
  // that deletes it; once that succeeds, the row and the DID go.
  auto retired =
    prepare("INSERT INTO members(did, status) VALUES (?, 'purged')");
  detail::bind(*retired, rotation.old_did);
  retired->exec();
  moved("", "members.purged");
  const std::int64_t retired_id = db->getLastInsertRowid();
  auto mirror = prepare("UPDATE mirror SET member_id = ? WHERE member_id = ?");
  detail::bind(*mirror, retired_id, member);
  mirror->exec();
  replace_job(retired_id, *rotation.retire, false);
  ++counts.jobs_created;
}

namespace {

// A walk batch's write transaction on the store's connection.
class SqliteWalk final : public app::WalkTransaction
{
public:
  explicit SqliteWalk(SqliteStore::Impl& impl) : m_impl(impl), m_tx(*impl.db) {}

  std::optional<app::Member> find_member(const std::string& did,
                                         const std::string& key_id,
                                         bool& key_stored) override
  {
    return guarded(m_impl.path,
                   [&] { return m_impl.find_member(did, key_id, key_stored); });
  }

  core::MirrorState mirror(std::int64_t member_id) override
  {
    return guarded(m_impl.path, [&] {
      auto st = m_impl.prepare("SELECT state FROM mirror WHERE member_id = ?");
      detail::bind(*st, member_id);
      return st->executeStep() ? detail::mirror_state(st->getColumn(0))
                               : core::MirrorState::absent;
    });
  }

  void apply(const app::WalkChange& change, app::BatchResult& counts) override
  {
    guarded(m_impl.path, [&] { m_impl.apply(change, counts); });
  }

  void commit(const app::Cursor& cursor) override
  {
    guarded(m_impl.path, [&] {
      detail::meta_set(*m_impl.db, "cursor",
                       detail::cursor_to_json(cursor).dump());
      m_impl.commit(m_tx);
    });
  }

private:
  SqliteStore::Impl& m_impl;
  WriteTransaction m_tx;
};

} // namespace

void SqliteStore::Impl::apply(const app::WalkChange& change,
                              app::BatchResult& counts)
{
  if (!change.member.did.empty()) {
    if (change.rotation) {
      rotate(change, counts);
    }
    bool fresh = false;
    const std::int64_t member_id = write_member(change, fresh);
    if (change.job) {
      // A member just inserted, or just rotated, has no job yet.
      if (replace_job(member_id, *change.job, !fresh && !change.rotation)) {
        ++counts.jobs_superseded;
      }
      ++counts.jobs_created;
    }
  }
  for (const auto& o : change.outcomes) {
    add_outcome(o);
  }
}

std::unique_ptr<app::WalkTransaction> SqliteStore::begin_walk()
{
  return guarded(m_impl->path, [&] {
    return std::unique_ptr<app::WalkTransaction>(
      std::make_unique<SqliteWalk>(*m_impl));
  });
}
} // namespace vtc::store
