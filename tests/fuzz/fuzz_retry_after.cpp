// libFuzzer harness: Retry-After values (delta-seconds or an HTTP date;
// vtc-sync(1), THE REGISTRY) and the backoff they feed (docs/design.md,
// Job states).

#include "core/answer.hpp"
#include "core/job.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace {

void check(bool ok)
{
  if (!ok) {
    std::abort();
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size)
{
  const std::string_view value(reinterpret_cast<const char*>(data), size);
  // 2026-01-01T00:00:00Z, and the extremes of the clock.
  for (const vtc::core::TimeNs now :
       {vtc::core::TimeNs{1767225600} * vtc::core::k_ns_per_second,
        vtc::core::TimeNs{0}, INT64_MAX, INT64_MIN}) {
    const auto seconds = vtc::core::parse_retry_after(value, now);
    if (!seconds) {
      continue;
    }
    check(*seconds >= 0);
    for (const std::int64_t max_backoff : {1, 3600, 86400}) {
      const auto wait = vtc::core::backoff_seconds(3, 1, max_backoff, seconds);
      check(wait >= 0 && wait <= max_backoff);
      check(wait >= std::min(*seconds, max_backoff));
    }
  }
  return 0;
}
