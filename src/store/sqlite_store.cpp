#include "store/sqlite_store.hpp"

#include "store/connection.hpp"
#include "store/schema.hpp"
#include "store/store_impl.hpp"

#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include <algorithm>
#include <iterator>
#include <utility>

namespace vtc::store {

using detail::guarded;
using detail::member_from;
using detail::meta_json;
using detail::WriteTransaction;
using nlohmann::json;

nlohmann::json detail::cursor_to_json(const app::Cursor& c)
{
  return {{"line", c.line},         {"entry_hash", c.entry_hash},
          {"chained", c.chained},   {"line_start", c.line_start},
          {"offset", c.offset},     {"device", c.device},
          {"inode", c.inode},       {"size", c.size},
          {"event_id", c.event_id}, {"time", c.time}};
}

namespace {

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
  c.event_id = j.value("event_id", std::string());
  c.time = j.value("time", core::TimeNs{0});
  return c;
}

json failure_to_json(const app::AuditFailure& f)
{
  return {{"line", f.line},
          {"event_id", f.event_id},
          {"reason", f.reason},
          {"detail", f.detail}};
}

} // namespace

SqliteStore::SqliteStore(const std::string& path, OpenMode mode,
                         const Binding& binding, const app::Clock& clock)
  : m_impl(std::make_unique<Impl>(path, clock))
{
  m_impl->open(mode, binding);
}

void SqliteStore::Impl::open(OpenMode mode, const Binding& binding)
{
  if (mode == OpenMode::scratch) {
    snapshot =
      detail::guarded(path, [&] { return detail::hold_snapshot(path); });
  }
  db = detail::open_connection(path, mode, binding);
  sqlite3_rollback_hook(
    db->getHandle(),
    [](void* impl) {
      static_cast<Impl*>(impl)->key_refs.clear();
      static_cast<Impl*>(impl)->tally_deltas.clear();
    },
    this);
}

void SqliteStore::Impl::commit(detail::WriteTransaction& tx)
{
  if (!tally_deltas.empty()) {
    auto st = prepare("UPDATE tallies SET n = n + ? WHERE name = ?");
    for (const auto& [name, delta] : tally_deltas) {
      detail::bind(*st, delta, name);
      st->exec();
      st->reset();
    }
    tally_deltas.clear();
  }
  tx.commit();
}

std::optional<std::int64_t> SqliteStore::Impl::key_ref(
  const std::string& key_id, bool add)
{
  if (auto it = key_refs.find(key_id); it != key_refs.end()) {
    return it->second;
  }
  const std::string bytes = detail::uuid_bytes(key_id);
  if (bytes.empty()) {
    return std::nullopt;
  }
  auto find = prepare("SELECT id FROM audit_keys WHERE key_id = ?");
  detail::bind(*find, detail::Blob{bytes});
  std::int64_t ref = 0;
  if (find->executeStep()) {
    ref = find->getColumn(0).getInt64();
  } else if (add) {
    auto insert = prepare("INSERT INTO audit_keys(key_id) VALUES (?)");
    detail::bind(*insert, detail::Blob{bytes});
    insert->exec();
    ref = db->getLastInsertRowid();
  } else {
    return std::nullopt;
  }
  key_refs.emplace(key_id, ref);
  return ref;
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

std::optional<app::Member> SqliteStore::Impl::find_member(
  const std::string& did, const std::string& key_id, bool& key_stored)
{
  auto st = prepare(fmt::format(
    "SELECT {}, k.member_id IS NOT NULL FROM members m LEFT JOIN member_keys k "
    "ON k.member_id = m.id AND k.key = ? WHERE m.did = ?",
    detail::k_member_columns));
  detail::bind(*st, key_ref(key_id, false), did);
  if (!st->executeStep()) {
    key_stored = false;
    return std::nullopt;
  }
  key_stored = st->getColumn(detail::k_member_column_count).getInt() != 0;
  return member_from(*st);
}

std::optional<app::Member> SqliteStore::find_member(const std::string& did)
{
  return guarded(m_impl->path, [&] {
    bool key_stored = false;
    return m_impl->find_member(did, "", key_stored);
  });
}

std::optional<app::Member> SqliteStore::find_member_by_key(
  const std::string& key_id, const std::string& target_hash)
{
  return guarded(m_impl->path, [&]() -> std::optional<app::Member> {
    const auto key = m_impl->key_ref(key_id, false);
    const std::string hash = detail::hash_bytes(target_hash);
    if (!key || hash.size() < 8) {
      return std::nullopt;
    }
    // A pair of a member's current DID first; else one of a DID it
    // rotated away from.
    for (const char* table : {"member_keys", "former_keys"}) {
      auto st = m_impl->prepare(fmt::format(
        "SELECT {} FROM {} k JOIN members m ON m.id = k.member_id "
        "WHERE substr(k.target_hash, 1, 8) = ? AND k.target_hash = ? AND "
        "k.key = ? AND m.did IS NOT NULL",
        detail::k_member_columns, table));
      detail::bind(*st, detail::Blob{std::string_view(hash).substr(0, 8)},
                   detail::Blob{hash}, *key);
      if (st->executeStep()) {
        return member_from(*st);
      }
    }
    return std::nullopt;
  });
}

std::int64_t SqliteStore::Impl::add_outcome(const app::Outcome& o)
{
  auto st = prepare("INSERT INTO outcomes(at, kind, job_id, attempts, key, "
                    "target_hash, detail) VALUES (?, ?, ?, ?, ?, ?, ?)");
  const std::string job_id =
    o.job_id.empty() ? "" : detail::new_job_id_bytes(o.job_id);
  detail::bind(*st, clock.now(), core::to_string(o.kind), detail::Blob{job_id},
               o.attempts, key_ref(o.key_id, true),
               detail::Blob{detail::hash_bytes(o.target_hash)}, o.detail);
  st->exec();
  const std::int64_t seq = db->getLastInsertRowid();
  // The kinds status counts (store/schema.cpp, tallies).
  if (o.kind == core::OutcomeKind::invalid_event ||
      o.kind == core::OutcomeKind::unattributable) {
    tally(fmt::format("outcomes.{}", core::to_string(o.kind)), 1);
    if (o.kind == core::OutcomeKind::unattributable &&
        nlohmann::json::parse(o.detail, nullptr, false).value("reason", "") ==
          "removal") {
      tally("outcomes.unattributable_removal", 1);
    }
  }
  return seq;
}

void SqliteStore::set_audit_failure(const std::optional<app::AuditFailure>& f)
{
  guarded(m_impl->path, [&] {
    const auto stored = detail::meta_get(*m_impl->db, "audit_failure");
    if (!f) {
      if (stored) {
        WriteTransaction tx(*m_impl->db);
        detail::meta_erase(*m_impl->db, "audit_failure");
        m_impl->commit(tx);
      }
      return;
    }
    const std::string text = failure_to_json(*f).dump();
    if (stored != text) {
      WriteTransaction tx(*m_impl->db);
      detail::meta_set(*m_impl->db, "audit_failure", text);
      m_impl->commit(tx);
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
    return app::AuditFailure{j->at("line").get<std::int64_t>(),
                             j->at("event_id").get<std::string>(),
                             j->at("reason").get<std::string>(),
                             j->at("detail").get<std::string>(), ""};
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
      throw Error(
        ExitCode::temp_fail,
        "audit skip: a pass moved the cursor meanwhile; nothing changed");
    }
    detail::meta_set(db, "cursor", detail::cursor_to_json(to).dump());
    detail::meta_erase(db, "audit_failure");
    m_impl->add_outcome(skipped);
    m_impl->commit(tx);
  });
}

} // namespace vtc::store
