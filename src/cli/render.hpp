#pragma once

#include "core/timestamp.hpp"

#include <string>
#include <vector>

namespace vtc::cli {

// "2026-01-01T00:00:00.5Z"-style time with second precision for tables.
std::string short_time(core::TimeNs t);

// A signed duration in the largest sensible unit: "3s", "4m12s", "2h5m",
// "3d4h".
std::string human_duration(core::TimeNs ns);

// The first characters of a member's target hash, as logs and tables name
// members without their DID.
std::string short_hash(const std::string& hash);

// Writes rows as left-aligned columns separated by two spaces.
std::string table(const std::vector<std::vector<std::string>>& rows);

} // namespace vtc::cli
