#pragma once

// Internal to store/: how ids and hashes are spelled in the database.
// Schema 2 keeps them as bytes (a UUID in 16, a hash in 32), half the size
// of their text, and the rest of vtc-sync sees only the text.

#include <SQLiteCpp/SQLiteCpp.h>

#include <string>
#include <string_view>

namespace vtc::store::detail {

// A job id as stored: the 16 bytes of an event id's UUID, or a tag byte
// (0x01, 0x02) and the 16 bytes of the hash in "reconcile:<32 hex digits>"
// or "retire:<32 hex digits>". Empty for any other text, which names no
// job.
std::string job_id_bytes(std::string_view id);
std::string job_id_text(const SQLite::Column& c);
std::string job_id_text(std::string_view bytes);
// job_id_bytes() for a job being written: throws StoreError for an id that
// names no job (a bug, not an input).
std::string new_job_id_bytes(std::string_view id);

// An audit key id (a UUID) as its 16 bytes; empty for "" or a non-UUID.
std::string uuid_bytes(std::string_view id);
std::string uuid_text(const SQLite::Column& c);

// A base64url hash as its bytes; empty for "" or a non-canonical spelling.
std::string hash_bytes(std::string_view hash);
std::string hash_text(const SQLite::Column& c);

// Binds bytes as a BLOB (SQLite would bind a std::string as TEXT).
void bind_bytes(SQLite::Statement& st, int index, const std::string& bytes);

} // namespace vtc::store::detail
