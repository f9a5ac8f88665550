#include "app/tick.hpp"

#include "app/reconcile.hpp"
#include "app/source_health.hpp"
#include "core/job.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

#include <fmt/core.h>

#include <chrono>

namespace vtc::app {

namespace {

constexpr const char* k_publish_on_join = "policy.publish_on_join";
constexpr const char* k_require_consent = "policy.require_consent";
constexpr const char* k_checkpoint_due = "checkpoint_due";
constexpr const char* k_policy_stamp = "policy.stamp";

// Reads the policy once, on first need; remembers a failure.
class LazyPolicy
{
public:
  LazyPolicy(const PolicyLoader& load, TickResult& result)
    : m_load(load), m_result(result)
  {
  }

  const core::Policy* get()
  {
    if (!m_tried) {
      m_tried = true;
      try {
        m_policy = m_load();
      } catch (const Error& e) {
        util::log::error(e.what());
        m_result.policy_failed = true;
        m_result.code = worst(m_result.code, e.code());
      }
    }
    return m_policy ? &*m_policy : nullptr;
  }
  bool tried() const { return m_tried; }
  // The policy if it was read successfully, without reading it.
  const core::Policy* get_if_loaded() const
  {
    return m_policy ? &*m_policy : nullptr;
  }

private:
  const PolicyLoader& m_load;
  TickResult& m_result;
  std::optional<core::Policy> m_policy;
  bool m_tried = false;
};

// When the policy's publish_on_join or require_consent differs from the
// one the previous pass saw, members skipped (or published) under the old
// value need jobs.
std::int64_t reconcile_on_change(const TickPorts& p, const core::Policy& policy)
{
  std::string changed;
  for (const auto& [key, value] :
       {std::pair{k_publish_on_join, policy.publish_on_join},
        std::pair{k_require_consent, policy.require_consent}}) {
    const std::string now_value = value ? "true" : "false";
    const auto before = p.store.setting(key);
    const std::string was = before.value_or(now_value);
    if (was != now_value) {
      changed += fmt::format("{}{} changed to {}", changed.empty() ? "" : ", ",
                             std::string_view(key).substr(7), now_value);
    }
    p.store.set_setting(key, now_value);
  }
  if (changed.empty()) {
    return 0;
  }
  const auto jobs = plan_reconcile(p.store, p.records, policy, p.clock.now());
  p.store.add_jobs(jobs);
  util::log::info(
    fmt::format("policy {}: reconcile made {} job(s)", changed, jobs.size()));
  return static_cast<std::int64_t>(jobs.size());
}

// Opens the audit source and walks it. A source that cannot be read skips
// the walk: a VTC that cannot be reached for a while is normal weather, for
// longer than its allowance the operator's (69). Returns whether the
// source opened.
bool walk_source(const TickPorts& p, TickOptions& options, LazyPolicy& policy,
                 const std::function<bool()>& should_stop, TickResult& result)
{
  std::unique_ptr<AuditLog> log;
  try {
    log = p.open_log();
    options.walk.policy = [&] { return policy.get(); };
    options.walk.retire_job_id = [&](const std::string& did) {
      return p.records.retire_job_id(did);
    };
    options.walk.should_stop = should_stop;
    result.walk = walk(*log, p.store, p.clock, options.walk);
    result.audit_lag_bytes = result.walk.lag_bytes;
    if (result.walk.failure) {
      util::log::error(describe(*result.walk.failure));
      result.code = worst(result.code, ExitCode::data_err);
    }
    record_source_success(p.store, p.clock.now());
  } catch (const SourceUnavailable& e) {
    const core::TimeNs now = p.clock.now();
    const SourceHealth h = record_source_failure(p.store, now, e.what());
    result.audit_unavailable = true;
    result.audit_error = e.what();
    result.source_degraded_since = h.since;
    if (now - h.since >=
        options.source_degraded_after_seconds * core::k_ns_per_second) {
      util::log::error(fmt::format("{} (unreachable since {})", e.what(),
                                   core::format_rfc3339(h.since)));
      result.code = worst(result.code, ExitCode::unavailable);
    } else {
      util::log::warn(
        fmt::format("{}; the walk waits for a later pass", e.what()));
    }
  } catch (const AuditError& e) {
    util::log::error(e.what());
    result.audit_unavailable = true;
    result.audit_error = e.what();
    result.code = worst(result.code, e.code());
  }
  return log != nullptr;
}

// Puts back the jobs a dead pass left in flight, each due after its backoff.
std::int64_t recover(const TickPorts& p, const TickOptions& options)
{
  const std::int64_t recovered =
    p.store.recover_in_flight(options.max_attempts, [&](std::int64_t attempts) {
      const int k = static_cast<int>(std::min<std::int64_t>(attempts, 62));
      return p.clock.now() + core::backoff_seconds(
                               k, p.jitter(k), options.max_backoff_seconds) *
                               core::k_ns_per_second;
    });
  if (recovered > 0) {
    util::log::warn(fmt::format(
      "recovered {} job(s) a previous pass left in flight", recovered));
  }
  return recovered;
}

// Which due jobs dispatch may claim: all after a complete walk; only
// deletes and departures after an incomplete one; only deletes when the
// policy cannot be read. Reads the policy when a job that needs it is due
// or the policy file was edited (so a changed publish_on_join takes effect
// without waiting for new entries), and reconciles when its values changed.
ClaimScope policy_and_scope(const TickPorts& p, LazyPolicy& policy, bool walked,
                            DispatchOptions& d, TickResult& result)
{
  const WalkResult& w = result.walk;
  ClaimScope scope = walked && w.complete && !w.failure
                       ? ClaimScope::all
                       : ClaimScope::removals_only;
  const std::string stamp = p.policy_stamp ? p.policy_stamp() : "";
  const bool policy_edited =
    !stamp.empty() && p.store.setting(k_policy_stamp) != stamp;
  if (!policy.tried() &&
      (policy_edited ||
       p.store.has_due(p.clock.now(), scope == ClaimScope::all
                                        ? ClaimScope::needing_policy
                                        : ClaimScope::removals_only))) {
    policy.get();
  }
  if (policy_edited && policy.get_if_loaded() != nullptr) {
    p.store.set_setting(k_policy_stamp, stamp);
  }
  if (const core::Policy* current = policy.get_if_loaded()) {
    d.publication = current->publication();
    result.reconciled = reconcile_on_change(p, *current);
  } else if (result.policy_failed) {
    scope = ClaimScope::deletes_only;
  }
  if (w.stopped_early) {
    scope = ClaimScope::removals_only; // the walk did not reach the end
  }
  return scope;
}

// Dispatches the due jobs within `d.scope`, opening the registry only if
// dispatch needs it.
void dispatch_due(const TickPorts& p, const DispatchOptions& d,
                  TickResult& result)
{
  const RegistryOpener open = [&]() -> std::unique_ptr<Registry> {
    try {
      return p.open_registry();
    } catch (const Error& e) {
      util::log::error(e.what());
      result.code = worst(result.code, e.code());
      return nullptr;
    }
  };
  result.dispatch = dispatch(p.store, open, p.clock, d);
  if (!result.dispatch.first_error.empty() &&
      result.dispatch.code != ExitCode::ok) {
    util::log::error(result.dispatch.first_error);
  }
  result.code = worst(result.code, result.dispatch.code);
}

// A registry unhealthy for too long while work waits is for the operator.
void check_registry_health(const TickPorts& p, const TickOptions& options,
                           ClaimScope scope, TickResult& result)
{
  const core::Health health = p.store.health();
  const core::TimeNs now = p.clock.now();
  const bool too_long =
    health.state == core::HealthState::incompatible ||
    now - health.since > options.degraded_after_seconds * core::k_ns_per_second;
  if (health.state != core::HealthState::active && too_long &&
      result.code != ExitCode::unavailable && p.store.has_due(now, scope)) {
    util::log::error(fmt::format(
      "the registry has been {} since {}: {}", core::to_string(health.state),
      core::format_rfc3339(health.since), health.last_error));
    result.code = worst(result.code, ExitCode::unavailable);
  }
}

// Forgotten members must leave the files too: a delete that succeeded, or a
// rotation that overwrote a DID the registry never had, leaves plaintext in
// the WAL until a checkpoint truncates it; tried again next pass if a reader
// kept it busy.
void checkpoint_if_due(const TickPorts& p, const TickResult& result)
{
  const bool checkpoint_due = p.store.setting(k_checkpoint_due) == "1";
  if (result.dispatch.deletes_done > 0 || result.walk.dids_forgotten > 0 ||
      checkpoint_due) {
    const bool done = p.store.checkpoint();
    if (done == checkpoint_due) {
      p.store.set_setting(k_checkpoint_due, done ? "0" : "1");
    }
  }
}

// Logs the pass's summary line and records the pass, unless it was idle.
void record(const TickPorts& p, TickResult& result)
{
  const WalkResult& w = result.walk;
  const DispatchResult& s = result.dispatch;
  const bool idle = w.entries == 0 && result.recovered == 0 && s.sent == 0 &&
                    s.skipped == 0 && result.reconciled == 0 &&
                    result.code == ExitCode::ok;
  const std::string summary = fmt::format(
    "pass: {} entries read, {} jobs created, {} superseded, {} recovered; "
    "{} sent, {} succeeded, {} retried, {} failed, {} skipped; {} ms",
    w.entries, w.jobs_created, w.jobs_superseded, result.recovered, s.sent,
    s.succeeded, s.retried, s.failed, s.skipped,
    (p.clock.now() - result.started) / 1'000'000);
  result.finished = p.clock.now();
  if (idle) {
    util::log::debug(summary);
    return;
  }
  util::log::info(summary);
  PassRecord pass;
  pass.started = result.started;
  pass.finished = result.finished;
  pass.exit_code = static_cast<int>(result.code);
  pass.entries = w.entries;
  pass.jobs_created = w.jobs_created;
  pass.jobs_superseded = w.jobs_superseded;
  pass.recovered = result.recovered;
  pass.sent = s.sent;
  pass.succeeded = s.succeeded;
  pass.failed = s.failed;
  p.store.record_pass(pass);
}

} // namespace

TickResult tick(const TickPorts& p, TickOptions options)
{
  TickResult result;
  result.started = p.clock.now();
  LazyPolicy policy(p.load_policy, result);
  const auto deadline =
    p.clock.monotonic() + std::chrono::seconds(std::min<std::int64_t>(
                            options.max_seconds, 100'000'000));
  const auto should_stop = [&] {
    return options.interrupted() || p.clock.monotonic() >= deadline;
  };

  result.recovered = recover(p, options);
  const bool walked = walk_source(p, options, policy, should_stop, result);

  DispatchOptions& d = options.dispatch;
  d.scope = policy_and_scope(p, policy, walked, d, result);
  d.deadline = deadline;
  d.hard_deadline = deadline + std::chrono::seconds(options.timeout_seconds);
  d.should_stop = options.interrupted;
  d.max_attempts = options.max_attempts;
  d.max_backoff_seconds = options.max_backoff_seconds;
  d.jitter = p.jitter;
  if (!should_stop() && p.store.has_due(p.clock.now(), d.scope)) {
    dispatch_due(p, d, result);
  }
  check_registry_health(p, options, d.scope, result);

  result.deadline_hit = result.walk.stopped_early || result.dispatch.left_over;
  if (options.interrupted()) {
    util::log::warn("interrupted: the pass ended early, its work committed");
    result.code = worst(result.code, ExitCode::temp_fail);
  } else if (result.walk.stopped_early) {
    util::log::info("pass deadline reached: the walk goes on next pass");
  }
  checkpoint_if_due(p, result);
  record(p, result);
  return result;
}

} // namespace vtc::app
