#include "util/error.hpp"
#include "util/secret_file.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <stdlib.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace {

// Neither the test's uid nor gid, nor root's.
constexpr uid_t k_other_uid = 12345;
constexpr gid_t k_other_gid = 12345;

// A fresh directory under /tmp, removed with everything in it.
class TempDir
{
public:
  TempDir()
  {
    std::string templ = "/tmp/vtc-secret-test.XXXXXX";
    REQUIRE(mkdtemp(templ.data()) != nullptr);
    m_path = templ;
  }
  ~TempDir()
  {
    std::error_code ignored;
    std::filesystem::remove_all(m_path, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // Writes `name` with `mode` and returns its path.
  std::string write(const std::string& name, mode_t mode) const
  {
    const auto file = m_path + "/" + name;
    std::ofstream(file) << "s3cret\n";
    REQUIRE(chmod(file.c_str(), mode) == 0);
    return file;
  }

  const std::string& path() const { return m_path; }

private:
  std::string m_path;
};

// Both entry points must refuse `path` with ConfigError (78) naming it; the
// message must not carry the secret.
void check_refused(const std::string& path, const std::string& reason)
{
  for (const bool read : { true, false }) {
    CAPTURE(read);
    try {
      if (read) {
        (void)vtc::util::read_secret_file(path, "registry.token_file");
      } else {
        vtc::util::check_secret_file(path, "registry.token_file");
      }
      FAIL("accepted " << path);
    } catch (const vtc::ConfigError& e) {
      const std::string message = e.what();
      CHECK(e.code() == vtc::ExitCode::config);
      CHECK(message.find(path) != std::string::npos);
      CHECK(message.find("registry.token_file") != std::string::npos);
      CHECK(message.find(reason) != std::string::npos);
      CHECK(message.find("s3cret") == std::string::npos);
      CHECK(message.find('\n') == std::string::npos);
    }
  }
}

const bool k_not_root = geteuid() != 0;

} // namespace

TEST_CASE("secret_file: mode 600 owned by this user is read whole")
{
  TempDir dir;
  const auto path = dir.write("token", 0600);
  CHECK(vtc::util::read_secret_file(path, "registry.token_file") == "s3cret\n");
  CHECK_NOTHROW(vtc::util::check_secret_file(path, "registry.token_file"));
  CHECK(vtc::util::read_secret_file(dir.write("ro", 0400), "audit.key_file") ==
        "s3cret\n");
}

TEST_CASE("secret_file: any permission bit for others is refused")
{
  TempDir dir;
  check_refused(dir.write("644", 0644), "gives others access");
  check_refused(dir.write("604", 0604), "gives others access");
  check_refused(dir.write("602", 0602), "gives others access");
  check_refused(dir.write("601", 0601), "gives others access");
}

TEST_CASE("secret_file: group read only when the group is the process's")
{
  TempDir dir;
  const auto own_group = dir.write("own", 0640);
  REQUIRE(chown(own_group.c_str(), static_cast<uid_t>(-1), getegid()) == 0);
  CHECK(vtc::util::read_secret_file(own_group, "registry.token_file") ==
        "s3cret\n");
}

TEST_CASE("secret_file: group read for another group is refused" *
          doctest::skip(k_not_root))
{
  TempDir dir;
  const auto path = dir.write("other", 0640);
  REQUIRE(chown(path.c_str(), static_cast<uid_t>(-1), k_other_gid) == 0);
  check_refused(path, "gives group 12345 access");
}

TEST_CASE("secret_file: a file owned by another user is refused" *
          doctest::skip(k_not_root))
{
  TempDir dir;
  const auto path = dir.write("foreign", 0600);
  REQUIRE(chown(path.c_str(), k_other_uid, static_cast<gid_t>(-1)) == 0);
  check_refused(path, "owned by uid 12345");
}

TEST_CASE("secret_file: a missing file or a directory is refused")
{
  TempDir dir;
  check_refused(dir.path() + "/missing", "No such file or directory");
  const auto sub = dir.path() + "/sub";
  REQUIRE(mkdir(sub.c_str(), 0700) == 0);
  check_refused(sub, "not a regular file");
}
