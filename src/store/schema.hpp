#pragma once

#include <string_view>
#include <vector>

namespace vtc::store {

// Migration i (1-based) brings the schema from user_version i-1 to i. New
// versions are appended; a released migration never changes.
const std::vector<std::string_view>& migrations();

// The schema version this binary writes.
int current_schema_version();

} // namespace vtc::store
