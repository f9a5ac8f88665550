#include "core/job.hpp"

#include <algorithm>

namespace vtc::core {

std::string_view to_string(JobState state)
{
  switch (state) {
  case JobState::pending:
    return "pending";
  case JobState::in_flight:
    return "in_flight";
  case JobState::failed:
    return "failed";
  }
  return "pending";
}

std::optional<JobState> job_state_from(std::string_view text)
{
  for (auto s : {JobState::pending, JobState::in_flight, JobState::failed}) {
    if (to_string(s) == text) {
      return s;
    }
  }
  return std::nullopt;
}

std::string_view to_string(OutcomeKind kind)
{
  switch (kind) {
  case OutcomeKind::succeeded:
    return "succeeded";
  case OutcomeKind::superseded:
    return "superseded";
  case OutcomeKind::skipped:
    return "skipped";
  case OutcomeKind::discarded:
    return "discarded";
  case OutcomeKind::failed:
    return "failed";
  case OutcomeKind::retried:
    return "retried";
  case OutcomeKind::policy_override:
    return "policy_override";
  case OutcomeKind::status_changed:
    return "status_changed";
  case OutcomeKind::unattributable:
    return "unattributable";
  case OutcomeKind::invalid_event:
    return "invalid_event";
  case OutcomeKind::entry_skipped:
    return "entry_skipped";
  }
  return "failed";
}

std::int64_t backoff_seconds(int k, std::int64_t jitter,
                             std::int64_t max_backoff,
                             std::optional<std::int64_t> retry_after)
{
  const std::int64_t cap = std::max<std::int64_t>(max_backoff, 0);
  // 2^62 already exceeds any cap; stop doubling before overflow.
  std::int64_t delay = k >= 62 ? cap : (std::int64_t{1} << std::max(k, 0));
  delay = std::min(delay, cap);
  delay = std::min(delay + std::clamp<std::int64_t>(jitter, 0, k), cap);
  if (retry_after) {
    delay = std::max(delay, std::clamp<std::int64_t>(*retry_after, 0, cap));
  }
  return delay;
}

} // namespace vtc::core
