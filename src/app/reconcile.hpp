#pragma once

#include "app/ports.hpp"
#include "core/policy.hpp"

#include <vector>

namespace vtc::app {

// The jobs that bring the registry to the members' desired records: for
// every member without a live job whose desired record (core::decide_send)
// differs from the mirror (absent, unknown, or another body). With
// publish_on_join false, members never published stay unpublished; a
// member whose consent blocks publication gets a withdraw job when the
// registry may hold its record. Reads only.
std::vector<ReconcileJob> plan_reconcile(MirrorStore& store,
                                         const RecordBuilder& records,
                                         const core::Policy& policy,
                                         core::TimeNs now);

} // namespace vtc::app
