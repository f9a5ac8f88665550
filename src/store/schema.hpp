#pragma once

#include <string_view>

namespace vtc::store {

// The schema version (PRAGMA user_version) this binary creates and opens.
int current_schema_version();

// The SQL that creates the schema of current_schema_version() in an empty
// database. Until the first release it is the only script, edited in place;
// from that release on every change is a new numbered migration from the
// version before it, with a test.
std::string_view schema_script();

} // namespace vtc::store
