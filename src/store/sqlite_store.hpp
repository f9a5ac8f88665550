#pragma once

#include "app/ports.hpp"

#include <functional>
#include <memory>
#include <string>

namespace vtc::store {

// What the database is bound to at creation: a mis-set --db must not apply one
// community's cursor to another's log.
struct Binding
{
  std::string vtc_did;
  std::string registry_url; // as configured
  std::string action;
  std::string resource;
  std::string record_type;
  // Returns the origin of registry_url (what the database is bound to),
  // throwing ConfigError when the URL breaks the rule of vtc-sync(1),
  // THE REGISTRY. Parsing loads the URL parser, so the store calls this only
  // for a URL text it has not verified before.
  std::function<std::string(const std::string& url)> origin_of;
};

enum class OpenMode {
  pass,      // tick: may create the schema (the caller holds the PassLock)
  read_write, // operator commands that change rows; schema must be current
  read_only, // everything else; never writes
  // tick --dry-run: reads the file (a snapshot of it, held open) as it is
  // and keeps every write in memory (store/overlay_vfs.hpp); created like
  // a pass would, from nothing when the file does not exist. The files
  // are never written, nor locked.
  scratch,
};

// The SQLite state database.
class SqliteStore final : public app::StateStore
{
public:
  // Opens `path` (":memory:" for tests). pass mode creates the schema in a
  // new or empty database; the other modes need an existing database with
  // the current schema: missing → NoInputError (66) and nothing created,
  // empty → ConfigError (78, "vtc-sync tick creates it"). A schema version
  // older or newer than the binary's, or a different binding, is a
  // ConfigError (78) naming the path (and the key); any SQLite failure a
  // StoreError (74) naming the path.
  SqliteStore(const std::string& path, OpenMode mode, const Binding& binding,
              const app::Clock& clock);
  ~SqliteStore() override;

  std::optional<app::Cursor> cursor() override;
  std::optional<app::Member> find_member(const std::string& did) override;
  std::optional<app::Member> find_member_by_key(
    const std::string& key_id, const std::string& target_hash) override;
  std::unique_ptr<app::WalkTransaction> begin_walk() override;
  void set_audit_failure(const std::optional<app::AuditFailure>& f) override;
  std::optional<app::AuditFailure> audit_failure() override;
  void skip_entry(const std::optional<app::Cursor>& from, const app::Cursor& to,
                  const app::Outcome& skipped) override;
  std::int64_t recover_in_flight(
    std::int64_t max_attempts,
    const std::function<core::TimeNs(std::int64_t)>& due_after) override;
  void record_pass(const app::PassRecord& pass) override;
  bool has_due(core::TimeNs now, app::ClaimScope scope) override;
  void finish(const std::vector<app::Finished>& done,
              const core::Health& health,
              std::optional<core::AnswerClass> probe) override;
  std::vector<app::ClaimedJob> dispatch_step(const app::DispatchStep& step,
                                             std::int64_t& skipped) override;
  core::Health health() override;
  std::optional<std::string> setting(const std::string& key) override;
  void set_setting(const std::string& key, const std::string& value) override;
  std::vector<app::MirroredMember> mirrored_members() override;
  std::optional<app::MirroredMember> mirrored_member(const std::string& did) override;
  void add_jobs(const std::vector<app::ReconcileJob>& jobs) override;
  bool checkpoint() override;
  std::optional<app::JobDetail> job_detail(const std::string& id) override;
  std::vector<std::string> failed_jobs(
    const std::optional<std::string>& member_did) override;
  std::vector<app::JobChange> retry(const std::vector<std::string>& ids) override;
  std::vector<app::JobChange> discard(const std::vector<std::string>& ids) override;
  std::vector<app::OutcomeRow> outcomes(std::int64_t since,
                                        std::int64_t limit) override;
  std::int64_t prune_outcomes(std::int64_t before) override;
  app::StatusView status(core::TimeNs now) override;
  std::vector<app::JobRow> jobs(const app::JobQuery& query) override;

  // The schema version of the open database.
  int schema_version();

  // Internal to store/ (store_impl.hpp): named here so the store's other
  // classes, such as its WalkTransaction, can share it.
  struct Impl;

private:
  std::unique_ptr<Impl> m_impl;
};

} // namespace vtc::store
