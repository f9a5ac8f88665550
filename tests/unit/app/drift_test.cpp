#include "fake_clock.hpp"

#include "app/drift.hpp"
#include "store/sqlite_store.hpp"
#include "util/error.hpp"

#include <doctest/doctest.h>

using namespace vtc;

TEST_CASE(
  "drift sorts records into same, missing, mismatched, unknown, unconfirmed")
{
  const std::vector<app::MirrorRecord> mirror{
    {"same", true, R"({"a":1,"b":{"c":2}})"},
    {"missing", true, R"({"a":1})"},
    {"changed", true, R"({"a":1})"},
    {"pending", false, R"({"a":1})"},
  };
  const std::vector<app::ListedRecord> listed{
    {"same", R"({"b": {"c": 2}, "a": 1})"}, // member order does not matter
    {"changed", R"({"a":2})"},
    {"stranger", R"({"a":3})"},
    {"pending", R"({"a":0})"},
  };
  const auto r = app::compare_records(mirror, listed);
  CHECK(r.listed == 4);
  CHECK(r.in_step == 1);
  REQUIRE(r.missing.size() == 1);
  CHECK(r.missing[0].id == "missing");
  REQUIRE(r.mismatched.size() == 1);
  CHECK(r.mismatched[0].id == "changed");
  CHECK(r.mismatched[0].registry == R"({"a":2})");
  REQUIRE(r.unknown.size() == 1);
  CHECK(r.unknown[0].id == "stranger");
  REQUIRE(r.unconfirmed.size() == 1);
  CHECK(r.unconfirmed[0].registry == R"({"a":0})");
  CHECK(r.differ());
}

TEST_CASE("an unconfirmed write alone is no difference")
{
  const auto r = app::compare_records({{"x", false, "{}"}}, {});
  CHECK_FALSE(r.differ());
  CHECK(app::compare_records({}, {}).differ() == false);
}

namespace {

// A listing that serves fixed pages, counting requests.
class Pages final : public app::RegistryListing
{
public:
  std::vector<app::ListingPage> pages;
  std::vector<std::string> asked;
  app::ListingPage page(const std::string& cursor) override
  {
    asked.push_back(cursor);
    return pages.at(asked.size() - 1);
  }
};

} // namespace

TEST_CASE("a listing whose cursor repeats is refused, not read forever")
{
  Pages listing;
  listing.pages = {{{}, "c1"}, {{}, "c2"}, {{}, "c1"}};
  test::FakeClock clock{0};
  store::SqliteStore db(":memory:", store::OpenMode::pass,
                        {"did:web:c", "http://127.0.0.1:1", "a", "r", "t",
                         [](const std::string& url) { return url; }},
                        clock);
  struct NoRecords final : app::RecordBuilder
  {
    std::string id(const std::string&) const override { return ""; }
    std::string body(const app::Member&) const override { return ""; }
    std::string reconcile_job_id(const std::string&,
                                 core::TimeNs) const override
    {
      return "";
    }
    std::string retire_job_id(const std::string&) const override { return ""; }
  } records;
  try {
    app::drift(db, listing, records);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.code() == ExitCode::protocol);
  }
  CHECK(listing.asked == std::vector<std::string>{"", "c1", "c2"});
}
