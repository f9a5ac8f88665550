#include "app/dispatch.hpp"

#include "core/job.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <deque>
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

// When a job whose answer says retry is due again: after its backoff, and
// never before the registry's Retry-After.
core::TimeNs retry_due(const InFlight& f, const Answer& answer,
                       const Clock& clock, const DispatchOptions& o)
{
  std::optional<std::int64_t> retry_after;
  if (answer.retry_after) {
    retry_after = core::parse_retry_after(*answer.retry_after, clock.now());
  }
  const int k = static_cast<int>(std::min<std::int64_t>(f.job.attempts, 62));
  const std::int64_t jitter = o.jitter ? o.jitter(k) : 0;
  return clock.now() +
         core::backoff_seconds(k, jitter, o.max_backoff_seconds, retry_after) *
           core::k_ns_per_second;
}

// Counts one answer in the pass's result.
void count(const InFlight& f, const Answer& answer, core::NextStep step,
           DispatchResult& result)
{
  switch (step) {
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
    result.first_error = fmt::format("{} {} for job {}: {}", f.sent.method,
                                     f.sent.record_id, f.job.id, answer.error);
  }
}

void log_answer(const InFlight& f, const Answer& answer, core::NextStep step)
{
  util::log::Fields fields{{"job_id", f.job.id},
                           {"member", member_tag(f.job)},
                           {"kind", std::string(core::to_string(f.job.kind))},
                           {"attempt", std::to_string(f.job.attempts)},
                           {"http_status", std::to_string(answer.status)}};
  if (step == core::NextStep::done) {
    util::log::debug(fmt::format("{} succeeded", f.sent.method), fields);
  } else {
    util::log::warn(fmt::format("{} {}: {}", f.sent.method,
                                core::to_string(answer.cls), answer.error),
                    fields);
  }
}

// Decides what a job's answer means for the job and the pass.
Finished conclude(InFlight&& f, Answer answer, const Clock& clock,
                  const DispatchOptions& o, DispatchResult& result)
{
  Finished done;
  done.step = core::next_step(answer.cls, f.job.attempts, o.max_attempts);
  if (done.step == core::NextStep::retry) {
    done.due = retry_due(f, answer, clock, o);
  }
  count(f, answer, done.step, result);
  log_answer(f, answer, done.step);
  done.job = std::move(f.job);
  done.sent = std::move(f.sent);
  done.answer = std::move(answer);
  return done;
}

// Before anything is loaded to send: a 429 pause or an open breaker holds
// the pass back, so a pass that may not send never opens the registry (and
// never loads libcurl or OpenSSL to find that out). Returns true if held.
bool held_back(DispatchStore& store, const Clock& clock,
               const core::Health& health, DispatchResult& result)
{
  const core::TimeNs now = clock.now();
  if (const auto until = store.pause_until(); until && now < *until) {
    result.paused = true;
    util::log::info(fmt::format("registry asked for a pause (429): "
                                "nothing sent for {} more s",
                                (*until - now) / core::k_ns_per_second));
    return true;
  }
  if (core::breaker_open(health, now)) {
    result.breaker_open = true;
    result.incompatible = health.state == core::HealthState::incompatible;
    util::log::info(
      fmt::format("breaker open: nothing sent for {} more s",
                  (*health.breaker_open_until - now) / core::k_ns_per_second));
    return true;
  }
  return false;
}

// Probes when the breaker's time has come or the registry was incompatible.
// Returns false when nothing may be sent this pass.
bool probe_passes(DispatchStore& store, Registry& registry, const Clock& clock,
                  const DispatchOptions& o, core::Health& health,
                  DispatchResult& result)
{
  const core::TimeNs now = clock.now();
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

// Answers are recorded in batches and jobs claimed ahead, so that one write
// transaction serves many requests: each rewrites the same few pages (job
// rows and their indexes, outcomes, counters, health) however many jobs it
// holds. A crash loses nothing: a job whose answer is not recorded yet, or
// claimed and not sent yet, is still in_flight, and the next pass recovers
// it and sends it again with the same Idempotency-Key.
constexpr auto k_record_within = std::chrono::milliseconds(10);

class Dispatcher
{
public:
  Dispatcher(DispatchStore& store, Registry& registry, const Clock& clock,
             const DispatchOptions& o, core::Health health,
             DispatchResult& result)
    : m_store(store),
      m_registry(registry),
      m_clock(clock),
      m_o(o),
      m_result(result),
      m_health(std::move(health)),
      m_ahead(o.concurrency / 2),
      m_batch(std::max<std::int64_t>(1, m_ahead))
  {
  }

  void run()
  {
    try {
      loop();
    } catch (const StoreError&) {
      throw;
    } catch (...) {
      commit_rest(); // what was answered before the error
      throw;
    }
    commit_rest();
  }

private:
  void loop();
  void stop_if_due();
  void send_ready();
  void receive(Registry::Deadline until);
  bool step_due() const;
  void step();
  void take(InFlight&& f, Answer answer);
  void commit_rest();

  std::int64_t running() const
  {
    return static_cast<std::int64_t>(m_in_flight.size());
  }

  DispatchStore& m_store;
  Registry& m_registry;
  const Clock& m_clock;
  const DispatchOptions& m_o;
  DispatchResult& m_result;
  core::Health m_health;
  // Jobs claimed beyond the free slots (none at concurrency 1, where a
  // claimed job is always the one being sent), and answers per transaction.
  const std::int64_t m_ahead;
  const std::int64_t m_batch;
  std::map<std::uint64_t, InFlight> m_in_flight;
  std::deque<ClaimedJob> m_ready;     // claimed, not sent yet
  std::vector<Finished> m_unrecorded; // answered, not recorded yet
  Clock::Instant m_record_by;
  std::uint64_t m_next_tag = 0;
  bool m_sending = true;  // requests may start
  bool m_more_due = true; // the last claim may have left due jobs
  int m_last_permanent = 0;
  std::int64_t m_permanent_run = 0;
};

void Dispatcher::loop()
{
  for (;;) {
    stop_if_due();
    send_ready();
    if (step_due()) {
      // Requests just started go on the wire before the transaction.
      receive(m_clock.monotonic());
      step();
      send_ready();
    }
    if (m_in_flight.empty()) {
      if (m_sending && m_more_due) {
        continue; // all claimed jobs were skipped: claim again
      }
      return;
    }
    if (m_clock.monotonic() >= m_o.hard_deadline) {
      // Left in flight: the next pass counts the attempt and backs off.
      m_registry.abandon();
      m_in_flight.clear();
      m_result.left_over = true;
      return;
    }
    auto until = m_o.hard_deadline;
    if (!m_unrecorded.empty()) {
      until = std::min(until, m_record_by);
    }
    receive(until);
  }
}

void Dispatcher::receive(Registry::Deadline until)
{
  for (auto& [tag, answer] : m_registry.wait(until)) {
    auto it = m_in_flight.find(tag);
    if (it == m_in_flight.end()) {
      continue;
    }
    take(std::move(it->second), std::move(answer));
    m_in_flight.erase(it);
  }
  if (m_result.auth_rejected || m_result.tls_failed || m_result.incompatible) {
    m_sending = false; // stop dispatching this pass, no attempts spent
  }
}

void Dispatcher::stop_if_due()
{
  const bool left = m_more_due || !m_ready.empty();
  if (m_sending && left &&
      (m_o.should_stop() || m_clock.monotonic() >= m_o.deadline ||
       m_result.sent >= m_o.max_jobs)) {
    m_sending = false;
    m_result.left_over = true;
  }
}

void Dispatcher::send_ready()
{
  while (m_sending && !m_ready.empty() && running() < m_o.concurrency) {
    ClaimedJob job = std::move(m_ready.front());
    m_ready.pop_front();
    const std::uint64_t tag = m_next_tag++;
    SentRequest sent = m_registry.submit(tag, job);
    m_in_flight.emplace(tag, InFlight{std::move(job), std::move(sent)});
    ++m_result.sent;
  }
}

// A transaction is due when a request could start and no claimed job is
// left, when claimed jobs must go back, or when answers have waited long
// enough or are many enough.
bool Dispatcher::step_due() const
{
  const bool need_jobs =
    m_sending && m_more_due && m_ready.empty() && running() < m_o.concurrency;
  const bool put_back = !m_sending && !m_ready.empty();
  const bool record =
    !m_unrecorded.empty() &&
    (static_cast<std::int64_t>(m_unrecorded.size()) >= m_batch ||
     m_clock.monotonic() >= m_record_by);
  return need_jobs || put_back || record;
}

void Dispatcher::step()
{
  DispatchStep s;
  s.done = std::move(m_unrecorded);
  m_unrecorded.clear();
  s.health = m_health;
  const auto ready = static_cast<std::int64_t>(m_ready.size());
  if (!m_sending) {
    s.unsent.assign(std::make_move_iterator(m_ready.begin()),
                    std::make_move_iterator(m_ready.end()));
    m_ready.clear();
  } else if (m_more_due) {
    // Enough to fill every slot and to keep some ready for the slots the
    // next answers free.
    s.claim = std::min(m_o.concurrency + m_ahead - running() - ready,
                       m_o.max_jobs - m_result.sent - ready);
    s.now = m_clock.now();
    s.scope = m_o.scope;
    s.publication = m_o.publication;
  }
  std::int64_t skipped = 0;
  auto claimed = m_store.dispatch_step(s, skipped);
  m_result.skipped += skipped;
  if (s.claim > 0 &&
      static_cast<std::int64_t>(claimed.size()) + skipped < s.claim) {
    m_more_due = false; // nothing more is due
  }
  for (auto& job : claimed) {
    m_ready.push_back(std::move(job));
  }
}

// Notes one answer: the pass's health, breaker and stops at once, the
// database with the next step.
void Dispatcher::take(InFlight&& f, Answer answer)
{
  if (m_unrecorded.empty()) {
    m_record_by = m_clock.monotonic() + k_record_within;
  }
  m_health = core::observe(m_health, answer.cls, answer.status, answer.error,
                           m_clock.now());
  if (answer.status == 429) {
    // The whole registry pauses until Retry-After (or the backoff).
    const Finished& done = m_unrecorded.emplace_back(
      conclude(std::move(f), std::move(answer), m_clock, m_o, m_result));
    const core::TimeNs until =
      std::max(done.due, m_store.pause_until().value_or(0));
    m_store.set_pause_until(until);
    m_result.paused = true;
    m_sending = false;
    return;
  }
  if (answer.cls == core::AnswerClass::permanent) {
    m_permanent_run =
      answer.status == m_last_permanent ? m_permanent_run + 1 : 1;
    m_last_permanent = answer.status;
  } else {
    m_permanent_run = 0;
  }
  if (m_permanent_run >= m_o.breaker_failures && !m_result.rejecting) {
    // A wrong path or a revoked credential must not fail the whole
    // queue: stop here, leave the rest untouched.
    m_result.rejecting = true;
    m_sending = false;
    m_health.state = core::HealthState::degraded;
    m_health.since = m_clock.now();
    m_health.last_error = fmt::format("rejecting:{}", answer.status);
  }
  if (m_health.consecutive_failures >= m_o.breaker_failures &&
      !m_result.breaker_open) {
    m_health = core::trip(m_health, m_clock.now(), m_o.max_backoff_seconds);
    m_result.breaker_open = true;
    m_sending = false;
    util::log::warn(fmt::format("{} failures in a row: breaker open for {} s",
                                m_health.consecutive_failures,
                                (*m_health.breaker_open_until - m_clock.now()) /
                                  core::k_ns_per_second));
  }
  m_unrecorded.push_back(
    conclude(std::move(f), std::move(answer), m_clock, m_o, m_result));
}

// The pass ends with its work committed: every answer recorded, every job
// claimed and not sent put back.
void Dispatcher::commit_rest()
{
  m_sending = false;
  if (!m_unrecorded.empty() || !m_ready.empty()) {
    step();
  }
}

} // namespace

DispatchResult dispatch(DispatchStore& store, const RegistryOpener& open,
                        const Clock& clock, const DispatchOptions& o)
{
  DispatchResult result;
  core::Health health = store.health();
  const auto hold = [&] {
    result.left_over = true;
    if (result.incompatible) {
      result.code = ExitCode::unavailable;
    }
    return result;
  };
  if (held_back(store, clock, health, result)) {
    return hold();
  }
  const std::unique_ptr<Registry> registry = open();
  if (!registry) {
    return result; // the opener said why
  }
  if (!probe_passes(store, *registry, clock, o, health, result)) {
    return hold();
  }
  Dispatcher(store, *registry, clock, o, std::move(health), result).run();

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
