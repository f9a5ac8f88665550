#pragma once

// Opens a state database read-only for tests that read it with SQL, with
// tests/support/state_views.sql applied: ids and hashes read as text.
// Needs VTC_STATE_VIEWS (the path of that file) and linking store.

#include "store/codec.hpp"
#include "util/encoding.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>

#include <fstream>
#include <iterator>
#include <memory>
#include <string>

namespace vtc::test {

namespace state_text_detail {

inline std::string_view bytes(sqlite3_value* v)
{
  return {static_cast<const char*>(sqlite3_value_blob(v)),
          static_cast<std::size_t>(sqlite3_value_bytes(v))};
}

inline void text_result(sqlite3_context* ctx, const std::string& s)
{
  sqlite3_result_text(ctx, s.c_str(), static_cast<int>(s.size()),
                      SQLITE_TRANSIENT);
}

inline void job_id_text(sqlite3_context* ctx, int, sqlite3_value** argv)
{
  text_result(ctx, store::detail::job_id_text(bytes(argv[0])));
}

inline void uuid_text(sqlite3_context* ctx, int, sqlite3_value** argv)
{
  const auto b = bytes(argv[0]);
  std::string out;
  if (b.size() == 16) {
    out = util::format_uuid(std::span<const std::uint8_t, 16>(
      reinterpret_cast<const std::uint8_t*>(b.data()), 16));
  }
  text_result(ctx, out);
}

inline void hash_text(sqlite3_context* ctx, int, sqlite3_value** argv)
{
  const auto b = bytes(argv[0]);
  text_result(ctx,
              util::base64url_encode(
                {reinterpret_cast<const std::uint8_t*>(b.data()), b.size()}));
}

} // namespace state_text_detail

inline std::unique_ptr<SQLite::Database> open_state_text(
  const std::string& path)
{
  auto db = std::make_unique<SQLite::Database>(path, SQLite::OPEN_READONLY);
  namespace d = state_text_detail;
  for (const auto& [name, fn] : {std::pair{"job_id_text", &d::job_id_text},
                                 std::pair{"uuid_text", &d::uuid_text},
                                 std::pair{"hash_text", &d::hash_text}}) {
    sqlite3_create_function_v2(db->getHandle(), name, 1, SQLITE_UTF8, nullptr,
                               fn, nullptr, nullptr, nullptr);
  }
  std::ifstream in(VTC_STATE_VIEWS);
  db->exec(std::string(std::istreambuf_iterator<char>(in), {}));
  return db;
}

} // namespace vtc::test
