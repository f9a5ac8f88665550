#include "util/atomic_file.hpp"

#include "util/error.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/core.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace vtc::util {

namespace {

[[noreturn]] void fail(const std::string& path, const char* what)
{
  throw IoError(fmt::format("{}: {}: {}", path, what, std::strerror(errno)));
}

std::pair<std::string, std::string> split_path(const std::string& path)
{
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) {
    return {".", path};
  }
  return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}

} // namespace

TempFile::TempFile(const std::string& destination, unsigned mode)
  : m_destination(destination)
{
  const auto [dir, name] = split_path(destination);
  std::string templ = (dir == "/" ? "" : dir) + "/." + name + ".XXXXXX";
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  m_fd = ::mkostemp(buf.data(), O_CLOEXEC);
  if (m_fd < 0) {
    fail(destination, "cannot create a temporary file in its directory");
  }
  m_path = buf.data();
  if (::fchmod(m_fd, static_cast<mode_t>(mode)) != 0) {
    fail(m_path, "chmod");
  }
}

TempFile::~TempFile()
{
  if (m_fd >= 0) {
    ::close(m_fd);
  }
  if (!m_published) {
    ::unlink(m_path.c_str());
  }
}

void TempFile::write(std::string_view data)
{
  while (!data.empty()) {
    const ssize_t n = ::write(m_fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      fail(m_path, "write");
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

void TempFile::sync_file()
{
  if (::fsync(m_fd) != 0) {
    fail(m_path, "fsync");
  }
}

void TempFile::sync_directory()
{
  const std::string dir = split_path(m_destination).first;
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    fail(dir, "open directory");
  }
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) {
    fail(dir, "fsync directory");
  }
}

void TempFile::replace_destination()
{
  if (::rename(m_path.c_str(), m_destination.c_str()) != 0) {
    fail(m_destination, "rename");
  }
  m_published = true;
}

bool TempFile::link_destination()
{
  sync_file();
  // link(2) fails with EEXIST instead of replacing: an existing file at the
  // destination, even one created a moment ago, is never overwritten.
  if (::link(m_path.c_str(), m_destination.c_str()) != 0) {
    if (errno == EEXIST) {
      return false;
    }
    fail(m_destination, "link");
  }
  ::unlink(m_path.c_str());
  m_published = true;
  sync_directory();
  return true;
}

void write_file_atomically(const std::string& path, std::string_view content,
                           unsigned mode)
{
  TempFile tmp(path, mode);
  tmp.write(content);
  tmp.replace_destination();
}

} // namespace vtc::util
