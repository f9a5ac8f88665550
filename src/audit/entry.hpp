#pragma once

#include "app/ports.hpp"
#include "audit/envelope.hpp"

#include <string>
#include <string_view>

namespace vtc::audit {

// Fills `entry`, the walk's view of the verified envelope `e` found at
// `line`. Every field is assigned without resetting the entry first: its
// strings keep their capacity from one entry to the next.
void fill_entry(const Envelope& e, std::int64_t line, app::Entry& entry);

// A version-1 row has no entry hash; a cursor identifies it by the
// SHA-256 of its bytes instead (base64url).
std::string legacy_fingerprint(std::string_view bytes);

} // namespace vtc::audit
