#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace vtc::audit {

// Reads LF-terminated lines from a file sequentially, with a bounded
// buffer. A final line without LF is reported as incomplete, never as a
// line: the writer may still be adding to it.
class LineReader
{
public:
  enum class Result { line, end, incomplete, too_long };

  // Opens `path`. Throws AuditError (74) naming it.
  LineReader(const std::string& path, std::size_t max_line_bytes);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // Continues reading at byte `offset`, after line `line`.
  void seek(std::uint64_t offset, std::int64_t line);

  // The next line without its LF in `out` (valid until the next call).
  Result next(std::string_view& out);

  // Reads [start, end) directly; false when the file is shorter.
  bool read_range(std::uint64_t start, std::uint64_t end, std::string& out);

  std::int64_t line() const { return m_line; } // of the last line
  std::uint64_t line_start() const { return m_line_start; }
  std::uint64_t offset() const { return m_offset; } // after it
  std::uint64_t device() const { return m_device; }
  std::uint64_t inode() const { return m_inode; }
  // Current size of the file (re-read with fstat).
  std::uint64_t size() const;
  const std::string& path() const { return m_path; }

private:
  bool fill();

  std::string m_path;
  int m_fd = -1;
  std::size_t m_max_line_bytes;
  // Not zeroed: a pass with nothing new to read (most of them) would
  // otherwise write, and fault in, the whole megabyte for nothing.
  std::unique_ptr<char[]> m_buf;
  std::size_t m_capacity = 0;
  std::size_t m_begin = 0;      // first unconsumed byte in m_buf
  std::size_t m_end = 0;        // end of valid bytes in m_buf
  std::uint64_t m_file_pos = 0; // file offset of m_buf[m_end]
  std::int64_t m_line = 0;
  std::uint64_t m_line_start = 0;
  std::uint64_t m_offset = 0;
  std::uint64_t m_device = 0;
  std::uint64_t m_inode = 0;
  bool m_eof = false;
};

} // namespace vtc::audit
