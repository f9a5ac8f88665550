#include "store/backup.hpp"

#include "store/connection.hpp"
#include "util/atomic_file.hpp"

#include <sqlite3.h>
#include <sys/stat.h>

namespace vtc::store {

namespace {

UsageError target_exists(const std::string& target)
{
  return UsageError(fmt::format(
    "backup target {} exists; refusing to overwrite it (choose a new name)",
    target));
}

} // namespace

std::string backup(const std::string& db_path, const Binding& binding,
                   const std::string& target)
{
  struct stat st
  {};
  if (::lstat(target.c_str(), &st) == 0) {
    throw target_exists(target);
  }
  const auto source =
    detail::open_connection(db_path, OpenMode::read_only, binding);
  util::TempFile tmp(target, 0600);
  const std::string generation = detail::random_generation();
  detail::guarded(target, [&] {
    SQLite::Database copy(tmp.path(), SQLite::OPEN_READWRITE);
    detail::copy_pages(copy, *source, db_path);
    // A single self-contained file: no WAL beside the temporary name.
    copy.exec("PRAGMA journal_mode = DELETE");
    detail::WriteTransaction tx(copy);
    detail::meta_set(copy, "generation", generation);
    tx.commit();
  });
  if (!tmp.link_destination()) {
    throw target_exists(target);
  }
  return generation;
}

} // namespace vtc::store
