// The backup copy (store/backup.cpp).

#include "store/backup.hpp"
#include "store_fixture.hpp"
#include "util/error.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <sys/stat.h>

using namespace vtc;
using namespace vtc::test;

TEST_CASE_FIXTURE(StoreFixture,
                  "store: backup is a whole copy with its own generation")
{
  const std::string copy = dir.file("copy.db");
  walk_alice(s);

  const std::string generation = store::backup(path, binding(), copy);
  CHECK(generation.size() == 32);
  CHECK(generation != s.status(0).generation);
  struct stat st
  {};
  REQUIRE(::stat(copy.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777U) == 0600U);
  // One file: no journal or temporary file beside it.
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    names.push_back(e.path().filename().string());
  }
  CHECK(std::count(names.begin(), names.end(), "copy.db") == 1);
  CHECK(std::none_of(names.begin(), names.end(), [](const std::string& n) {
    return n.rfind("copy.db", 0) == 0 && n != "copy.db";
  }));
  CHECK(std::none_of(names.begin(), names.end(), [](const std::string& n) {
    return n.rfind(".copy.db.", 0) == 0;
  }));

  store::SqliteStore c(copy, store::OpenMode::read_only, binding(), clock);
  CHECK(c.cursor() == cursor_at(2));
  CHECK(job_ids(c.jobs({})) == std::vector<std::string>{J('1')});
  CHECK(c.status(0).generation == generation);
}

TEST_CASE("store: backup refuses an existing target and a missing database")
{
  test::TempDir dir;
  const std::string path = dir.file("state.db");
  test::FakeClock clock{1'000'000};
  {
    store::SqliteStore s(path, store::OpenMode::pass, binding(), clock);
  }
  const std::string existing = dir.write("existing.db", "keep");
  CHECK_THROWS_AS(store::backup(path, binding(), existing), UsageError);
  CHECK(test::read_file(existing) == "keep");

  const std::string target = dir.file("new.db");
  CHECK_THROWS_AS(store::backup(dir.file("missing.db"), binding(), target),
                  NoInputError);
  CHECK_FALSE(std::filesystem::exists(target));
  CHECK_FALSE(std::filesystem::exists(dir.file("missing.db")));

  auto other = binding();
  other.vtc_did = "did:webvh:QmOther:other.example";
  CHECK_THROWS_AS(store::backup(path, other, target), ConfigError);
  CHECK_FALSE(std::filesystem::exists(target));
}
