#include "app/dispatch.hpp"

#include "core/job.hpp"
#include "util/log.hpp"

#include <fmt/core.h>

#include <map>

namespace vtc::app {

namespace {

struct InFlight
{
  ClaimedJob job;
  SentRequest sent;
};

std::string member_tag(const ClaimedJob& job)
{
  return job.target_hash.substr(0, 10);
}

// Decides what a job's answer means for the job and the pass.
Finished conclude(InFlight&& f, Answer answer, const Clock& clock,
                  const DispatchOptions& o, DispatchResult& result)
{
  Finished done;
  done.step = core::next_step(answer.cls, f.job.attempts, o.max_attempts);
  if (done.step == core::NextStep::retry) {
    std::optional<std::int64_t> retry_after;
    if (answer.retry_after) {
      retry_after = core::parse_retry_after(*answer.retry_after, clock.now());
    }
    const int k = static_cast<int>(std::min<std::int64_t>(f.job.attempts, 62));
    const std::int64_t jitter = o.jitter ? o.jitter(k) : 0;
    done.due = clock.now() +
               core::backoff_seconds(k, jitter, o.max_backoff_seconds,
                                     retry_after) *
                 core::k_ns_per_second;
  }
  switch (done.step) {
  case core::NextStep::done:
    ++result.succeeded;
    if (f.sent.method == "DELETE") {
      ++result.deletes_done;
    }
    break;
  case core::NextStep::retry:
    ++result.retried;
    break;
  case core::NextStep::fail:
    ++result.failed;
    break;
  case core::NextStep::unspent:
    ++result.unspent;
    break;
  }
  if (answer.cls == core::AnswerClass::auth) {
    result.auth_rejected = true;
  } else if (answer.cls == core::AnswerClass::config) {
    result.tls_failed = true;
  } else if (answer.cls == core::AnswerClass::incompatible) {
    result.incompatible = true;
  }
  if (answer.cls != core::AnswerClass::success && result.first_error.empty()) {
    result.first_error =
      fmt::format("{} {} for job {}: {}", f.sent.method, f.sent.record_id,
                  f.job.id, answer.error);
  }
  util::log::Fields fields{{"job_id", f.job.id},
                           {"member", member_tag(f.job)},
                           {"kind", std::string(core::to_string(f.job.kind))},
                           {"attempt", std::to_string(f.job.attempts)},
                           {"http_status", std::to_string(answer.status)}};
  if (done.step == core::NextStep::done) {
    util::log::debug(fmt::format("{} succeeded", f.sent.method), fields);
  } else {
    util::log::warn(fmt::format("{} {}: {}", f.sent.method,
                                core::to_string(answer.cls), answer.error),
                    fields);
  }
  done.job = std::move(f.job);
  done.sent = std::move(f.sent);
  done.answer = std::move(answer);
  return done;
}

} // namespace

namespace {

constexpr const char* k_pause_until = "pause_until";

std::optional<core::TimeNs> pause_until(StateStore& store)
{
  const auto text = store.setting(k_pause_until);
  if (!text || text->empty()) {
    return std::nullopt;
  }
  return std::stoll(*text);
}

// Before any job is sent: honour a 429 pause and an open breaker, and probe
// when the breaker's time has come or the registry was incompatible.
// Returns false when nothing may be sent this pass.
bool may_send(StateStore& store, Registry& registry, const Clock& clock,
              const DispatchOptions& o, core::Health& health,
              DispatchResult& result)
{
  const core::TimeNs now = clock.now();
  if (const auto until = pause_until(store); until && now < *until) {
    result.paused = true;
    util::log::info(fmt::format("registry asked for a pause (429): "
                                "nothing sent for {} more s",
                                (*until - now) / core::k_ns_per_second));
    return false;
  }
  if (core::breaker_open(health, now)) {
    result.breaker_open = true;
    result.incompatible = health.state == core::HealthState::incompatible;
    util::log::info(fmt::format(
      "breaker open: nothing sent for {} more s",
      (*health.breaker_open_until - now) / core::k_ns_per_second));
    return false;
  }
  if (!core::probe_due(health, now)) {
    return true;
  }
  const bool was_incompatible = health.state == core::HealthState::incompatible;
  const Answer a = registry.probe();
  health = core::observe_probe(health, a.cls, a.status, a.error, clock.now(),
                               o.max_backoff_seconds);
  store.finish({}, health, a.cls);
  if (a.cls == core::AnswerClass::success) {
    util::log::info("probe succeeded: the registry is back");
    return true;
  }
  util::log::warn(fmt::format("probe failed: {}", a.error));
  result.first_error = "registry probe failed: " + a.error;
  if (was_incompatible || a.cls == core::AnswerClass::incompatible) {
    result.incompatible = true;
  } else {
    result.breaker_open = true;
  }
  return false;
}

} // namespace

DispatchResult dispatch(StateStore& store, Registry& registry,
                        const Clock& clock, const DispatchOptions& o)
{
  DispatchResult result;
  core::Health health = store.health();
  if (!may_send(store, registry, clock, o, health, result)) {
    result.left_over = true;
    if (result.incompatible) {
      result.code = ExitCode::unavailable;
    }
    return result;
  }
  int last_permanent = 0;
  std::int64_t permanent_run = 0;
  std::map<std::uint64_t, InFlight> in_flight;
  std::uint64_t next_tag = 0;
  bool claiming = true;

  for (;;) {
    const bool stop_now = o.should_stop() ||
                          std::chrono::steady_clock::now() >= o.deadline ||
                          result.sent >= o.max_jobs;
    if (claiming && stop_now) {
      claiming = false;
      result.left_over = true;
    }
    if (claiming) {
      const std::int64_t want =
        std::min<std::int64_t>(o.concurrency - static_cast<std::int64_t>(in_flight.size()),
                               o.max_jobs - result.sent);
      if (want > 0) {
        std::int64_t skipped = 0;
        auto claimed = store.claim_due(clock.now(), want, o.scope,
                                       o.publish_on_join, skipped);
        result.skipped += skipped;
        if (static_cast<std::int64_t>(claimed.size()) + skipped < want) {
          claiming = false; // nothing more is due
        }
        for (auto& job : claimed) {
          const std::uint64_t tag = next_tag++;
          SentRequest sent = registry.submit(tag, job);
          in_flight.emplace(tag, InFlight{std::move(job), std::move(sent)});
          ++result.sent;
        }
      }
    }
    if (in_flight.empty()) {
      if (claiming) {
        continue; // all claimed jobs were skipped: claim again
      }
      break;
    }
    if (std::chrono::steady_clock::now() >= o.hard_deadline) {
      // Left in flight: the next pass counts the attempt and backs off.
      registry.abandon();
      result.left_over = true;
      break;
    }
    auto answers = registry.wait(o.hard_deadline);
    if (answers.empty()) {
      continue;
    }
    std::vector<Finished> finished;
    finished.reserve(answers.size());
    for (auto& [tag, answer] : answers) {
      auto it = in_flight.find(tag);
      if (it == in_flight.end()) {
        continue;
      }
      health = core::observe(health, answer.cls, answer.status, answer.error,
                             clock.now());
      if (answer.status == 429) {
        // The whole registry pauses until Retry-After (or the backoff).
        const Finished& f = finished.emplace_back(
          conclude(std::move(it->second), std::move(answer), clock, o, result));
        const core::TimeNs until =
          std::max(f.due, pause_until(store).value_or(0));
        store.set_setting(k_pause_until, std::to_string(until));
        result.paused = true;
        claiming = false;
        in_flight.erase(it);
        continue;
      }
      if (answer.cls == core::AnswerClass::permanent) {
        permanent_run = answer.status == last_permanent ? permanent_run + 1 : 1;
        last_permanent = answer.status;
      } else {
        permanent_run = 0;
      }
      if (permanent_run >= o.breaker_failures && !result.rejecting) {
        // A wrong path or a revoked credential must not fail the whole
        // queue: stop here, leave the rest untouched.
        result.rejecting = true;
        claiming = false;
        health.state = core::HealthState::degraded;
        health.since = clock.now();
        health.last_error = fmt::format("rejecting:{}", answer.status);
      }
      if (health.consecutive_failures >= o.breaker_failures &&
          !result.breaker_open) {
        health = core::trip(health, clock.now(), o.max_backoff_seconds);
        result.breaker_open = true;
        claiming = false;
        util::log::warn(fmt::format(
          "{} failures in a row: breaker open for {} s",
          health.consecutive_failures,
          (*health.breaker_open_until - clock.now()) / core::k_ns_per_second));
      }
      finished.push_back(
        conclude(std::move(it->second), std::move(answer), clock, o, result));
      in_flight.erase(it);
    }
    store.finish(finished, health, std::nullopt);
    if (result.auth_rejected || result.tls_failed || result.incompatible) {
      claiming = false; // stop dispatching this pass, no attempts spent
    }
  }

  if (result.failed > 0 || result.rejecting) {
    result.code = worst(result.code, ExitCode::protocol);
  }
  if (result.incompatible) {
    result.code = worst(result.code, ExitCode::unavailable);
  }
  if (result.auth_rejected || result.tls_failed) {
    result.code = worst(result.code, ExitCode::config);
  }
  return result;
}

} // namespace vtc::app
