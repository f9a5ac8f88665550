#include "util/secret_file.hpp"

#include "util/error.hpp"

#include <fmt/core.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace vtc::util {

void check_secret_file(const std::string& path, const std::string& what)
{
  struct stat st = {};
  if (stat(path.c_str(), &st) != 0) {
    throw ConfigError(
      fmt::format("{} {}: {}", what, path, std::strerror(errno)));
  }
  if (!S_ISREG(st.st_mode)) {
    throw ConfigError(fmt::format("{} {}: not a regular file", what, path));
  }
  if (st.st_uid != geteuid() && st.st_uid != 0) {
    throw ConfigError(
      fmt::format("{} {}: owned by uid {}, must be owned by uid {} or root",
                  what, path, st.st_uid, geteuid()));
  }
  if ((st.st_mode & S_IRWXO) != 0) {
    throw ConfigError(
      fmt::format("{} {}: mode {:04o} gives others access; chmod o-rwx", what,
                  path, st.st_mode & 07777U));
  }
  if ((st.st_mode & S_IRWXG) != 0 && st.st_gid != getegid()) {
    throw ConfigError(fmt::format(
      "{} {}: mode {:04o} gives group {} access, which is not this process's "
      "group; chmod g-rwx",
      what, path, st.st_mode & 07777U, st.st_gid));
  }
}

std::string read_secret_file(const std::string& path, const std::string& what)
{
  check_secret_file(path, what);
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw ConfigError(
      fmt::format("{} {}: {}", what, path, std::strerror(errno)));
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

void wipe(void* data, std::size_t size)
{
  ::explicit_bzero(data, size);
}

void wipe(std::string& secret)
{
  wipe(secret.data(), secret.size());
}

} // namespace vtc::util
