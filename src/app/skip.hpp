#pragma once

#include "app/ports.hpp"

#include <cstdint>
#include <string>

namespace vtc::app {

// audit skip: steps over exactly the entry the walk stopped at — line `line`
// with event id `event_id`, which must still fail — and records `entry_skipped`
// with the reason; the next entry must then link to the skipped entry's
// declared entry_hash. Throws UsageError (64) when the walk did not stop there
// (or stopped at a discontinuity, which no skip can mend), Error 65 when the
// line declares no entry_hash to link to. The caller holds the pass lock.
// Returns the failure that was skipped.
AuditFailure skip_entry(AuditLog& log, WalkStore& store, std::int64_t line,
                        const std::string& event_id);

} // namespace vtc::app
