#pragma once

#include "app/dispatch.hpp"
#include "app/ports.hpp"
#include "app/walk.hpp"
#include "util/exit_code.hpp"

#include <functional>
#include <memory>

namespace vtc::app {

struct TickOptions
{
  WalkOptions walk;
  DispatchOptions dispatch; // its scope is decided by the walk
  std::int64_t max_attempts = 16;
  std::int64_t max_backoff_seconds = 3600;
};

struct TickResult
{
  ExitCode code = ExitCode::ok;
  std::int64_t recovered = 0;
  WalkResult walk;
  bool audit_unavailable = false; // the source could not be read (74)
  DispatchResult dispatch;
};

// Opens the audit log; throws AuditError (74) when it cannot be read.
using LogOpener = std::function<std::unique_ptr<AuditLog>()>;

// Opens the registry client, only when a job is due (reading the token
// file); throws ConfigError (78) when it cannot.
using RegistryOpener = std::function<std::unique_ptr<Registry>()>;

// One pass (SPEC §1): recover in-flight jobs, walk the log, dispatch due
// jobs (only deletes and departures after an incomplete walk, §5.5). The
// caller holds the pass lock. Logs one summary line (info when something happened, debug
// when idle) and one error line per failed step; returns the exit code.
TickResult tick(StateStore& store, const LogOpener& open_log,
                const RegistryOpener& open_registry, const Clock& clock,
                TickOptions options);

} // namespace vtc::app
