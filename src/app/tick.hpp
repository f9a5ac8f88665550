#pragma once

#include "app/dispatch.hpp"
#include "app/ports.hpp"
#include "app/walk.hpp"
#include "core/policy.hpp"
#include "util/exit_code.hpp"

#include <functional>
#include <memory>

namespace vtc::app {

struct TickOptions
{
  WalkOptions walk;         // its policy getter is set by tick()
  DispatchOptions dispatch; // its scope is decided by the walk
  std::int64_t max_attempts = 16;
  std::int64_t max_backoff_seconds = 3600;
  std::int64_t degraded_after_seconds = 3600;
  // How long a VTC source may be unreachable before passes exit 69.
  std::int64_t source_degraded_after_seconds = 300;
  // The pass deadline: the walk stops at the next batch boundary, no request
  // starts after it, running ones get `timeout_seconds` more.
  std::int64_t max_seconds = 25;
  std::int64_t timeout_seconds = 15;
  // True once SIGTERM or SIGINT arrived: acts as the deadline (exit 75).
  std::function<bool()> interrupted = [] { return false; };
};

struct TickResult
{
  ExitCode code = ExitCode::ok;
  core::TimeNs started = 0;  // wall clock at the start of the pass
  core::TimeNs finished = 0; // and at its end
  // Bytes of the audit log left unread after the walk; nullopt when the
  // log could not be opened.
  std::optional<std::uint64_t> audit_lag_bytes;
  std::int64_t recovered = 0;
  WalkResult walk;
  bool audit_unavailable = false; // the source could not be read (74)
  std::string audit_error;        // and why
  // A VTC source could not be reached; since when (SourceHealth).
  std::optional<core::TimeNs> source_degraded_since;
  bool policy_failed = false;  // the policy could not be read (78)
  std::int64_t reconciled = 0; // jobs made because publish_on_join changed
  bool deadline_hit = false;   // work left for the next pass
  DispatchResult dispatch;
};

// Opens the audit log; throws AuditError (74) when it cannot be read.
using LogOpener = std::function<std::unique_ptr<AuditLog>()>;

// Reads the registry policy; throws ConfigError (78) when it cannot be read
// or is invalid. Called at most once per pass, and only when needed.
using PolicyLoader = std::function<core::Policy()>;

// Changes when the policy source changed since it was last read ("" when
// that cannot be told cheaply, as with OPA).
using PolicyStamp = std::function<std::string()>;

// What a pass needs from the outside.
struct TickPorts
{
  PassStore& store;
  const Clock& clock;
  LogOpener open_log;
  RegistryOpener open_registry;
  PolicyLoader load_policy;
  PolicyStamp policy_stamp;
  const RecordBuilder& records;
  Jitter jitter; // the backoff's random part
};

// One pass (vtc-sync(1), DESCRIPTION): recover in-flight jobs, walk the
// log, dispatch due jobs (only deletes and departures after an incomplete
// walk; only deletes when the policy cannot be read), reconcile when the
// policy's publish_on_join changed, checkpoint the WAL after deletes. The
// caller holds the pass lock. Logs one summary line (info when something
// happened, debug when idle) and one error line per failed step; returns
// the exit code.
TickResult tick(const TickPorts& ports, TickOptions options);

} // namespace vtc::app
