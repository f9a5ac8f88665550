#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vtc::core {

// A UTC instant in nanoseconds since the Unix epoch. Entry times keep all
// nine fraction digits an RFC 3339 text can carry.
using TimeNs = std::int64_t;

constexpr TimeNs k_ns_per_second = 1'000'000'000;

// Parses "YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z" exactly (upper-case T and Z, no
// offset other than Z, valid calendar date, no leap second). Returns
// nullopt for anything else, and for instants a TimeNs cannot hold (before
// 1677-09-21T00:12:43.145224192Z or after 2262-04-11T23:47:16.854775807Z).
std::optional<TimeNs> parse_rfc3339(std::string_view text);

// Renders with the shortest of 0, 3, 6 or 9 fraction digits that is exact,
// followed by `suffix`: "+00:00" for the hash chain (docs/design.md,
// Audit hash chain), "Z" for registry records.
std::string format_rfc3339(TimeNs t, std::string_view suffix = "Z");
// The same into `out`, replacing its contents and reusing its capacity.
void format_rfc3339(TimeNs t, std::string_view suffix, std::string& out);

} // namespace vtc::core
