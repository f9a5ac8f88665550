#include "app/tick.hpp"

#include "core/job.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

#include <fmt/core.h>

#include <random>

namespace vtc::app {

namespace {

std::int64_t draw_jitter(std::int64_t k)
{
  static std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_int_distribution<std::int64_t>(0, std::max<std::int64_t>(k, 0))(rng);
}

void report_failure(const AuditFailure& f)
{
  util::log::error(fmt::format(
    "audit log line {}{}: {}: {}", f.line,
    f.event_id.empty() ? "" : fmt::format(" (event {})", f.event_id), f.reason,
    f.detail));
}

} // namespace

TickResult tick(StateStore& store, const LogOpener& open_log,
                const RegistryOpener& open_registry, const Clock& clock,
                TickOptions options)
{
  TickResult result;
  const core::TimeNs started = clock.now();

  result.recovered = store.recover_in_flight(
    options.max_attempts, [&](std::int64_t attempts) {
      const int k = static_cast<int>(std::min<std::int64_t>(attempts, 62));
      return clock.now() +
             core::backoff_seconds(k, draw_jitter(k),
                                   options.max_backoff_seconds) *
               core::k_ns_per_second;
    });
  if (result.recovered > 0) {
    util::log::warn(fmt::format(
      "recovered {} job(s) a previous pass left in flight", result.recovered));
  }

  std::unique_ptr<AuditLog> log;
  try {
    log = open_log();
  } catch (const AuditError& e) {
    util::log::error(e.what());
    result.audit_unavailable = true;
    result.code = worst(result.code, e.code());
  }
  if (log) {
    result.walk = walk(*log, store, clock, options.walk);
    if (result.walk.failure) {
      report_failure(*result.walk.failure);
      result.code = worst(result.code, ExitCode::data_err);
    }
  }

  const WalkResult& w = result.walk;
  DispatchOptions& d = options.dispatch;
  d.scope = log && w.complete && !w.failure ? ClaimScope::all
                                            : ClaimScope::removals_only;
  d.max_attempts = options.max_attempts;
  d.max_backoff_seconds = options.max_backoff_seconds;
  d.jitter = draw_jitter;
  if (store.has_due(clock.now(), d.scope)) {
    std::unique_ptr<Registry> registry;
    try {
      registry = open_registry();
    } catch (const Error& e) {
      util::log::error(e.what());
      result.code = worst(result.code, e.code());
    }
    if (registry) {
      result.dispatch = dispatch(store, *registry, clock, d);
      if (!result.dispatch.first_error.empty() &&
          result.dispatch.code != ExitCode::ok) {
        util::log::error(result.dispatch.first_error);
      }
      result.code = worst(result.code, result.dispatch.code);
    }
  }

  const DispatchResult& s = result.dispatch;
  const bool idle = w.entries == 0 && result.recovered == 0 && s.sent == 0 &&
                    result.code == ExitCode::ok;
  const std::string summary = fmt::format(
    "pass: {} entries read, {} jobs created, {} superseded, {} recovered; "
    "{} sent, {} succeeded, {} retried, {} failed; {} ms",
    w.entries, w.jobs_created, w.jobs_superseded, result.recovered, s.sent,
    s.succeeded, s.retried, s.failed, (clock.now() - started) / 1'000'000);
  if (idle) {
    util::log::debug(summary);
  } else {
    util::log::info(summary);
    PassRecord pass;
    pass.started = started;
    pass.finished = clock.now();
    pass.exit_code = static_cast<int>(result.code);
    pass.entries = w.entries;
    pass.jobs_created = w.jobs_created;
    pass.jobs_superseded = w.jobs_superseded;
    pass.recovered = result.recovered;
    pass.sent = s.sent;
    pass.succeeded = s.succeeded;
    pass.failed = s.failed;
    store.record_pass(pass);
  }
  return result;
}

} // namespace vtc::app
