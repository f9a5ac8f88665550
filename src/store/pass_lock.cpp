#include "store/pass_lock.hpp"

#include "util/error.hpp"

#include <fcntl.h>
#include <fmt/core.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace vtc::store {

PassLock::PassLock(const std::string& db_path)
{
  const std::string path = db_path + ".lock";
  m_fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (m_fd < 0) {
    throw StoreError(
      fmt::format("lock file {}: {}", path, std::strerror(errno)));
  }
  if (::flock(m_fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(m_fd);
    m_fd = -1;
    if (err == EWOULDBLOCK) {
      throw LockBusy(fmt::format("another pass holds {}", path));
    }
    throw StoreError(fmt::format("lock file {}: {}", path, std::strerror(err)));
  }
}

PassLock::~PassLock()
{
  if (m_fd >= 0) {
    ::close(m_fd); // releases the flock
  }
}

bool PassLock::held(const std::string& db_path)
{
  const std::string path = db_path + ".lock";
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return false;
  }
  const bool busy = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);
  return busy;
}

} // namespace vtc::store
