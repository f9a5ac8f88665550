#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace vtc::core {

enum class JobState { pending, in_flight, failed };

// Outcome kinds (vtc-sync(1), outcomes list).
enum class OutcomeKind {
  succeeded,
  superseded,
  skipped,
  discarded,
  failed,
  retried,
  policy_override,
  status_changed,
  unattributable,
  invalid_event,
  entry_skipped,
};

std::string_view to_string(JobState state);
std::optional<JobState> job_state_from(std::string_view text);
std::string_view to_string(OutcomeKind kind);

// Seconds to wait after the k-th failed attempt (k ≥ 1):
// min(2^k + jitter, max_backoff) saturating, where `jitter` is a random
// integer the caller drew from [0, k]; never less than `retry_after`
// (itself capped at max_backoff).
std::int64_t backoff_seconds(int k, std::int64_t jitter,
                             std::int64_t max_backoff,
                             std::optional<std::int64_t> retry_after = {});

} // namespace vtc::core
