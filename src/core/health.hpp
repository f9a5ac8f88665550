#pragma once

#include "core/answer.hpp"
#include "core/member.hpp"
#include "core/timestamp.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace vtc::core {

enum class HealthState { active, degraded, incompatible };

// The registry's health as vtc-sync has seen it (vtc-sync(1), THE REGISTRY),
// kept across passes.
struct Health
{
  HealthState state = HealthState::active;
  TimeNs since = 0;
  std::optional<TimeNs> last_success;
  std::optional<TimeNs> last_failure;
  std::string last_error;
  std::int64_t consecutive_failures = 0; // that count for the breaker
  std::int64_t breaker_trips = 0;        // times opened since last closed
  std::optional<TimeNs> breaker_open_until;

  bool operator==(const Health&) const = default;
};

// Folds one answer into the health: a success makes it active (except
// from incompatible, which only a probe clears), any failure other than a
// permanent answer degraded, 405/501 incompatible. `error`
// describes the failure ("503", "connection refused").
Health observe(Health health, AnswerClass cls, int status,
               const std::string& error, TimeNs now);

// The breaker: open while `breaker_open_until` lies ahead.
bool breaker_open(const Health& health, TimeNs now);

// True when the next request must be a probe: the breaker's reopen time
// has come, or the registry was found incompatible.
bool probe_due(const Health& health, TimeNs now);

// Opens the breaker after `breaker_failures` failures in a row: it stays
// open min(30 s · 2^(trips−1), max_backoff) seconds.
Health trip(Health health, TimeNs now, std::int64_t max_backoff_seconds);

// Folds a probe's answer in: success closes the breaker and clears
// `incompatible`; a failure reopens the breaker for longer.
Health observe_probe(Health health, AnswerClass cls, int status,
                     const std::string& error, TimeNs now,
                     std::int64_t max_backoff_seconds);

std::string_view to_string(HealthState state);
std::optional<HealthState> health_state_from(std::string_view text);

// The Idempotency-Key of a request: "<job id>/<digest>" for the first
// round of attempts, "<job id>/r<n>/<digest>" after the n-th `queue retry`.
// `digest` (16 hex digits) is of the request itself and of the entry that
// made the job (registry/record.hpp, request_digest), so a key is never
// sent with two different requests, even for jobs that share an id, and a
// retry of the same request sends the same key.
std::string idempotency_key(std::string_view job_id, std::int64_t retries,
                            std::int64_t digest);

} // namespace vtc::core
