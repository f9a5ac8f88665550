#pragma once

#include <string>
#include <string_view>

namespace vtc::util {

// A new, empty file next to a destination path (same directory, so it can
// be renamed or linked there), named ".<name>.XXXXXX" and created with
// `mode`. Removed when destroyed unless published. Throws IoError (74) when
// it cannot be created.
class TempFile
{
public:
  TempFile(const std::string& destination, unsigned mode);
  ~TempFile();
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  const std::string& path() const { return m_path; }
  // Writes all of `data` at the current offset. Throws IoError (74).
  void write(std::string_view data);
  // Moves the file to the destination, replacing any file there: readers
  // see the old or the new content, never a mix. Not synced to disk: for
  // files (such as metrics) that need not survive a power loss, only never
  // be seen half written. Throws IoError (74).
  void replace_destination();
  // Flushes the file to disk, then links it at the destination only if no
  // file is there (never a half-written file at the destination), and
  // flushes the directory. Returns false, publishing nothing, when the
  // destination exists. Throws IoError (74) on other failures.
  bool link_destination();

private:
  void sync_file();
  void sync_directory();

  std::string m_destination;
  std::string m_path;
  int m_fd = -1;
  bool m_published = false;
};

// Replaces `path` with `content` atomically (temporary file, rename), so
// a reader sees the old or the new content, never a mix; not synced to disk.
// Throws IoError (74) naming the path.
void write_file_atomically(const std::string& path, std::string_view content,
                           unsigned mode = 0644);

} // namespace vtc::util
