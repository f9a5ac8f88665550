// SqliteStore: settings, the member/mirror view reconcile compares, and the
// WAL checkpoint that makes forgotten members leave the files.

#include "store/store_impl.hpp"

namespace vtc::store {

using detail::guarded;
using detail::WriteTransaction;

std::optional<std::string> SqliteStore::setting(const std::string& key)
{
  return guarded(m_impl->path, [&] {
    return detail::meta_get(*m_impl->db, ("setting." + key).c_str());
  });
}

void SqliteStore::set_setting(const std::string& key, const std::string& value)
{
  guarded(m_impl->path, [&] {
    const std::string name = "setting." + key;
    if (detail::meta_get(*m_impl->db, name.c_str()) == value) {
      return;
    }
    WriteTransaction tx(*m_impl->db);
    detail::meta_set(*m_impl->db, name.c_str(), value);
    m_impl->commit(tx);
  });
}

// The 429 pause is a setting: one row, written only when a 429 comes.
constexpr const char* k_pause_until = "pause_until";

std::optional<core::TimeNs> SqliteStore::pause_until()
{
  const auto text = setting(k_pause_until);
  if (!text || text->empty()) {
    return std::nullopt;
  }
  return std::stoll(*text);
}

void SqliteStore::set_pause_until(core::TimeNs until)
{
  set_setting(k_pause_until, std::to_string(until));
}

namespace {

// Members (with a DID) and their mirror: every one, or the one of `did`.
std::vector<app::MirroredMember> select_mirrored(
  SQLite::Database& db, const std::optional<std::string>& did)
{
  SQLite::Statement st(
    db, fmt::format(
          "SELECT {}, r.state, r.body, j.id IS NOT NULL FROM members m "
          "LEFT JOIN mirror r ON r.member_id = m.id "
          "LEFT JOIN jobs j ON j.member_id = m.id "
          "WHERE {} ORDER BY m.id",
          detail::k_member_columns, did ? "m.did = ?" : "m.did IS NOT NULL"));
  if (did) {
    detail::bind(st, *did);
  }
  std::vector<app::MirroredMember> out;
  while (st.executeStep()) {
    app::MirroredMember mm;
    mm.member = detail::member_from(st);
    constexpr int k_next = detail::k_member_column_count;
    mm.mirror = detail::mirror_state(st.getColumn(k_next));
    mm.mirror_body = st.getColumn(k_next + 1).isNull()
                       ? ""
                       : st.getColumn(k_next + 1).getString();
    mm.has_live_job = st.getColumn(k_next + 2).getInt() != 0;
    out.push_back(std::move(mm));
  }
  return out;
}

} // namespace

std::vector<app::MirroredMember> SqliteStore::mirrored_members()
{
  return guarded(m_impl->path,
                 [&] { return select_mirrored(*m_impl->db, std::nullopt); });
}

std::optional<app::MirroredMember> SqliteStore::mirrored_member(
  const std::string& did)
{
  return guarded(m_impl->path, [&]() -> std::optional<app::MirroredMember> {
    auto found = select_mirrored(*m_impl->db, did);
    if (found.empty()) {
      return std::nullopt;
    }
    return std::move(found.front());
  });
}

void SqliteStore::add_jobs(const std::vector<app::ReconcileJob>& jobs)
{
  if (jobs.empty()) {
    return;
  }
  guarded(m_impl->path, [&] {
    auto& db = *m_impl->db;
    const core::TimeNs now = m_impl->clock.now();
    WriteTransaction tx(db);
    // The outcomes of a reconcile job name the member by one of its
    // (key id, target hash) pairs, like every other outcome.
    SQLite::Statement insert(
      db, "INSERT INTO jobs(id, member_id, kind, state, due, event_line, key) "
          "VALUES (?1, ?2, ?3, 'pending', ?4, 0, (SELECT min(key) FROM "
          "member_keys WHERE member_id = ?2))");
    for (const auto& j : jobs) {
      detail::bind(insert, detail::Blob{detail::new_job_id_bytes(j.id)},
                   j.member_id, core::to_string(j.kind), now);
      m_impl->moved("", "jobs.pending", insert.exec());
      insert.reset();
    }
    m_impl->commit(tx);
  });
}

bool SqliteStore::checkpoint()
{
  return guarded(m_impl->path, [&] {
    SQLite::Statement st(*m_impl->db, "PRAGMA wal_checkpoint(TRUNCATE)");
    return st.executeStep() && st.getColumn(0).getInt() == 0;
  });
}

} // namespace vtc::store
