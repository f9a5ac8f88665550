#include "temp_dir.hpp"
#include "util/error.hpp"
#include "util/secret_file.hpp"

#include <doctest/doctest.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace {

// Neither the test's uid nor gid, nor root's.
constexpr uid_t k_other_uid = 12345;
constexpr gid_t k_other_gid = 12345;

// Writes a secret to `name` in `dir` with `mode` and returns its path.
std::string write_secret(const vtc::test::TempDir& dir, const std::string& name,
                         mode_t mode)
{
  const auto file = dir.write(name, "s3cret\n");
  REQUIRE(chmod(file.c_str(), mode) == 0);
  return file;
}

// Both entry points must refuse `path` with ConfigError (78) naming it; the
// message must not carry the secret.
void check_refused(const std::string& path, const std::string& reason)
{
  for (const bool read : {true, false}) {
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
  vtc::test::TempDir dir;
  const auto path = write_secret(dir, "token", 0600);
  CHECK(vtc::util::read_secret_file(path, "registry.token_file") == "s3cret\n");
  CHECK_NOTHROW(vtc::util::check_secret_file(path, "registry.token_file"));
  const auto read_only = write_secret(dir, "ro", 0400);
  CHECK(vtc::util::read_secret_file(read_only, "audit.key_file") == "s3cret\n");
}

TEST_CASE("secret_file: any permission bit for others is refused")
{
  vtc::test::TempDir dir;
  check_refused(write_secret(dir, "644", 0644), "gives others access");
  check_refused(write_secret(dir, "604", 0604), "gives others access");
  check_refused(write_secret(dir, "602", 0602), "gives others access");
  check_refused(write_secret(dir, "601", 0601), "gives others access");
}

TEST_CASE("secret_file: group read only when the group is the process's")
{
  vtc::test::TempDir dir;
  const auto own_group = write_secret(dir, "own", 0640);
  REQUIRE(chown(own_group.c_str(), static_cast<uid_t>(-1), getegid()) == 0);
  CHECK(vtc::util::read_secret_file(own_group, "registry.token_file") ==
        "s3cret\n");
}

TEST_CASE("secret_file: group read for another group is refused" *
          doctest::skip(k_not_root))
{
  vtc::test::TempDir dir;
  const auto path = write_secret(dir, "other", 0640);
  REQUIRE(chown(path.c_str(), static_cast<uid_t>(-1), k_other_gid) == 0);
  check_refused(path, "gives group 12345 access");
}

TEST_CASE("secret_file: a file owned by another user is refused" *
          doctest::skip(k_not_root))
{
  vtc::test::TempDir dir;
  const auto path = write_secret(dir, "foreign", 0600);
  REQUIRE(chown(path.c_str(), k_other_uid, static_cast<gid_t>(-1)) == 0);
  check_refused(path, "owned by uid 12345");
}

TEST_CASE("secret_file: a missing file or a directory is refused")
{
  vtc::test::TempDir dir;
  check_refused(dir.path() + "/missing", "No such file or directory");
  const auto sub = dir.path() + "/sub";
  REQUIRE(mkdir(sub.c_str(), 0700) == 0);
  check_refused(sub, "not a regular file");
}
