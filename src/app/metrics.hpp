#pragma once

#include "app/ports.hpp"
#include "core/timestamp.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vtc::app {

struct TickResult;

// What the metrics file reports after a pass (vtc-sync(1), METRICS).
struct PassMetrics
{
  core::TimeNs run_at = 0;                  // when the pass ended
  std::optional<core::TimeNs> last_success; // the last pass that exited 0
  int exit_code = 0;
  core::TimeNs duration = 0;
  std::int64_t pending = 0;
  std::int64_t in_flight = 0;
  std::int64_t failed = 0;
  core::TimeNs oldest_due_age = 0;              // 0 when no pending job is due
  std::optional<std::uint64_t> audit_lag_bytes; // nullopt: log unreadable
  // Requests sent since the database was created, by answer class.
  std::vector<std::pair<std::string, std::int64_t>> requests;
  bool breaker_open = false;
};

// The Prometheus text exposition of `m`: HELP and TYPE before each family,
// names prefixed `vtc_sync_`, times in seconds since the epoch, one series
// per answer class (0 when none was counted).
std::string render_metrics(const PassMetrics& m);

// The last-success time a metrics file written by render_metrics() holds;
// nullopt when absent or unreadable.
std::optional<core::TimeNs> last_success_in(std::string_view text);

// Gathers the metrics after a pass from the status the store gives at
// the pass's end and the pass result.
// `previous_success` is the last-success time the previous metrics file held:
// idle passes write nothing to the database, so it may be later than the
// database's own record.
PassMetrics collect_metrics(const StatusView& status, const TickResult& result,
                            std::optional<core::TimeNs> previous_success);

} // namespace vtc::app
