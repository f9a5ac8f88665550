#pragma once

// What dispatch (app/dispatch.cpp) needs: the jobs and the registry's health
// from the state database, and the registry itself.

#include "app/clock.hpp"
#include "core/answer.hpp"
#include "core/health.hpp"
#include "core/job.hpp"
#include "core/member.hpp"
#include "core/policy.hpp"
#include "core/timestamp.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace vtc::app {

using core::MirrorState;

// A due job claimed for sending, with its member's current state: the
// request is built from that state, not from the job kind.
struct ClaimedJob
{
  std::string id;
  core::JobKind kind = core::JobKind::publish;
  std::int64_t attempts = 0; // including the one being made
  std::int64_t retries = 0;  // `queue retry` rounds
  std::string key_id;
  std::string target_hash;
  std::int64_t member_id = 0;
  std::string did;
  core::MemberState member;
  MirrorState mirror = MirrorState::absent; // before the claim made it unknown
  // What to send, decided at the claim from the state, mirror and policy
  // (core::decide_send): put or erase.
  core::Send send = core::Send::put;
  std::int64_t nonce = 0; // the creating entry's (NewJob::nonce)
};

// What was sent for a job.
struct SentRequest
{
  std::string method; // PUT or DELETE
  std::string idempotency_key;
  std::string record_id;
  std::string body; // the record JSON for a PUT, "" for a DELETE
  std::int64_t key_digest =
    0; // the key's request digest (core::idempotency_key)
};

// The registry's answer, classified (vtc-sync(1), THE REGISTRY).
struct Answer
{
  core::AnswerClass cls = core::AnswerClass::unreachable;
  int status = 0;                         // 0 when no HTTP answer came
  std::optional<std::string> retry_after; // raw header value
  std::string error;                      // "503", "connection refused"…
};

// The end of one request: what to do with its job.
struct Finished
{
  ClaimedJob job;
  SentRequest sent;
  Answer answer;
  core::NextStep step = core::NextStep::retry;
  core::TimeNs due = 0; // for retry
};

// Which due jobs a pass may claim.
enum class ClaimScope {
  all,
  removals_only,  // the walk is incomplete: deletes and departures
  deletes_only,   // the policy is unreadable: only what needs no policy
  needing_policy, // (for has_due) publishes, updates and departures
};

// What one dispatch step writes (DispatchStore::dispatch_step).
struct DispatchStep
{
  std::vector<Finished> done;     // answers to record
  std::vector<ClaimedJob> unsent; // claimed jobs to put back, never sent
  core::Health health;            // the registry's health after `done`
  std::int64_t claim = 0;         // due jobs to claim at most
  core::TimeNs now = 0;           // due at this time
  ClaimScope scope = ClaimScope::all;
  core::Publication publication;
};

// The jobs and the registry's health, as dispatch reads and writes them.
// Each method that writes runs in one BEGIN IMMEDIATE transaction. Throws
// StoreError (74).
class DispatchStore
{
public:
  virtual ~DispatchStore() = default;

  // Records the ends of requests and the registry's health, in one
  // transaction: jobs removed/rescheduled/failed, attempt rows finished,
  // mirror and outcomes updated; a succeeded delete forgets the member.
  // Every answer, and `probe` (the class of a probe's answer) when set, is
  // counted by class (StatusView::requests).
  virtual void finish(const std::vector<Finished>& done,
                      const core::Health& health,
                      std::optional<core::AnswerClass> probe) = 0;
  // One step of a dispatch in one transaction, so that many requests share
  // its writes: records `done` as finish() does; puts `unsent` back as they
  // were before they were claimed (pending, no attempt spent, no attempt
  // row, the mirror as it was); then claims up to `claim` jobs due at `now`
  // in due order: in_flight, attempt counted, attempt row started, mirror
  // set to unknown. Jobs for which core::decide_send() sends nothing
  // (publish_on_join, consent) complete as `skipped` instead, and `skipped`
  // counts them. Returns the claimed jobs.
  virtual std::vector<ClaimedJob> dispatch_step(const DispatchStep& step,
                                                std::int64_t& skipped) = 0;
  virtual core::Health health() = 0;
  // Until when the registry asked for a pause (429); nullopt: none asked.
  virtual std::optional<core::TimeNs> pause_until() = 0;
  virtual void set_pause_until(core::TimeNs until) = 0;
};

// The trust registry (vtc-sync(1), THE REGISTRY): requests run concurrently,
// identified by a caller-chosen tag.
class Registry
{
public:
  using Deadline = Clock::Instant;

  virtual ~Registry() = default;
  // Starts the request `job` calls for and returns what is sent.
  virtual SentRequest submit(std::uint64_t tag, const ClaimedJob& job) = 0;
  // Waits until at least one answer arrives or `until` passes.
  virtual std::vector<std::pair<std::uint64_t, Answer>> wait(
    Deadline until) = 0;
  // Requests submitted whose answers wait() has not returned yet.
  virtual std::size_t running() const = 0;
  // Abandons running requests (their jobs stay in_flight for recovery).
  virtual void abandon() = 0;
  // Asks the registry for one record of our authority (the breaker's and
  // incompatibility's probe); waits at most one request timeout.
  virtual Answer probe() = 0;
};

} // namespace vtc::app
