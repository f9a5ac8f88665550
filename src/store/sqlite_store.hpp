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
  pass,       // tick: may create the schema (the caller holds the PassLock)
  read_write, // operator commands that change rows; schema must be current
  read_only,  // everything else; never writes
  // tick --dry-run: reads the file (a snapshot of it, held open) as it is
  // and keeps every write in memory (store/overlay_vfs.hpp); created like
  // a pass would, from nothing when the file does not exist. The files
  // are never written, nor locked.
  scratch,
};

// The SQLite state database: the ports a pass uses (app::PassStore), and
// what the operator commands read and change, which cli/ calls directly.
class SqliteStore final : public app::PassStore
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

  // app::WalkStore
  std::optional<app::Cursor> cursor() override;
  std::optional<app::Member> find_member_by_key(
    const std::string& key_id, const std::string& target_hash) override;
  std::unique_ptr<app::WalkTransaction> begin_walk() override;
  void set_audit_failure(const std::optional<app::AuditFailure>& f) override;
  std::optional<app::AuditFailure> audit_failure() override;
  void skip_entry(const std::optional<app::Cursor>& from, const app::Cursor& to,
                  const app::Outcome& skipped) override;

  // app::DispatchStore
  void finish(const std::vector<app::Finished>& done,
              const core::Health& health,
              std::optional<core::AnswerClass> probe) override;
  std::vector<app::ClaimedJob> dispatch_step(const app::DispatchStep& step,
                                             std::int64_t& skipped) override;
  core::Health health() override;
  std::optional<core::TimeNs> pause_until() override;
  void set_pause_until(core::TimeNs until) override;

  // app::MirrorStore
  std::vector<app::MirroredMember> mirrored_members() override;
  std::optional<app::MirroredMember> mirrored_member(
    const std::string& did) override;
  void add_jobs(const std::vector<app::ReconcileJob>& jobs) override;

  // app::Settings
  std::optional<std::string> setting(const std::string& key) override;
  void set_setting(const std::string& key, const std::string& value) override;

  // app::PassStore
  std::int64_t recover_in_flight(
    std::int64_t max_attempts,
    const std::function<core::TimeNs(std::int64_t)>& due_after) override;
  bool has_due(core::TimeNs now, app::ClaimScope scope) override;
  void record_pass(const app::PassRecord& pass) override;
  bool checkpoint() override;

  // Operator commands.
  std::optional<app::Member> find_member(const std::string& did);
  // Everything `status` shows.
  app::StatusView status(core::TimeNs now);
  std::vector<app::JobRow> jobs(const app::JobQuery& query);
  // The following act on failed jobs only (docs/design.md, Job states),
  // each id in its own row update, in transactions of at most 500 rows.
  std::optional<app::JobDetail> job_detail(const std::string& id);
  // Ids of failed jobs, all or one member's (by DID).
  std::vector<std::string> failed_jobs(
    const std::optional<std::string>& member_did);
  // Retry: attempts reset, due now, retries + 1, outcome `retried`.
  std::vector<app::JobChange> retry(const std::vector<std::string>& ids);
  // Discard: job removed, outcome `discarded`.
  std::vector<app::JobChange> discard(const std::vector<std::string>& ids);
  // Outcomes with seq > `since`, in seq order.
  std::vector<app::OutcomeRow> outcomes(std::int64_t since, std::int64_t limit);
  // Removes outcomes with seq < `before`, in chunks; returns how many.
  std::int64_t prune_outcomes(std::int64_t before);

  // The schema version of the open database.
  int schema_version();

  // Internal to store/ (store_impl.hpp): named here so the store's other
  // classes, such as its WalkTransaction, can share it.
  struct Impl;

private:
  std::unique_ptr<Impl> m_impl;
};

} // namespace vtc::store
