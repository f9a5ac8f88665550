#include "core/health.hpp"

#include <algorithm>
#include <cstdio>

namespace vtc::core {

Health observe(Health h, AnswerClass cls, int status, const std::string& error,
               TimeNs now)
{
  const HealthState before = h.state;
  if (cls == AnswerClass::success) {
    h.last_success = now;
    h.consecutive_failures = 0;
    // Only a probe clears `incompatible` (observe_probe).
    if (h.state != HealthState::incompatible) {
      h.state = HealthState::active;
    }
  } else {
    h.last_failure = now;
    h.last_error = error;
    if (cls == AnswerClass::incompatible) {
      h.state = HealthState::incompatible;
    } else if (cls != AnswerClass::permanent) {
      if (counts_for_breaker(cls, status)) {
        ++h.consecutive_failures;
      }
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

bool breaker_open(const Health& h, TimeNs now)
{
  return h.breaker_open_until && now < *h.breaker_open_until;
}

bool probe_due(const Health& h, TimeNs now)
{
  return (h.breaker_open_until && now >= *h.breaker_open_until) ||
         h.state == HealthState::incompatible;
}

Health trip(Health h, TimeNs now, std::int64_t max_backoff_seconds)
{
  ++h.breaker_trips;
  std::int64_t seconds = 30;
  for (std::int64_t i = 1; i < h.breaker_trips && seconds < max_backoff_seconds;
       ++i) {
    seconds *= 2;
  }
  seconds = std::min(seconds, max_backoff_seconds);
  h.breaker_open_until = now + seconds * k_ns_per_second;
  if (h.state == HealthState::active) {
    h.state = HealthState::degraded;
    h.since = now;
  }
  return h;
}

Health observe_probe(Health h, AnswerClass cls, int status,
                     const std::string& error, TimeNs now,
                     std::int64_t max_backoff_seconds)
{
  if (cls == AnswerClass::success) {
    h = observe(h, cls, status, error, now);
    if (h.state != HealthState::active) {
      h.state = HealthState::active;
      h.since = now;
    }
    h.breaker_trips = 0;
    h.breaker_open_until.reset();
    return h;
  }
  h = observe(h, cls, status, error, now);
  return trip(h, now, max_backoff_seconds);
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

std::string idempotency_key(std::string_view job_id, std::int64_t retries,
                            std::int64_t digest)
{
  std::string key(job_id);
  if (retries > 0) {
    key += "/r" + std::to_string(retries);
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx",
                static_cast<unsigned long long>(digest));
  return key + "/" + hex;
}

} // namespace vtc::core
