#pragma once

#include "app/tick.hpp"
#include "store/sqlite_store.hpp"
#include "util/exit_code.hpp"

#include <string>

namespace vtc::cli {

// Writes the Prometheus textfile (vtc-sync(1), METRICS) to `path` after a pass,
// while the pass still holds the lock (nothing when `path` is empty). Returns
// the pass's exit code, or 74 after logging an error when the file cannot be
// written.
ExitCode write_metrics_file(const std::string& path, store::SqliteStore& store,
                            const app::TickResult& result);

} // namespace vtc::cli
