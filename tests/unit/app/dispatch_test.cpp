#include "fake_clock.hpp"
#include "fake_dispatch.hpp"

#include "app/dispatch.hpp"

#include <doctest/doctest.h>
#include <fmt/core.h>

#include <chrono>
#include <memory>

using namespace vtc;
using namespace std::chrono_literals;
using core::JobState;

namespace {

constexpr core::TimeNs k_s = core::k_ns_per_second;

// Hands the test's registry to dispatch, which owns what it opens.
class Lent final : public app::Registry
{
public:
  explicit Lent(app::Registry& r) : m_r(r) {}
  app::SentRequest submit(std::uint64_t tag,
                          const app::ClaimedJob& job) override
  {
    return m_r.submit(tag, job);
  }
  std::vector<std::pair<std::uint64_t, app::Answer>> wait(
    Deadline until) override
  {
    return m_r.wait(until);
  }
  std::size_t running() const override { return m_r.running(); }
  void abandon() override { m_r.abandon(); }
  app::Answer probe() override { return m_r.probe(); }

private:
  app::Registry& m_r;
};

// One dispatch set-up: jobs due now, a registry answering 200 after 20 ms.
struct Dispatch
{
  test::FakeClock clock;
  test::FakeDispatchStore store;
  test::FakeRegistry registry{clock};
  app::DispatchOptions o;
  int opened = 0;

  Dispatch()
  {
    o.concurrency = 4;
    o.breaker_failures = 5;
    o.max_attempts = 16;
    o.max_backoff_seconds = 3600;
  }

  void add_jobs(int n, core::JobKind kind = core::JobKind::publish)
  {
    for (int i = 0; i < n; ++i) {
      store.add(fmt::format("job-{:03}", store.jobs.size()), kind, clock.now());
    }
  }

  app::DispatchResult run()
  {
    return app::dispatch(
      store,
      [this] {
        ++opened;
        return std::make_unique<Lent>(registry);
      },
      clock, o);
  }

  std::size_t count(JobState state) const
  {
    return store.in_state(state).size();
  }
};

} // namespace

TEST_CASE("dispatch: sends every due job, `concurrency` at a time, and records "
          "each answer in few transactions")
{
  Dispatch d;
  d.add_jobs(40);
  const app::DispatchResult r = d.run();
  CHECK(r.code == ExitCode::ok);
  CHECK(r.sent == 40);
  CHECK(r.succeeded == 40);
  CHECK_FALSE(r.left_over);
  CHECK(d.store.jobs.empty());
  CHECK(d.registry.max_running == 4);
  CHECK(d.store.requests[core::AnswerClass::success] == 40);
  // Answers arriving together are recorded with the next claim.
  CHECK(d.store.transactions < 40);
}

TEST_CASE("dispatch: a failed request is retried after the backoff and the "
          "jitter drawn for it")
{
  Dispatch d;
  d.o.concurrency = 1;
  d.o.jitter = [](std::int64_t k) { return k; }; // the most it may draw
  d.add_jobs(1);
  d.registry.otherwise = test::answer(503);
  const core::TimeNs start = d.clock.now();
  const app::DispatchResult r = d.run();
  CHECK(r.retried == 1);
  const auto& job = d.store.jobs.at("job-000");
  CHECK(job.state == JobState::pending);
  CHECK(job.attempts == 1);
  // First attempt: 2^1 s plus a jitter of 1 s, from when the answer came.
  CHECK(job.due == start + 20'000'000 + 3 * k_s);
}

TEST_CASE("dispatch: a 429 pauses the whole registry until Retry-After")
{
  Dispatch d;
  d.o.concurrency = 1;
  d.add_jobs(10);
  app::Answer busy = test::answer(429);
  busy.retry_after = "120";
  d.registry.answers = {test::answer(200), busy};

  const app::DispatchResult first = d.run();
  CHECK(first.paused);
  CHECK(first.sent == 2);
  CHECK(first.succeeded == 1);
  CHECK(first.retried == 1);
  CHECK(first.code == ExitCode::ok);
  REQUIRE(d.store.pause);
  const auto& paused_job = d.store.jobs.at("job-001");
  CHECK(paused_job.due >= d.clock.now() + 120 * k_s - k_s);
  CHECK(*d.store.pause == paused_job.due);
  CHECK(d.count(JobState::in_flight) == 0);
  CHECK(d.count(JobState::pending) == 9);

  // A pass within the pause opens no registry and sends nothing.
  d.clock.advance(60s);
  const app::DispatchResult held = d.run();
  CHECK(held.paused);
  CHECK(held.left_over);
  CHECK(held.sent == 0);
  CHECK(d.opened == 1);

  // After it, the rest goes.
  d.clock.advance(61s);
  const app::DispatchResult after = d.run();
  CHECK_FALSE(after.paused);
  CHECK(after.sent == 9);
  CHECK(d.store.jobs.empty());
}

TEST_CASE("dispatch: failures in a row trip the breaker; a later pass probes "
          "before it sends")
{
  Dispatch d;
  d.o.concurrency = 1;
  d.add_jobs(20);
  d.registry.otherwise = test::answer(503);

  const app::DispatchResult tripped = d.run();
  CHECK(tripped.breaker_open);
  CHECK(tripped.sent == 5);
  CHECK(tripped.retried == 5);
  CHECK(d.registry.probes == 0);
  const core::Health h = d.store.stored_health;
  CHECK(h.state == core::HealthState::degraded);
  CHECK(h.breaker_trips == 1);
  REQUIRE(h.breaker_open_until);
  CHECK(*h.breaker_open_until == d.clock.now() + 30 * k_s);
  CHECK(d.count(JobState::pending) == 20); // 15 untouched, 5 backing off

  // While open: held back without opening the registry.
  d.clock.advance(29s);
  const app::DispatchResult held = d.run();
  CHECK(held.breaker_open);
  CHECK(held.left_over);
  CHECK(held.sent == 0);
  CHECK(d.opened == 1);

  SUBCASE("a failed probe reopens it for twice as long and sends nothing")
  {
    d.clock.advance(1s);
    d.registry.probe_answers = {test::answer(0)};
    const app::DispatchResult r = d.run();
    CHECK(d.registry.probes == 1);
    CHECK(r.sent == 0);
    CHECK(r.breaker_open);
    CHECK(d.store.stored_health.breaker_trips == 2);
    CHECK(*d.store.stored_health.breaker_open_until ==
          d.clock.now() + 60 * k_s);
    CHECK(d.store.requests[core::AnswerClass::unreachable] == 1);
  }
  SUBCASE("a successful probe closes it and the queue drains")
  {
    d.clock.advance(3600s); // every backoff has passed too
    d.registry.otherwise = test::answer(200);
    const app::DispatchResult r = d.run();
    CHECK(d.registry.probes == 1);
    CHECK_FALSE(r.breaker_open);
    CHECK(r.sent == 20);
    CHECK(d.store.jobs.empty());
    CHECK(d.store.stored_health.state == core::HealthState::active);
    CHECK_FALSE(d.store.stored_health.breaker_open_until);
  }
}

TEST_CASE("dispatch: an incompatible registry stops the pass with 69, spends "
          "no attempt, and is probed first next time")
{
  Dispatch d;
  d.o.concurrency = 1;
  d.add_jobs(5);
  d.registry.answers = {test::answer(405)};

  const app::DispatchResult r = d.run();
  CHECK(r.incompatible);
  CHECK(r.code == ExitCode::unavailable);
  CHECK(r.sent == 1);
  CHECK(r.unspent == 1);
  CHECK(d.count(JobState::pending) == 5);
  CHECK(d.store.jobs.at("job-000").attempts == 0);
  CHECK(d.store.stored_health.state == core::HealthState::incompatible);

  SUBCASE("still incompatible: nothing sent, 69 again")
  {
    d.registry.probe_answers = {test::answer(501)};
    const app::DispatchResult again = d.run();
    CHECK(d.registry.probes == 1);
    CHECK(again.sent == 0);
    CHECK(again.incompatible);
    CHECK(again.code == ExitCode::unavailable);
  }
  SUBCASE("compatible again: the probe clears it and the queue drains")
  {
    const app::DispatchResult again = d.run();
    CHECK(d.registry.probes == 1);
    CHECK(again.code == ExitCode::ok);
    CHECK(again.sent == 5);
    CHECK(d.store.stored_health.state == core::HealthState::active);
  }
}

TEST_CASE("dispatch: a run of identical permanent answers stops the pass "
          "before it fails the whole queue")
{
  Dispatch d;
  d.o.concurrency = 1;
  d.add_jobs(20);
  d.registry.otherwise = test::answer(422);

  const app::DispatchResult r = d.run();
  CHECK(r.rejecting);
  CHECK(r.code == ExitCode::protocol);
  CHECK(r.sent == 5);
  CHECK(r.failed == 5);
  CHECK(d.count(JobState::failed) == 5);
  CHECK(d.count(JobState::pending) == 15);
  CHECK(d.store.stored_health.last_error == "rejecting:422");
  // Not the breaker: the registry answers, it rejects these requests.
  CHECK_FALSE(r.breaker_open);
  CHECK_FALSE(d.store.stored_health.breaker_open_until);
}

TEST_CASE("dispatch: permanent answers that differ are not a run")
{
  Dispatch d;
  d.o.concurrency = 1;
  d.add_jobs(12);
  for (int i = 0; i < 12; ++i) {
    d.registry.answers.push_back(test::answer(i % 2 == 0 ? 422 : 400));
  }
  const app::DispatchResult r = d.run();
  CHECK_FALSE(r.rejecting);
  CHECK(r.sent == 12);
  CHECK(r.failed == 12);
  CHECK(r.code == ExitCode::protocol);
}

TEST_CASE("dispatch: no request starts after the deadline")
{
  Dispatch d;
  d.o.concurrency = 2;
  d.registry.latency = 1s;
  d.add_jobs(20);
  d.o.deadline = d.clock.monotonic() + 2500ms;

  const app::DispatchResult r = d.run();
  // Two at once, answered at 1 s and 2 s; none started at 3 s.
  CHECK(r.sent == 6);
  CHECK(r.succeeded == 6);
  CHECK(r.left_over);
  CHECK(d.count(JobState::pending) == 14);
  CHECK(d.count(JobState::in_flight) == 0); // claimed ahead, put back
  for (const auto& [id, job] : d.store.jobs) {
    CHECK(job.attempts == 0);
  }
}

TEST_CASE("dispatch: requests still running at the hard deadline are left in "
          "flight for the next pass's recovery")
{
  Dispatch d;
  d.o.concurrency = 2;
  d.registry.latency = 60s;
  d.add_jobs(5);
  d.o.deadline = d.clock.monotonic() + 1s;
  d.o.hard_deadline = d.clock.monotonic() + 16s;

  const app::DispatchResult r = d.run();
  CHECK(r.sent == 2);
  CHECK(r.left_over);
  CHECK(d.registry.abandoned == 2);
  CHECK(d.clock.monotonic() == test::FakeClock().monotonic() + 16s);
  CHECK(d.store.in_state(JobState::in_flight) ==
        std::vector<std::string>{"job-000", "job-001"});
  CHECK(d.count(JobState::pending) == 3);
}

TEST_CASE("dispatch: a stop signal starts nothing more and puts claimed jobs "
          "back; answers already sent are recorded")
{
  Dispatch d;
  d.o.concurrency = 4;
  d.add_jobs(30);
  bool stop = false;
  d.o.should_stop = [&] { return stop; };
  d.registry.on_submit = [&](const app::ClaimedJob&) {
    stop = d.registry.sent.size() >= 6;
  };

  const app::DispatchResult r = d.run();
  CHECK(r.left_over);
  CHECK(r.sent == static_cast<std::int64_t>(d.registry.sent.size()));
  CHECK(r.sent >= 6);
  CHECK(r.sent <= 8); // at most the slots free when the signal came
  CHECK(r.succeeded == r.sent);
  CHECK(d.count(JobState::in_flight) == 0);
  CHECK(static_cast<std::int64_t>(d.count(JobState::pending)) == 30 - r.sent);
  for (const auto& [id, job] : d.store.jobs) {
    CHECK(job.attempts == 0);
  }
}

TEST_CASE("dispatch: a 401 stops the pass with 78 and spends no attempt")
{
  Dispatch d;
  d.o.concurrency = 1;
  d.add_jobs(3);
  d.registry.answers = {test::answer(401)};
  const app::DispatchResult r = d.run();
  CHECK(r.auth_rejected);
  CHECK(r.code == ExitCode::config);
  CHECK(r.sent == 1);
  CHECK(d.count(JobState::pending) == 3);
  CHECK(d.store.jobs.at("job-000").attempts == 0);
}

TEST_CASE("dispatch: a job fails after max_attempts and the pass exits 76")
{
  Dispatch d;
  d.o.concurrency = 1;
  d.o.max_attempts = 3;
  d.o.max_backoff_seconds = 1;
  d.add_jobs(1);
  d.registry.otherwise = test::answer(503);
  for (int pass = 1; pass <= 3; ++pass) {
    CAPTURE(pass);
    const app::DispatchResult r = d.run();
    CHECK(r.sent == 1);
    CHECK(r.code == (pass < 3 ? ExitCode::ok : ExitCode::protocol));
    d.clock.advance(2s);
  }
  CHECK(d.store.jobs.at("job-000").state == JobState::failed);
}
