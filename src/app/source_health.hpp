#pragma once

// The health of an audit source that can be unreachable: a running VTC.
// Kept in the database across passes, written only when it changes, so an
// idle pass writes nothing.

#include "app/ports.hpp"

#include <optional>
#include <string>

namespace vtc::app {

struct SourceHealth
{
  bool degraded = false;
  core::TimeNs since = 0;        // in this state since
  core::TimeNs last_success = 0; // the last pass that read the source (0:
                                 // none since it first failed)
  std::string last_error;
};

// The stored health; nullopt when the source never failed.
std::optional<SourceHealth> source_health(Settings& store);

// The source answered at `now`: active again if it was degraded.
void record_source_success(Settings& store, core::TimeNs now);

// The source could not be read at `now`: degraded since the first such
// pass after the last success. Returns the health as stored.
SourceHealth record_source_failure(Settings& store, core::TimeNs now,
                                   const std::string& error);

} // namespace vtc::app
