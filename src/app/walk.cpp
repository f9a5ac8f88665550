#include "app/walk.hpp"

#include "app/read_ahead.hpp"

#include "core/member.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <map>
#include <unordered_map>

namespace vtc::app {

namespace {

// Accumulates one batch: member states touched in it are cached, so two
// events for one member inside a batch see each other.
class BatchBuilder
{
public:
  BatchBuilder(StateStore& store, const Clock& clock, const WalkOptions& o,
               const core::Policy& policy)
    : m_store(store), m_clock(clock), m_options(o), m_policy(policy)
  {
  }

  void add(const Entry& entry);
  WalkBatch& batch() { return m_batch; }
  void clear()
  {
    m_batch = WalkBatch{};
    m_members.clear();
    m_keys.clear();
  }

private:
  Member load(const std::string& did);
  std::optional<Member> find_by_key(const std::string& key_id,
                                    const std::string& hash);
  void outcome_only(const Entry& e, core::OutcomeKind kind,
                    const std::string& reason);

  StateStore& m_store;
  const Clock& m_clock;
  const WalkOptions& m_options;
  const core::Policy& m_policy;
  WalkBatch m_batch;
  std::unordered_map<std::string, Member> m_members;
  // (key id, target hash) → DID for members seen in this batch.
  std::map<std::pair<std::string, std::string>, std::string> m_keys;
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
  return std::nullopt;
}

std::string reason_detail(const std::string& reason)
{
  return nlohmann::json{{"reason", reason}}.dump();
}

} // namespace

Member BatchBuilder::load(const std::string& did)
{
  if (auto it = m_members.find(did); it != m_members.end()) {
    return it->second;
  }
  if (auto m = m_store.find_member(did)) {
    return *m;
  }
  return Member{0, did, {}};
}

void BatchBuilder::outcome_only(const Entry& e, core::OutcomeKind kind,
                                const std::string& reason)
{
  WalkBatch::Change change; // no member: only the outcome, in log order
  change.outcomes.push_back(
    {kind, e.event_id, 0, e.key_id, e.target_hash, reason_detail(reason)});
  m_batch.changes.push_back(std::move(change));
}

void BatchBuilder::add(const Entry& e)
{
  ++m_batch.entries;
  if (e.legacy) {
    ++m_batch.legacy;
    return;
  }
  const auto type = e.membership ? event_type(e.event_type) : std::nullopt;
  if (!type) {
    return;
  }
  std::string did;
  if (e.target_did) {
    did = *e.target_did;
  } else if (auto known = find_by_key(e.key_id, e.target_hash)) {
    // A redacted entry of a member we know (SPEC §4.5).
    did = known->did;
  } else {
    outcome_only(e, core::OutcomeKind::unattributable,
                 *type == core::EventType::member_removed ? "removal" : "event");
    return;
  }
  if (!core::is_valid_did(did)) {
    outcome_only(e, core::OutcomeKind::invalid_event, "invalid_did");
    return;
  }
  if (*type != core::EventType::member_removed && !e.role) {
    outcome_only(e, core::OutcomeKind::invalid_event, "missing_role");
    return;
  }

  Member member = load(did);
  core::MembershipEvent event{*type, e.time, e.role.value_or("")};
  core::DispositionDecision decision;
  WalkBatch::Change change;
  if (*type == core::EventType::member_removed) {
    decision = core::effective_disposition(m_policy, e.disposition,
                                           e.self_request);
    if (!decision.override_reason.empty()) {
      change.outcomes.push_back(
        {core::OutcomeKind::policy_override, e.event_id, 0, e.key_id,
         e.target_hash,
         nlohmann::json{
           {"reason", decision.override_reason},
           {"requested", e.disposition.value_or("")},
           {"would_be", std::string(core::to_string(decision.would_be))},
           {"effective", std::string(core::to_string(decision.effective))}}
           .dump()});
    }
  }
  const core::Transition t =
    core::apply_event(member.state, event, decision.effective);
  member.state = t.after;
  change.member = member;
  change.key_id = e.key_id;
  change.target_hash = e.target_hash;
  if (t.job) {
    NewJob job;
    job.id = e.event_id;
    job.kind = *t.job;
    job.rtbf = decision.rtbf;
    // Due from when it was read, so "oldest due age" measures our backlog,
    // not the age of the log. RTBF deletes wait for their window's end.
    job.due = m_clock.now();
    if (job.rtbf) {
      job.due = core::rtbf_release_time(e.time, m_options.rtbf_window_hours);
    }
    job.event_line = e.line;
    job.key_id = e.key_id;
    job.target_hash = e.target_hash;
    change.job = job;
  } else {
    change.outcomes.push_back({core::OutcomeKind::skipped, e.event_id, 0,
                               e.key_id, e.target_hash,
                               reason_detail(t.skip_reason)});
    if (member.id == 0 && t.after.status == core::MemberStatus::unknown &&
        m_members.count(did) == 0) {
      // Never a member: keep the outcome, not the DID of someone we
      // have no business remembering.
      change.member = Member{};
      change.key_id.clear();
      change.target_hash.clear();
      m_batch.changes.push_back(std::move(change));
      return;
    }
  }
  m_batch.changes.push_back(std::move(change));
  m_keys[{e.key_id, e.target_hash}] = did;
  m_members[did] = member;
}

std::optional<Member> BatchBuilder::find_by_key(const std::string& key_id,
                                                const std::string& hash)
{
  if (hash.empty()) {
    return std::nullopt;
  }
  if (auto it = m_keys.find({key_id, hash}); it != m_keys.end()) {
    return load(it->second);
  }
  return m_store.find_member_by_key(key_id, hash);
}

std::string describe(const AuditFailure& f)
{
  return fmt::format(
    "audit log {}line {}{}: {}: {}",
    f.source.empty() ? "" : f.source + " ", f.line,
    f.event_id.empty() ? "" : fmt::format(" (event {})", f.event_id), f.reason,
    f.detail);
}

WalkResult walk(AuditLog& log, StateStore& store, const Clock& clock,
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
  BatchBuilder builder(store, clock, options, *policy);
  auto flush = [&](const Cursor& position) {
    WalkBatch& batch = builder.batch();
    if (batch.entries == 0) {
      return;
    }
    batch.cursor = position;
    if (options.before_commit) {
      options.before_commit(batch);
    }
    const BatchResult r = store.commit_walk(batch);
    result.entries += batch.entries;
    result.legacy += batch.legacy;
    result.jobs_created += r.jobs_created;
    result.jobs_superseded += r.jobs_superseded;
    builder.clear();
  };

  // Chunks end at every batch boundary, so each commit's cursor is the
  // position after its last entry, as if the log were read here.
  ReadAhead reader(log, options.batch_size);
  for (;;) {
    const EntryChunk& chunk = reader.next();
    for (std::size_t i = 0; i < chunk.count; ++i) {
      builder.add(chunk.entries[i]);
    }
    result.lag_bytes = chunk.lag_bytes;
    if (chunk.end == ReadStatus::entry) {
      if (builder.batch().entries >= options.batch_size) {
        flush(chunk.position);
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
    flush(chunk.position);
    break;
  }
  store.set_audit_failure(result.failure);
  return result;
}

} // namespace vtc::app
