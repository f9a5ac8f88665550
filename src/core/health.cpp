#include "core/health.hpp"

namespace vtc::core {

Health observe(Health h, AnswerClass cls, const std::string& error, TimeNs now)
{
  const HealthState before = h.state;
  if (cls == AnswerClass::success) {
    h.last_success = now;
    h.consecutive_failures = 0;
    h.state = HealthState::active;
  } else {
    h.last_failure = now;
    h.last_error = error;
    if (cls == AnswerClass::incompatible) {
      h.state = HealthState::incompatible;
    } else if (cls != AnswerClass::permanent) {
      ++h.consecutive_failures;
      if (h.state != HealthState::incompatible) {
        h.state = HealthState::degraded;
      }
    }
  }
  if (h.state != before) {
    h.since = now;
  }
  return h;
}

std::string_view to_string(HealthState state)
{
  switch (state) {
  case HealthState::active:
    return "active";
  case HealthState::degraded:
    return "degraded";
  case HealthState::incompatible:
    return "incompatible";
  }
  return "active";
}

std::optional<HealthState> health_state_from(std::string_view text)
{
  for (auto s : {HealthState::active, HealthState::degraded,
                 HealthState::incompatible}) {
    if (to_string(s) == text) {
      return s;
    }
  }
  return std::nullopt;
}

std::string_view request_method(MemberStatus status)
{
  return status == MemberStatus::purged ? "DELETE" : "PUT";
}

std::string idempotency_key(std::string_view job_id, std::int64_t retries)
{
  std::string key(job_id);
  if (retries > 0) {
    key += "/r" + std::to_string(retries);
  }
  return key;
}

} // namespace vtc::core
