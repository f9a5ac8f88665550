#include "app/walk.hpp"

#include "app/read_ahead.hpp"

#include "core/member.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <memory>

namespace vtc::app {

namespace {

// One batch of entries, written as they come in the batch's transaction:
// two events for one member in a batch see each other through the store.
class Batch
{
public:
  Batch(WalkStore& store, const Clock& clock, const WalkOptions& o,
        const core::Policy& policy)
    : m_store(store), m_clock(clock), m_options(o), m_policy(policy)
  {
  }

  void add(const Entry& entry);
  std::int64_t entries() const { return m_entries; }
  // Commits the batch with the cursor after its last entry and counts it
  // in `result`; then the next add() starts another.
  void commit(const Cursor& cursor, WalkResult& result);

private:
  Member load(const std::string& did, const std::string& key_id,
              bool& key_stored);
  void outcome_only(const Entry& e, core::OutcomeKind kind,
                    const std::string& reason);
  void write(const WalkChange& change);
  // A verified membership event of a member named by `did`.
  void add_event(const Entry& e, core::EventType type, const std::string& did);
  void add_rotation(const Entry& e);
  NewJob new_job(const Entry& e, core::JobKind kind) const;

  WalkStore& m_store;
  const Clock& m_clock;
  const WalkOptions& m_options;
  const core::Policy& m_policy;
  std::unique_ptr<WalkTransaction> m_tx; // open from the first entry
  BatchResult m_counts;
  std::int64_t m_entries = 0;
  std::int64_t m_legacy = 0;
};

std::optional<core::EventType> event_type(const std::string& type)
{
  if (type == "MemberAdded") {
    return core::EventType::member_added;
  }
  if (type == "RoleChanged") {
    return core::EventType::role_changed;
  }
  if (type == "MemberRemoved") {
    return core::EventType::member_removed;
  }
  if (type == "MemberUpdated") {
    return core::EventType::consent_changed;
  }
  if (type == "DidRotated") {
    return core::EventType::did_rotated;
  }
  return std::nullopt;
}

std::string reason_detail(const std::string& reason)
{
  return nlohmann::json{{"reason", reason}}.dump();
}

std::string override_detail(const std::string& reason,
                            const std::string& requested,
                            std::string_view would_be,
                            std::string_view effective)
{
  return nlohmann::json{{"reason", reason},
                        {"requested", requested},
                        {"would_be", std::string(would_be)},
                        {"effective", std::string(effective)}}
    .dump();
}

} // namespace

Member Batch::load(const std::string& did, const std::string& key_id,
                   bool& key_stored)
{
  if (auto m = m_tx->find_member(did, key_id, key_stored)) {
    return *m;
  }
  return Member{0, did, {}};
}

void Batch::write(const WalkChange& change)
{
  if (m_options.before_apply) {
    m_options.before_apply(change);
  }
  m_tx->apply(change, m_counts);
  if (m_options.after_apply) {
    m_options.after_apply(change);
  }
}

void Batch::outcome_only(const Entry& e, core::OutcomeKind kind,
                         const std::string& reason)
{
  WalkChange change; // no member: only the outcome, in log order
  change.outcomes.push_back(
    {kind, e.event_id, 0, e.key_id, e.target_hash, reason_detail(reason)});
  write(change);
}

void Batch::commit(const Cursor& cursor, WalkResult& result)
{
  if (m_entries == 0) {
    return;
  }
  m_tx->commit(cursor);
  m_tx.reset();
  result.entries += m_entries;
  result.legacy += m_legacy;
  result.jobs_created += m_counts.jobs_created;
  result.jobs_superseded += m_counts.jobs_superseded;
  result.dids_forgotten += m_counts.dids_forgotten;
  m_counts = BatchResult{};
  m_entries = 0;
  m_legacy = 0;
}

NewJob Batch::new_job(const Entry& e, core::JobKind kind) const
{
  NewJob job;
  job.id = e.event_id;
  job.kind = kind;
  // Due from when it was read, so "oldest due age" measures our backlog,
  // not the age of the log (a job replacing one already due keeps that
  // one's due: see NewJob).
  job.due = m_clock.now();
  job.event_line = e.line;
  job.key_id = e.key_id;
  job.target_hash = e.target_hash;
  job.nonce = e.nonce;
  return job;
}

void Batch::add(const Entry& e)
{
  if (!m_tx) {
    m_tx = m_store.begin_walk();
  }
  ++m_entries;
  if (e.legacy) {
    ++m_legacy;
    return;
  }
  const auto type = e.membership ? event_type(e.event_type) : std::nullopt;
  // Of a MemberUpdated only a change of publishConsent matters.
  if (!type ||
      (*type == core::EventType::consent_changed && !e.consent_changed)) {
    return;
  }
  if (*type == core::EventType::did_rotated) {
    add_rotation(e);
    return;
  }
  std::string did;
  if (e.target_did) {
    did = *e.target_did;
  } else if (auto known = m_store.find_member_by_key(e.key_id, e.target_hash)) {
    // A redacted entry of a member we know (vtc-sync(1), THE AUDIT LOG).
    did = known->did;
  } else {
    outcome_only(e, core::OutcomeKind::unattributable,
                 *type == core::EventType::member_removed ? "removal"
                                                          : "event");
    return;
  }
  if (!core::is_valid_did(did)) {
    outcome_only(e, core::OutcomeKind::invalid_event, "invalid_did");
    return;
  }
  if ((*type == core::EventType::member_added ||
       *type == core::EventType::role_changed) &&
      !e.role) {
    outcome_only(e, core::OutcomeKind::invalid_event, "missing_role");
    return;
  }
  add_event(e, *type, did);
}

void Batch::add_event(const Entry& e, core::EventType type,
                      const std::string& did)
{
  WalkChange change;
  Member member = load(did, e.key_id, change.key_stored);
  core::MembershipEvent event{type, e.time, e.role.value_or(""), {}};
  core::DispositionDecision decision;
  if (type == core::EventType::member_removed) {
    decision =
      core::effective_disposition(m_policy, e.disposition, e.self_request);
    if (!decision.override_reason.empty()) {
      change.outcomes.push_back(
        {core::OutcomeKind::policy_override, e.event_id, 0, e.key_id,
         e.target_hash,
         override_detail(decision.override_reason, e.disposition.value_or(""),
                         core::to_string(decision.would_be),
                         core::to_string(decision.effective))});
    }
  } else if (type == core::EventType::consent_changed) {
    // A value unknown to us is taken as withdrawn: the privacy-safe reading.
    event.consent = e.consent_new.value_or(false) ? core::Consent::granted
                                                  : core::Consent::withdrawn;
  }
  const core::Transition t = core::apply_event(
    member.state, event, decision.effective, m_policy.require_consent);
  if (type == core::EventType::consent_changed && !e.consent_new &&
      t.skip_reason != "not_a_member") {
    change.outcomes.push_back(
      {core::OutcomeKind::policy_override, e.event_id, 0, e.key_id,
       e.target_hash,
       override_detail("consent_assumed_withdrawn", "unknown", "withdrawn",
                       "withdrawn")});
  }
  if (member.id != 0) {
    change.stored_status = member.state.status;
  }
  member.state = t.after;
  change.member = member;
  change.key_id = e.key_id;
  change.target_hash = e.target_hash;
  if (t.job) {
    NewJob job = new_job(e, *t.job);
    job.rtbf = decision.rtbf;
    if (job.rtbf) {
      // RTBF deletes wait for their window's end.
      job.due = core::rtbf_release_time(e.time, m_options.rtbf_window_hours);
    }
    change.job = job;
  } else {
    change.outcomes.push_back({core::OutcomeKind::skipped, e.event_id, 0,
                               e.key_id, e.target_hash,
                               reason_detail(t.skip_reason)});
    if (member.id == 0) {
      // Never a member: keep the outcome, not the DID of someone we
      // have no business remembering.
      change.member = Member{};
      change.key_id.clear();
      change.target_hash.clear();
    }
  }
  write(change);
}

// DidRotated: the target is the old DID, the actor the new one, and both
// are named in `data` too.
void Batch::add_rotation(const Entry& e)
{
  if (!e.old_did || !e.new_did) {
    outcome_only(e, core::OutcomeKind::invalid_event, "missing_did");
    return;
  }
  const std::string& old_did = *e.old_did;
  const std::string& new_did = *e.new_did;
  if (!core::is_valid_did(old_did) || !core::is_valid_did(new_did)) {
    outcome_only(e, core::OutcomeKind::invalid_event, "invalid_did");
    return;
  }
  if (old_did == new_did || (e.target_did && *e.target_did != old_did) ||
      (e.actor_did && *e.actor_did != new_did) || e.rotation_hashes_differ) {
    outcome_only(e, core::OutcomeKind::invalid_event, "did_mismatch");
    return;
  }
  bool key_stored = false;
  const auto member = m_tx->find_member(old_did, e.key_id, key_stored);
  const core::Transition t =
    core::apply_event(member ? member->state : core::MemberState{},
                      {core::EventType::did_rotated, e.time, {}, {}},
                      core::Disposition::tombstone, m_policy.require_consent);
  if (!member || !t.skip_reason.empty()) {
    outcome_only(e, core::OutcomeKind::skipped, t.skip_reason);
    return;
  }
  if (m_tx->find_member(new_did, "", key_stored)) {
    // Someone else's DID (a purged member's too, until its delete has
    // succeeded and it is forgotten): which member is meant is unclear.
    outcome_only(e, core::OutcomeKind::invalid_event, "new_did_taken");
    return;
  }
  WalkChange change;
  change.member = Member{member->id, new_did, t.after};
  change.stored_status = member->state.status;
  // The new DID's pair: the actor is the new DID.
  change.key_id = e.key_id;
  change.target_hash = e.actor_hash;
  Rotation rotation{old_did, std::nullopt};
  if (m_tx->mirror(member->id) != core::MirrorState::absent) {
    // The registry may hold the old DID's record: deleted at once.
    NewJob retire = new_job(e, core::JobKind::retire);
    retire.id = m_options.retire_job_id(old_did);
    retire.own_target = true;
    rotation.retire = retire;
  }
  change.rotation = rotation;
  if (t.job) {
    change.job = new_job(e, *t.job);
    change.job->own_target = true; // the entry's target is the old DID
  }
  write(change);
}

std::string describe(const AuditFailure& f)
{
  return fmt::format(
    "audit log {}line {}{}: {}: {}", f.source.empty() ? "" : f.source + " ",
    f.line, f.event_id.empty() ? "" : fmt::format(" (event {})", f.event_id),
    f.reason, f.detail);
}

WalkResult walk(AuditLog& log, WalkStore& store, const Clock& clock,
                const WalkOptions& options)
{
  WalkResult result;
  if (auto failure = log.seek(store.cursor())) {
    result.failure = failure;
    result.lag_bytes = log.lag_bytes();
    store.set_audit_failure(failure);
    return result;
  }
  result.lag_bytes = log.lag_bytes();
  if (result.lag_bytes == 0) {
    result.complete = true;
    store.set_audit_failure(std::nullopt);
    return result; // nothing new: the policy is not needed
  }
  const core::Policy* policy = options.policy();
  if (policy == nullptr) {
    result.policy_blocked = true;
    return result;
  }
  Batch batch(store, clock, options, *policy);
  // Chunks end at every batch boundary, so each commit's cursor is the
  // position after its last entry, as if the log were read here.
  ReadAhead reader(log, options.batch_size);
  for (;;) {
    const EntryChunk& chunk = reader.next();
    for (std::size_t i = 0; i < chunk.count; ++i) {
      batch.add(chunk.entries[i]);
    }
    result.lag_bytes = chunk.lag_bytes;
    if (chunk.end == ReadStatus::entry) {
      if (batch.entries() >= options.batch_size) {
        batch.commit(chunk.position, result);
        if (options.should_stop()) {
          result.stopped_early = true;
          break;
        }
      }
      continue;
    }
    if (chunk.end == ReadStatus::failure) {
      result.failure = chunk.failure;
    } else {
      result.complete = true;
      result.incomplete_tail = chunk.end == ReadStatus::incomplete;
    }
    batch.commit(chunk.position, result);
    break;
  }
  store.set_audit_failure(result.failure);
  return result;
}

} // namespace vtc::app
