#pragma once

// Internal to store/: how values are spelled in the database. Ids and
// hashes are kept as bytes (a UUID in 16, a hash in 32), half the size of
// their text, and the rest of vtc-sync sees only the text.

#include <SQLiteCpp/SQLiteCpp.h>

#include <optional>
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

// Bytes to bind as a BLOB (SQLiteCpp binds a std::string as TEXT); no
// bytes bind as an empty BLOB, not NULL.
struct Blob
{
  std::string_view bytes;
};

namespace bind_one {

template<class T>
void value(SQLite::Statement& st, int index, const T& v)
{
  st.bind(index, v);
}
inline void value(SQLite::Statement& st, int index, const Blob& b)
{
  st.bind(index, b.bytes.empty() ? "" : b.bytes.data(),
          static_cast<int>(b.bytes.size()));
}
inline void value(SQLite::Statement& st, int index, std::string_view text)
{
  st.bind(index, std::string(text));
}
inline void value(SQLite::Statement& st, int index, std::nullopt_t)
{
  st.bind(index); // NULL
}
template<class T>
void value(SQLite::Statement& st, int index, const std::optional<T>& v)
{
  if (v) {
    value(st, index, *v);
  } else {
    st.bind(index); // NULL
  }
}

} // namespace bind_one

// Binds `values` to the parameters 1, 2, ... of `st`, as SQLiteCpp's
// SQLite::bind() does, and also a Blob, a std::string_view (as TEXT), a
// std::optional (NULL when empty) and std::nullopt (NULL), which
// SQLite::bind() cannot bind.
template<class... Values>
void bind(SQLite::Statement& st, const Values&... values)
{
  int index = 0;
  (bind_one::value(st, ++index, values), ...);
}

} // namespace vtc::store::detail
