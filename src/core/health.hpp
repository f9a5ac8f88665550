#pragma once

#include "core/answer.hpp"
#include "core/member.hpp"
#include "core/timestamp.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace vtc::core {

enum class HealthState { active, degraded, incompatible };

// The registry's health as vtc-sync has seen it (SPEC §6), kept across
// passes.
struct Health
{
  HealthState state = HealthState::active;
  TimeNs since = 0;
  std::optional<TimeNs> last_success;
  std::optional<TimeNs> last_failure;
  std::string last_error;
  std::int64_t consecutive_failures = 0;

  bool operator==(const Health&) const = default;
};

// Folds one answer into the health: a success makes it active, any failure
// other than a permanent answer degraded, 405/501 incompatible. `error`
// describes the failure ("503", "connection refused").
Health observe(Health health, AnswerClass cls, const std::string& error,
               TimeNs now);

std::string_view to_string(HealthState state);
std::optional<HealthState> health_state_from(std::string_view text);

// The request a member's state calls for (SPEC §5.2): DELETE when purged,
// else PUT of an active or departed record.
std::string_view request_method(MemberStatus status);

// "<job id>" for the first round of attempts, "<job id>/r<n>" after the
// n-th `queue retry` (SPEC §5.4).
std::string idempotency_key(std::string_view job_id, std::int64_t retries);

} // namespace vtc::core
