// SqliteStore: a walk batch's writes (members, their key pairs, rotations
// and jobs) in the batch's one write transaction.

#include "store/store_impl.hpp"

#include <nlohmann/json.hpp>

namespace vtc::store {

using detail::guarded;
using detail::WriteTransaction;

namespace {

void bind_optional(SQLite::Statement& st, int index,
                   const std::optional<core::TimeNs>& t)
{
  if (t) {
    st.bind(index, static_cast<std::int64_t>(*t));
  } else {
    st.bind(index);
  }
}

std::string members_tally(core::MemberStatus status)
{
  return fmt::format("members.{}", core::to_string(status));
}

} // namespace

std::int64_t SqliteStore::Impl::write_member(const app::WalkChange& change,
                                            bool& fresh)
{
  const auto& m = change.member;
  std::int64_t id = m.id;
  const auto bind_state = [&](SQLite::Statement& st) {
    st.bind(1, std::string(core::to_string(m.state.status)));
    st.bind(2, m.state.role);
    bind_optional(st, 3, m.state.active_from);
    bind_optional(st, 4, m.state.active_to);
    if (m.state.consent == core::Consent::unknown) {
      st.bind(5);
    } else {
      st.bind(5, std::string(core::to_string(m.state.consent)));
    }
  };
  fresh = false;
  if (id == 0) {
    auto insert = prepare("INSERT INTO members(status, role, active_from, "
                          "active_to, consent, did) VALUES (?, ?, ?, ?, ?, ?) "
                          "ON CONFLICT(did) DO NOTHING");
    bind_state(*insert);
    insert->bind(6, m.did);
    fresh = insert->exec() == 1;
    if (fresh) {
      id = db->getLastInsertRowid();
      moved("", members_tally(m.state.status));
    }
  }
  if (!fresh) {
    // A member stored before. The walk read its status in this
    // transaction: set only when it changes, and the tallies follow.
    // Without that (a row the batch did not find), the row says.
    std::optional<core::MemberStatus> before = change.stored_status;
    if (id == 0 || !before) {
      auto old = prepare(id != 0 ? "SELECT id, status FROM members WHERE id = ?"
                                 : "SELECT id, status FROM members WHERE did = ?");
      if (id != 0) {
        old->bind(1, id);
      } else {
        old->bind(1, m.did);
      }
      if (!old->executeStep()) {
        throw StoreError("member update found no row");
      }
      id = old->getColumn(0).getInt64();
      before = core::member_status_from(old->getColumn(1).getString());
    }
    const bool same = before == m.state.status;
    auto update = prepare(same ? "UPDATE members SET role = ?2, active_from = ?3, "
                                 "active_to = ?4, consent = ?5 WHERE id = ?6"
                               : "UPDATE members SET status = ?1, role = ?2, "
                                 "active_from = ?3, active_to = ?4, "
                                 "consent = ?5 WHERE id = ?6");
    bind_state(*update);
    update->bind(6, id);
    update->exec();
    if (!same && before) {
      moved(members_tally(*before), members_tally(m.state.status));
    }
  }
  if (change.key_stored) {
    return id;
  }
  const std::string hash = detail::hash_bytes(change.target_hash);
  const auto key = key_ref(change.key_id, true);
  if (key && !hash.empty()) {
    // One hash per member and key: HMAC(key, DID). In chain mode a log
    // could declare another; the first is kept.
    auto keys = prepare("INSERT OR IGNORE INTO member_keys(member_id, key, "
                        "target_hash) VALUES (?, ?, ?)");
    keys->bind(1, id);
    keys->bind(2, *key);
    detail::bind_bytes(*keys, 3, hash);
    keys->exec();
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
  outcome->bind(1, member_id);
  outcome->bind(2, static_cast<std::int64_t>(clock.now()));
  return outcome->exec() == 1;
}

bool SqliteStore::Impl::replace_job(std::int64_t member_id,
                                    const app::NewJob& job, bool may_have_one)
{
  const std::string id = detail::new_job_id_bytes(job.id);
  const std::string target =
    job.own_target ? detail::hash_bytes(job.target_hash) : std::string();
  const auto bind_job = [&](SQLite::Statement& st) {
    st.bind(1, member_id);
    detail::bind_bytes(st, 2, id);
    st.bind(3, std::string(core::to_string(job.kind)));
    st.bind(4, static_cast<std::int64_t>(job.due));
    st.bind(5, job.rtbf ? 1 : 0);
    st.bind(6, static_cast<std::int64_t>(job.event_line));
    bind_key(st, 7, job.key_id);
    st.bind(8, static_cast<std::int64_t>(job.nonce));
    if (target.empty()) {
      st.bind(9);
    } else {
      detail::bind_bytes(st, 9, target);
    }
  };
  // The live job, if any, ends as superseded and its row becomes the new
  // job.
  //
  // A new job that replaces a pending job due no later than itself keeps
  // that job's due time, its place in the queue, unless it is an RTBF
  // delete held to its window's end. A member whose changes come faster
  // than they are sent is not pushed back by each of them, and the oldest
  // due age counts from the first change not sent. That UPDATE sets
  // neither state nor due, so SQLite leaves the job's entry in jobs_due
  // where it is: moving it cost a search in a cold page for every event of
  // a first walk, about 10% of its time.
  if (may_have_one && supersede_job(member_id)) {
    auto keep_place = prepare(
      "UPDATE jobs SET id = ?2, kind = ?3, attempts = 0, retries = 0, "
      "rtbf = ?5, event_line = ?6, key = ?7, last_error = '', nonce = ?8, "
      "target = ?9 WHERE member_id = ?1 AND state = 'pending' AND due <= ?4 "
      "AND NOT ?5");
    bind_job(*keep_place);
    if (keep_place->exec() == 1) {
      return true;
    }
    // A pending job moved in the queue, else a failed one: made pending.
    for (const char* state : {"pending", "failed"}) {
      auto update = prepare(fmt::format(
        "UPDATE jobs SET id = ?2, kind = ?3, state = 'pending', attempts = 0, "
        "retries = 0, due = ?4, rtbf = ?5, event_line = ?6, key = ?7, "
        "last_error = '', nonce = ?8, target = ?9 WHERE member_id = ?1 AND "
        "state = '{}'", state));
      bind_job(*update);
      if (update->exec() == 1) {
        moved(fmt::format("jobs.{}", state), "jobs.pending");
        return true;
      }
    }
    throw StoreError("a superseded job is neither pending nor failed");
  }
  auto insert = prepare(
    "INSERT INTO jobs(member_id, id, kind, state, due, rtbf, event_line, key, "
    "nonce, target) VALUES (?1, ?2, ?3, 'pending', ?4, ?5, ?6, ?7, ?8, ?9) "
    "ON CONFLICT(member_id) DO NOTHING");
  bind_job(*insert);
  if (insert->exec() == 1) {
    moved("", "jobs.pending");
  } else {
    auto live = prepare("SELECT id FROM jobs WHERE member_id = ?");
    live->bind(1, member_id);
    live->executeStep();
    throw Error(ExitCode::software,
                fmt::format("job {} is in flight during the walk",
                            detail::job_id_text(live->getColumn(0))));
  }
  return false;
}

void SqliteStore::Impl::rotate(const app::WalkChange& change,
                               app::BatchResult& counts)
{
  const std::int64_t member = change.member.id;
  // Its live job is superseded, as by any event.
  if (supersede_job(member)) {
    auto del = prepare("DELETE FROM jobs WHERE member_id = ? RETURNING state");
    del->bind(1, member);
    if (del->executeStep()) {
      moved("jobs." + del->getColumn(0).getString(), "");
    }
    ++counts.jobs_superseded;
  }
  // The old DID's pairs still name the member in a redacted entry.
  auto former = prepare(
    "INSERT OR IGNORE INTO former_keys(member_id, key, target_hash) "
    "SELECT member_id, key, target_hash FROM member_keys WHERE member_id = ?");
  former->bind(1, member);
  former->exec();
  auto forget_pairs = prepare("DELETE FROM member_keys WHERE member_id = ?");
  forget_pairs->bind(1, member);
  forget_pairs->exec();
  auto move = prepare("UPDATE members SET did = ? WHERE id = ?");
  move->bind(1, change.member.did);
  move->bind(2, member);
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
  auto retired = prepare("INSERT INTO members(did, status) VALUES (?, 'purged')");
  retired->bind(1, rotation.old_did);
  retired->exec();
  moved("", "members.purged");
  const std::int64_t retired_id = db->getLastInsertRowid();
  auto mirror = prepare("UPDATE mirror SET member_id = ? WHERE member_id = ?");
  mirror->bind(1, retired_id);
  mirror->bind(2, member);
  mirror->exec();
  replace_job(retired_id, *rotation.retire, false);
  ++counts.jobs_created;
}

namespace {

// A walk batch's write transaction on the store's connection.
class SqliteWalk final : public app::WalkTransaction
{
public:
  explicit SqliteWalk(SqliteStore::Impl& impl)
    : m_impl(impl), m_tx(*impl.db)
  {
  }

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
      st->bind(1, member_id);
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
      detail::meta_set(*m_impl.db, "cursor", detail::cursor_to_json(cursor).dump());
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
