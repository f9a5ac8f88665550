#include "temp_dir.hpp"
#include "util/atomic_file.hpp"
#include "util/error.hpp"

#include <algorithm>
#include <doctest/doctest.h>
#include <filesystem>
#include <string>
#include <sys/stat.h>
#include <vector>

namespace {

// Names in `dir`, sorted.
std::vector<std::string> entries(const std::string& dir)
{
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

unsigned mode_of(const std::string& path)
{
  struct stat st
  {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777U;
}

} // namespace

TEST_CASE("atomic_file: replaces the content and leaves no temporary file")
{
  vtc::test::TempDir dir;
  const std::string path = dir.write("m.prom", "old\n");
  vtc::util::write_file_atomically(path, "new\n", 0644);
  CHECK(vtc::test::read_file(path) == "new\n");
  CHECK(mode_of(path) == 0644);
  CHECK(entries(dir.path()) == std::vector<std::string>{"m.prom"});
}

TEST_CASE("atomic_file: a missing directory is an I/O error naming the path")
{
  vtc::test::TempDir dir;
  const std::string path = dir.file("missing/m.prom");
  try {
    vtc::util::write_file_atomically(path, "x");
    FAIL("no exception");
  } catch (const vtc::IoError& e) {
    CHECK(std::string(e.what()).find(path) != std::string::npos);
    CHECK(e.code() == vtc::ExitCode::io_err);
  }
}

TEST_CASE("atomic_file: link_destination never replaces an existing file")
{
  vtc::test::TempDir dir;
  const std::string path = dir.write("copy.db", "keep");
  {
    vtc::util::TempFile tmp(path, 0600);
    tmp.write("other");
    CHECK_FALSE(tmp.link_destination());
  }
  CHECK(vtc::test::read_file(path) == "keep");
  CHECK(entries(dir.path()) == std::vector<std::string>{"copy.db"});
}

TEST_CASE("atomic_file: link_destination publishes the whole file once")
{
  vtc::test::TempDir dir;
  const std::string path = dir.file("copy.db");
  {
    vtc::util::TempFile tmp(path, 0600);
    CHECK(tmp.path().rfind(dir.path() + "/.copy.db.", 0) == 0);
    tmp.write("data");
    CHECK(tmp.link_destination());
  }
  CHECK(vtc::test::read_file(path) == "data");
  CHECK(mode_of(path) == 0600);
  CHECK(entries(dir.path()) == std::vector<std::string>{"copy.db"});
}

TEST_CASE("atomic_file: an unpublished temporary file is removed")
{
  vtc::test::TempDir dir;
  {
    vtc::util::TempFile tmp(dir.file("x"), 0600);
    tmp.write("partial");
  }
  CHECK(entries(dir.path()).empty());
}
