#include "audit/line_reader.hpp"

#include "util/error.hpp"

#include <fcntl.h>
#include <fmt/core.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace vtc::audit {

namespace {

constexpr std::size_t k_chunk = 1U << 20U;

[[noreturn]] void io_error(const std::string& path, const char* op)
{
  throw AuditError(
    ExitCode::io_err,
    fmt::format("audit.source {}: {}: {}", path, op, std::strerror(errno)));
}

} // namespace

LineReader::LineReader(const std::string& path, std::size_t max_line_bytes)
  : m_path(path), m_max_line_bytes(max_line_bytes)
{
  m_fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (m_fd < 0) {
    io_error(path, "cannot open");
  }
  struct stat st = {};
  if (fstat(m_fd, &st) != 0) {
    ::close(m_fd);
    io_error(path, "cannot stat");
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(m_fd);
    throw AuditError(ExitCode::io_err,
                     fmt::format("audit.source {}: not a regular file", path));
  }
  m_device = st.st_dev;
  m_inode = st.st_ino;
  m_capacity = std::max(k_chunk, max_line_bytes + 1);
  m_buf.reset(new char[m_capacity]); // NOLINT: uninitialised on purpose
}

LineReader::~LineReader()
{
  if (m_fd >= 0) {
    ::close(m_fd);
  }
}

std::uint64_t LineReader::size() const
{
  struct stat st = {};
  if (fstat(m_fd, &st) != 0) {
    io_error(m_path, "cannot stat");
  }
  return static_cast<std::uint64_t>(st.st_size);
}

void LineReader::seek(std::uint64_t offset, std::int64_t line)
{
  m_begin = m_end = 0;
  m_file_pos = offset;
  m_offset = offset;
  m_line_start = offset;
  m_line = line;
  m_eof = false;
}

bool LineReader::fill()
{
  if (m_begin > 0) {
    std::memmove(m_buf.get(), m_buf.get() + m_begin, m_end - m_begin);
    m_end -= m_begin;
    m_begin = 0;
  }
  if (m_end == m_capacity) {
    return false;
  }
  for (;;) {
    const ssize_t n = ::pread(m_fd, m_buf.get() + m_end, m_capacity - m_end,
                              static_cast<off_t>(m_file_pos));
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      io_error(m_path, "cannot read");
    }
    if (n == 0) {
      m_eof = true;
      return false;
    }
    m_end += static_cast<std::size_t>(n);
    m_file_pos += static_cast<std::uint64_t>(n);
    return true;
  }
}

LineReader::Result LineReader::next(std::string_view& out)
{
  std::size_t scanned = m_begin;
  for (;;) {
    const void* lf = std::memchr(m_buf.get() + scanned, '\n', m_end - scanned);
    if (lf != nullptr) {
      const auto stop =
        static_cast<std::size_t>(static_cast<const char*>(lf) - m_buf.get());
      out = std::string_view(m_buf.get() + m_begin, stop - m_begin);
      m_line_start = m_offset;
      m_offset += stop + 1 - m_begin;
      ++m_line;
      m_begin = stop + 1;
      if (out.size() + 1 > m_max_line_bytes) {
        return Result::too_long;
      }
      return Result::line;
    }
    if (m_end - m_begin > m_max_line_bytes) {
      ++m_line;
      return Result::too_long;
    }
    scanned = m_end;
    const std::size_t consumed = m_begin;
    if (!fill()) {
      if (m_end - m_begin > m_max_line_bytes) {
        ++m_line;
        return Result::too_long;
      }
      return m_end > m_begin ? Result::incomplete : Result::end;
    }
    scanned -= consumed;
  }
}

bool LineReader::read_range(std::uint64_t start, std::uint64_t end,
                            std::string& out)
{
  out.resize(end - start);
  std::size_t got = 0;
  while (got < out.size()) {
    const ssize_t n = ::pread(m_fd, out.data() + got, out.size() - got,
                              static_cast<off_t>(start + got));
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      io_error(m_path, "cannot read");
    }
    if (n == 0) {
      return false;
    }
    got += static_cast<std::size_t>(n);
  }
  return true;
}

} // namespace vtc::audit
