#pragma once

// In-memory fakes of the ports dispatch uses (app/dispatch_ports.hpp): the
// store's jobs and the registry's health without SQL, and a registry whose
// answers a test scripts, arriving on a FakeClock. Header-only.

#include "fake_clock.hpp"

#include "app/dispatch_ports.hpp"
#include "core/answer.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace vtc::test {

// A registry answer of `status` as the HTTP client would classify it (0:
// no answer, "connection refused").
inline app::Answer answer(int status, bool is_delete = false)
{
  app::Answer a;
  a.status = status;
  a.cls = core::classify(is_delete, status,
                         status == 0 ? core::Transport::unreachable
                                     : core::Transport::ok);
  a.error = status == 0 ? "connection refused" : std::to_string(status);
  return a;
}

// Jobs by id with the state machine of docs/design.md (Job states), the
// health and the 429 pause.
class FakeDispatchStore final : public app::DispatchStore
{
public:
  struct Job
  {
    core::JobKind kind = core::JobKind::publish;
    core::JobState state = core::JobState::pending;
    core::TimeNs due = 0;
    std::int64_t attempts = 0;
  };

  void add(const std::string& id, core::JobKind kind, core::TimeNs due)
  {
    jobs[id] = Job{kind, core::JobState::pending, due, 0};
  }

  std::vector<app::ClaimedJob> dispatch_step(const app::DispatchStep& step,
                                             std::int64_t& skipped) override
  {
    ++transactions;
    record(step.done, step.health);
    for (const app::ClaimedJob& job : step.unsent) {
      Job& j = jobs.at(job.id);
      j.state = core::JobState::pending;
      --j.attempts;
    }
    skipped = 0;
    return claim(step);
  }

  void finish(const std::vector<app::Finished>& done, const core::Health& h,
              std::optional<core::AnswerClass> probe) override
  {
    ++transactions;
    record(done, h);
    if (probe) {
      ++requests[*probe];
    }
  }

  core::Health health() override { return stored_health; }
  std::optional<core::TimeNs> pause_until() override { return pause; }
  void set_pause_until(core::TimeNs until) override { pause = until; }

  // Jobs in `state`, by id.
  std::vector<std::string> in_state(core::JobState state) const
  {
    std::vector<std::string> ids;
    for (const auto& [id, j] : jobs) {
      if (j.state == state) {
        ids.push_back(id);
      }
    }
    return ids;
  }

  std::map<std::string, Job> jobs;
  core::Health stored_health;
  std::optional<core::TimeNs> pause;
  std::map<core::AnswerClass, std::int64_t> requests; // answers counted
  std::int64_t transactions = 0;

private:
  void record(const std::vector<app::Finished>& done, const core::Health& h)
  {
    for (const app::Finished& f : done) {
      ++requests[f.answer.cls];
      Job& j = jobs.at(f.job.id);
      switch (f.step) {
      case core::NextStep::done:
        jobs.erase(f.job.id);
        break;
      case core::NextStep::retry:
        j.state = core::JobState::pending;
        j.due = f.due;
        break;
      case core::NextStep::fail:
        j.state = core::JobState::failed;
        break;
      case core::NextStep::unspent:
        j.state = core::JobState::pending;
        --j.attempts;
        break;
      }
    }
    stored_health = h;
  }

  static bool in_scope(core::JobKind kind, app::ClaimScope scope)
  {
    switch (scope) {
    case app::ClaimScope::all:
      return true;
    case app::ClaimScope::removals_only:
      return core::deletes_a_record(kind) || kind == core::JobKind::depart;
    case app::ClaimScope::deletes_only:
      return core::deletes_a_record(kind);
    case app::ClaimScope::needing_policy:
      return !core::deletes_a_record(kind);
    }
    return false;
  }

  std::vector<app::ClaimedJob> claim(const app::DispatchStep& step)
  {
    std::vector<std::pair<core::TimeNs, std::string>> due;
    for (const auto& [id, j] : jobs) {
      if (j.state == core::JobState::pending && j.due <= step.now &&
          in_scope(j.kind, step.scope)) {
        due.emplace_back(j.due, id);
      }
    }
    std::sort(due.begin(), due.end());
    std::vector<app::ClaimedJob> claimed;
    for (const auto& [when, id] : due) {
      if (static_cast<std::int64_t>(claimed.size()) >= step.claim) {
        break;
      }
      Job& j = jobs.at(id);
      j.state = core::JobState::in_flight;
      ++j.attempts;
      app::ClaimedJob c;
      c.id = id;
      c.kind = j.kind;
      c.attempts = j.attempts;
      c.target_hash = "hash-of-" + id;
      c.send =
        core::deletes_a_record(j.kind) ? core::Send::erase : core::Send::put;
      claimed.push_back(std::move(c));
    }
    return claimed;
  }
};

// A registry whose answers come in the order the test lists them (then
// `otherwise`), each `latency` after its request on the fake clock; wait()
// moves the clock to the next arrival or to its deadline.
class FakeRegistry final : public app::Registry
{
public:
  explicit FakeRegistry(FakeClock& clock) : m_clock(clock) {}

  app::SentRequest submit(std::uint64_t tag,
                          const app::ClaimedJob& job) override
  {
    sent.push_back(job.id);
    if (on_submit) {
      on_submit(job);
    }
    app::Answer a = otherwise;
    if (!answers.empty()) {
      a = std::move(answers.front());
      answers.pop_front();
    }
    m_pending.push_back({tag, m_clock.monotonic() + latency, std::move(a)});
    max_running = std::max(max_running, m_pending.size());
    app::SentRequest r;
    r.method = job.send == core::Send::erase ? "DELETE" : "PUT";
    r.record_id = "record-" + job.id;
    r.idempotency_key = job.id;
    return r;
  }

  std::vector<std::pair<std::uint64_t, app::Answer>> wait(
    Deadline until) override
  {
    std::vector<std::pair<std::uint64_t, app::Answer>> out;
    if (m_pending.empty()) {
      return out;
    }
    auto first = std::min_element(
      m_pending.begin(), m_pending.end(),
      [](const Pending& a, const Pending& b) { return a.at < b.at; });
    const Deadline at = std::min(first->at, until);
    if (at > m_clock.monotonic()) {
      m_clock.advance(at - m_clock.monotonic());
    }
    for (auto it = m_pending.begin(); it != m_pending.end();) {
      if (it->at <= m_clock.monotonic()) {
        out.emplace_back(it->tag, std::move(it->answer));
        it = m_pending.erase(it);
      } else {
        ++it;
      }
    }
    return out;
  }

  std::size_t running() const override { return m_pending.size(); }

  void abandon() override
  {
    abandoned += m_pending.size();
    m_pending.clear();
  }

  app::Answer probe() override
  {
    ++probes;
    if (!probe_answers.empty()) {
      app::Answer a = std::move(probe_answers.front());
      probe_answers.pop_front();
      return a;
    }
    return otherwise;
  }

  std::deque<app::Answer> answers;       // the next requests' answers
  app::Answer otherwise = answer(200);   // then this one
  std::deque<app::Answer> probe_answers; // the next probes' answers
  std::chrono::nanoseconds latency = std::chrono::milliseconds(20);
  std::function<void(const app::ClaimedJob&)> on_submit;

  std::vector<std::string> sent; // job ids, in order
  std::size_t max_running = 0;
  std::size_t abandoned = 0;
  int probes = 0;

private:
  struct Pending
  {
    std::uint64_t tag;
    Deadline at;
    app::Answer answer;
  };
  FakeClock& m_clock;
  std::vector<Pending> m_pending;
};

} // namespace vtc::test
