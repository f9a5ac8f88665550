#include "audit/log_file.hpp"
#include "fixtures.hpp"
#include "util/error.hpp"

#include <cstdio>
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>
#include <string>
#include <sys/stat.h>
#include <vector>

using namespace vtc;
using nlohmann::json;
using test::ReadAll;

namespace {

std::string entry_hash_of(const std::string& line)
{
  return json::parse(line).at("entry_hash").get<std::string>();
}

std::string event_id_of(const std::string& line)
{
  return json::parse(line).at("event_id").get<std::string>();
}

std::uint64_t inode_of(const std::string& path)
{
  struct stat st
  {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_ino;
}

// Reads a whole copy of basic.audit.jsonl's first `n` lines and returns the
// cursor after them.
app::Cursor cursor_after(const test::TempDir& dir,
                         const std::vector<std::string>& lines, std::size_t n)
{
  const std::string path = dir.write("first.jsonl", test::join(lines, 0, n));
  audit::LogFile log(test::options(path));
  REQUIRE_FALSE(log.seek(std::nullopt).has_value());
  const ReadAll r = test::read_all(log);
  REQUIRE(r.entries.size() == n);
  REQUIRE(r.last == app::ReadStatus::end);
  return log.position();
}

} // namespace

TEST_CASE("audit: LogFile verifies basic.audit.jsonl in strict mode")
{
  test::TempDir dir;
  const auto lines = test::lines_of(test::data("basic.audit.jsonl"));
  const std::string path = dir.write("audit.jsonl", test::join(lines));
  audit::LogFile log(test::options(path, test::strict_keys(dir)));
  REQUIRE_FALSE(log.seek(std::nullopt).has_value());
  const ReadAll r = test::read_all(log);
  CHECK(r.last == app::ReadStatus::end);
  REQUIRE(r.entries.size() == 12);
  for (std::size_t i = 0; i < r.entries.size(); ++i) {
    const app::Entry& e = r.entries[i];
    const json j = json::parse(lines[i]);
    CAPTURE(i + 1);
    CHECK(e.line == static_cast<std::int64_t>(i + 1));
    CHECK(e.event_id == j["event_id"]);
    CHECK(core::format_rfc3339(e.time) == j["timestamp"]);
    CHECK_FALSE(e.legacy);
    CHECK(e.event_type == j["event"]["type"]);
    CHECK(e.key_id == j["audit_key_id"]);
    CHECK(e.target_hash ==
          (j["target_did_hash"].is_null() ? "" : j["target_did_hash"]));
    // Carol acts on herself: join request (4), join (5), purge (11).
    CHECK(e.self_request == (i + 1 == 4 || i + 1 == 5 || i + 1 == 11));
  }
  CHECK_FALSE(r.entries[0].membership); // CommunityInstalled
  CHECK_FALSE(r.entries[3].membership); // JoinRequestSubmitted
  CHECK_FALSE(r.entries[7].membership); // AuditKeyRotated
  CHECK(r.entries[1].membership);
  CHECK(r.entries[1].role == "member");
  CHECK(r.entries[1].target_did == "did:key:z6MkAlice");
  CHECK(r.entries[5].role == "moderator"); // RoleChanged: newRole
  CHECK(r.entries[8].disposition == "tombstone");
  CHECK(r.entries[9].disposition == "historical");
  CHECK(r.entries[10].disposition == "purge");
  CHECK(r.entries[11].role == "issuer");

  const app::Cursor c = log.position();
  const std::string bytes = test::read_file(path);
  CHECK(c.line == 12);
  CHECK(c.entry_hash == entry_hash_of(lines[11]));
  CHECK(c.chained);
  CHECK(c.offset == bytes.size());
  CHECK(c.line_start == bytes.size() - lines[11].size() - 1);
  CHECK(c.size == bytes.size());
  CHECK(c.inode == inode_of(path));
  CHECK(log.lag_bytes() == 0);
}

TEST_CASE("audit: LogFile stops on each invalid vector after the good lines")
{
  test::TempDir dir;
  const auto keys = test::strict_keys(dir);
  const json cases =
    json::parse(test::read_file(test::data("invalid.expected.json")))["cases"];
  REQUIRE(cases.size() == 4);
  for (const auto& c : cases) {
    const std::string file = c["file"];
    CAPTURE(file);
    audit::LogFile log(test::options(test::data(file), keys));
    REQUIRE_FALSE(log.seek(std::nullopt).has_value());
    const ReadAll r = test::read_all(log);
    CHECK(r.entries.size() == c["good_lines_before"].get<std::size_t>());
    REQUIRE(r.last == app::ReadStatus::failure);
    CHECK(r.failure.line == c["first_bad_line"].get<std::int64_t>());
    CHECK(r.failure.reason == c["reason"].get<std::string>());
    CHECK_FALSE(r.failure.detail.empty());
    // The cursor stays on the last good entry.
    CHECK(log.position().line == c["good_lines_before"].get<std::int64_t>());
  }
}

TEST_CASE("audit: swapped-did passes in chain mode and fails in strict mode")
{
  test::TempDir dir;
  const std::string path = test::data("swapped-did.audit.jsonl");
  {
    audit::LogFile log(test::options(path));
    REQUIRE_FALSE(log.seek(std::nullopt).has_value());
    const ReadAll r = test::read_all(log);
    CHECK(r.last == app::ReadStatus::end);
    CHECK(r.entries.size() == 12);
  }
  {
    audit::LogFile log(test::options(path, test::strict_keys(dir)));
    REQUIRE_FALSE(log.seek(std::nullopt).has_value());
    const ReadAll r = test::read_all(log);
    CHECK(r.entries.size() == 11);
    REQUIRE(r.last == app::ReadStatus::failure);
    CHECK(r.failure.line == 12);
    CHECK(r.failure.reason == "hmac");
    CHECK(r.failure.event_id == event_id_of(test::lines_of(path)[11]));
  }
}

TEST_CASE("audit: strict mode refuses a key id missing from the key file")
{
  // Only the first key of basic.keys.json: basic rotates at line 8.
  const auto only_first = std::make_shared<
    const audit::KeyRing>(audit::KeyRing::parse(
    R"({"keys":[{"key_id":"3b0a9c52-6d1e-4f0a-9b7e-2c4d5e6f7a81","key":"XV1dXV1dXV1dXV1dXV1dXV1dXV1dXV1dXV1dXV1dXV0"}]})",
    "test"));
  audit::LogFile log(
    test::options(test::data("basic.audit.jsonl"), only_first));
  REQUIRE_FALSE(log.seek(std::nullopt).has_value());
  const ReadAll r = test::read_all(log);
  CHECK(r.entries.size() == 7);
  REQUIRE(r.last == app::ReadStatus::failure);
  CHECK(r.failure.line == 8);
  CHECK(r.failure.reason == "unknown-key");
}

TEST_CASE("audit: strict mode checks both plaintext DIDs against their HMACs")
{
  test::TempDir dir;
  const auto keys = test::strict_keys(dir);
  const auto lines = test::lines_of(test::data("basic.audit.jsonl"));
  struct Case
  {
    const char* what;
    std::size_t line; // 1-based line edited
    std::string from;
    std::string to;
  };
  // Plaintexts are outside the chain digest: only the HMAC catches these.
  const std::vector<Case> cases{
    {"actor replaced", 3, R"("actor_did_plain":"did:key:z6MkAdminExample")",
     R"("actor_did_plain":"did:key:z6MkMallory")"},
    {"target replaced", 3, R"("target_did_plain":"did:key:z6MkBob")",
     R"("target_did_plain":"did:key:z6MkMallory")"},
    {"target plaintext with a null hash", 1, R"("target_did_plain":null)",
     R"("target_did_plain":"did:key:z6MkAdminExample")"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.what);
    auto edited = lines;
    const auto at = edited[c.line - 1].find(c.from);
    REQUIRE(at != std::string::npos);
    edited[c.line - 1].replace(at, c.from.size(), c.to);
    const std::string path = dir.write("edited.jsonl", test::join(edited));
    {
      audit::LogFile log(test::options(path, keys));
      REQUIRE_FALSE(log.seek(std::nullopt).has_value());
      const ReadAll r = test::read_all(log);
      CHECK(r.entries.size() == c.line - 1);
      REQUIRE(r.last == app::ReadStatus::failure);
      CHECK(r.failure.line == static_cast<std::int64_t>(c.line));
      CHECK(r.failure.reason == "hmac");
    }
    {
      // Chain mode does not authenticate plaintexts.
      audit::LogFile log(test::options(path));
      REQUIRE_FALSE(log.seek(std::nullopt).has_value());
      const ReadAll r = test::read_all(log);
      CHECK(r.last == app::ReadStatus::end);
      CHECK(r.entries.size() == 12);
    }
  }
}

TEST_CASE("audit: precision, legacy-prefix and redacted verify fully")
{
  test::TempDir dir;
  const auto keys = test::strict_keys(dir);
  {
    audit::LogFile log(
      test::options(test::data("precision.audit.jsonl"), keys));
    REQUIRE_FALSE(log.seek(std::nullopt).has_value());
    const ReadAll r = test::read_all(log);
    CHECK(r.last == app::ReadStatus::end);
    const json expected = json::parse(
      test::read_file(test::data("precision.expected.json")))["active_from"];
    std::size_t matched = 0;
    for (const auto& e : r.entries) {
      if (e.event_type == "MemberAdded" && e.target_did &&
          expected.contains(*e.target_did)) {
        CAPTURE(*e.target_did);
        CHECK(core::format_rfc3339(e.time) == expected[*e.target_did]);
        ++matched;
      }
    }
    CHECK(matched == expected.size());
  }
  {
    audit::LogFile log(
      test::options(test::data("legacy-prefix.audit.jsonl"), keys));
    REQUIRE_FALSE(log.seek(std::nullopt).has_value());
    const ReadAll r = test::read_all(log);
    CHECK(r.last == app::ReadStatus::end);
    REQUIRE(r.entries.size() == 4);
    CHECK(r.entries[0].legacy);
    CHECK(r.entries[1].legacy);
    CHECK_FALSE(r.entries[2].legacy);
    CHECK_FALSE(r.entries[3].legacy);
    CHECK_FALSE(r.entries[0].membership); // legacy rows create nothing
    CHECK(r.entries[2].membership);
    CHECK(log.position().chained);
  }
  {
    audit::LogFile log(test::options(test::data("redacted.audit.jsonl"), keys));
    REQUIRE_FALSE(log.seek(std::nullopt).has_value());
    const ReadAll r = test::read_all(log);
    CHECK(r.last == app::ReadStatus::end);
    REQUIRE(r.entries.size() == 4);
    CHECK_FALSE(r.entries[2].target_did.has_value());
    CHECK_FALSE(r.entries[2].target_hash.empty());
  }
}

TEST_CASE("audit: unsupported event and schema versions stop the log")
{
  test::TempDir dir;
  const auto keys = test::strict_keys(dir);
  {
    audit::LogFile log(
      test::options(test::fixture("event-version.audit.jsonl"), keys));
    REQUIRE_FALSE(log.seek(std::nullopt).has_value());
    const ReadAll r = test::read_all(log);
    CHECK(r.entries.size() == 1);
    REQUIRE(r.last == app::ReadStatus::failure);
    CHECK(r.failure.line == 2);
    CHECK(r.failure.reason == "unsupported-version");
  }
  {
    audit::LogFile log(test::options(test::fixture("schema-3.audit.jsonl")));
    REQUIRE_FALSE(log.seek(std::nullopt).has_value());
    const ReadAll r = test::read_all(log);
    CHECK(r.entries.empty());
    REQUIRE(r.last == app::ReadStatus::failure);
    CHECK(r.failure.line == 1);
    CHECK(r.failure.reason == "unsupported-schema");
  }
}

TEST_CASE("audit: an unparseable line fails as unparseable with its line")
{
  test::TempDir dir;
  const auto lines = test::lines_of(test::data("basic.audit.jsonl"));
  for (const std::string& bad : {std::string(""), std::string("{}"),
                                 lines[2] + "\r", "\xEF\xBB\xBF" + lines[2]}) {
    const std::string path = dir.write(
      "bad.jsonl", test::join(lines, 0, 2) + bad + "\n" + test::join(lines, 2));
    audit::LogFile log(test::options(path));
    REQUIRE_FALSE(log.seek(std::nullopt).has_value());
    const ReadAll r = test::read_all(log);
    CHECK(r.entries.size() == 2);
    REQUIRE(r.last == app::ReadStatus::failure);
    CHECK(r.failure.line == 3);
    CHECK(r.failure.reason == "unparseable");
  }
}

TEST_CASE("audit: an incomplete last line waits and the cursor stays put")
{
  test::TempDir dir;
  const auto lines = test::lines_of(test::data("basic.audit.jsonl"));
  const std::string full = test::join(lines, 0, 11);
  const std::string half = lines[11].substr(0, lines[11].size() / 2);
  const std::string path = dir.write("audit.jsonl", full + half);
  audit::LogFile log(test::options(path, test::strict_keys(dir)));
  REQUIRE_FALSE(log.seek(std::nullopt).has_value());
  const ReadAll r = test::read_all(log);
  CHECK(r.entries.size() == 11);
  CHECK(r.last == app::ReadStatus::incomplete);
  const app::Cursor c = log.position();
  CHECK(c.line == 11);
  CHECK(c.offset == full.size());
  CHECK(c.entry_hash == entry_hash_of(lines[10]));
  CHECK(log.lag_bytes() == half.size());

  // The writer finishes the line: the same reader takes it.
  dir.append("audit.jsonl", lines[11].substr(half.size()) + "\n");
  app::Entry e;
  app::AuditFailure f;
  REQUIRE(log.next(e, f) == app::ReadStatus::entry);
  CHECK(e.line == 12);
  CHECK(e.event_id == event_id_of(lines[11]));
  CHECK(log.next(e, f) == app::ReadStatus::end);

  // A new reader from the stored cursor also takes exactly line 12.
  audit::LogFile again(test::options(path, test::strict_keys(dir)));
  REQUIRE_FALSE(again.seek(c).has_value());
  const ReadAll r2 = test::read_all(again);
  REQUIRE(r2.entries.size() == 1);
  CHECK(r2.entries[0].line == 12);
  CHECK(r2.last == app::ReadStatus::end);
}

TEST_CASE("audit: a first line without LF is incomplete, not an entry")
{
  test::TempDir dir;
  const auto lines = test::lines_of(test::data("basic.audit.jsonl"));
  const std::string path = dir.write("audit.jsonl", lines[0]);
  audit::LogFile log(test::options(path));
  REQUIRE_FALSE(log.seek(std::nullopt).has_value());
  const ReadAll r = test::read_all(log);
  CHECK(r.entries.empty());
  CHECK(r.last == app::ReadStatus::incomplete);
  CHECK(log.position().line == 0);
  CHECK(log.position().offset == 0);
}

TEST_CASE("audit: after reading, seek(position) returns only appended lines")
{
  test::TempDir dir;
  const auto lines = test::lines_of(test::data("basic.audit.jsonl"));
  const std::string path = dir.write("audit.jsonl", test::join(lines, 0, 6));
  const auto keys = test::strict_keys(dir);
  app::Cursor c;
  {
    audit::LogFile log(test::options(path, keys));
    REQUIRE_FALSE(log.seek(std::nullopt).has_value());
    const ReadAll r = test::read_all(log);
    REQUIRE(r.entries.size() == 6);
    CHECK(r.last == app::ReadStatus::end);
    c = log.position();
  }
  dir.append("audit.jsonl", test::join(lines, 6));
  audit::LogFile log(test::options(path, keys));
  REQUIRE_FALSE(log.seek(c).has_value());
  const ReadAll r = test::read_all(log);
  CHECK(r.last == app::ReadStatus::end);
  REQUIRE(r.entries.size() == 6);
  for (std::size_t i = 0; i < 6; ++i) {
    CHECK(r.entries[i].line == static_cast<std::int64_t>(i + 7));
    CHECK(r.entries[i].event_id == event_id_of(lines[i + 6]));
  }
  CHECK(log.position().offset == test::read_file(path).size());
}

TEST_CASE(
  "audit: a growing file resumes at the stored offset without re-reading")
{
  test::TempDir dir;
  const auto lines = test::lines_of(test::data("basic.audit.jsonl"));
  const std::string path = dir.write("audit.jsonl", test::join(lines, 0, 6));
  app::Cursor c;
  {
    audit::LogFile log(test::options(path));
    REQUIRE_FALSE(log.seek(std::nullopt).has_value());
    REQUIRE(test::read_all(log).entries.size() == 6);
    c = log.position();
  }
  // Line 1 is damaged in place (same length) after it was processed: cursor
  // rule 1 (vtc-sync(1), THE AUDIT LOG: the line ending at the stored offset
  // has the stored hash) resumes without reading the file from the start.
  auto edited = lines;
  const auto at = edited[0].find("CommunityInstalled");
  REQUIRE(at != std::string::npos);
  edited[0].replace(at, 18, "CommunityInstallex");
  dir.write("audit.jsonl", test::join(edited));
  audit::LogFile log(test::options(path));
  REQUIRE_FALSE(log.seek(c).has_value());
  const ReadAll r = test::read_all(log);
  CHECK(r.last == app::ReadStatus::end);
  REQUIRE(r.entries.size() == 6);
  CHECK(r.entries.front().line == 7);
}

TEST_CASE("audit: the legacy prefix cursor continues after a version-1 row")
{
  test::TempDir dir;
  const auto lines = test::lines_of(test::data("legacy-prefix.audit.jsonl"));
  REQUIRE(lines.size() == 4);
  const std::string path = dir.write("audit.jsonl", test::join(lines, 0, 2));
  app::Cursor c;
  {
    audit::LogFile log(test::options(path));
    REQUIRE_FALSE(log.seek(std::nullopt).has_value());
    REQUIRE(test::read_all(log).entries.size() == 2);
    c = log.position();
    CHECK_FALSE(c.chained);
    CHECK(c.line == 2);
  }
  dir.append("audit.jsonl", test::join(lines, 2));
  audit::LogFile log(test::options(path));
  REQUIRE_FALSE(log.seek(c).has_value());
  const ReadAll r = test::read_all(log);
  CHECK(r.last == app::ReadStatus::end);
  REQUIRE(r.entries.size() == 2);
  CHECK(r.entries[0].line == 3);
  CHECK_FALSE(r.entries[0].legacy);
}

TEST_CASE("audit: an identical copy on a new inode continues after the cursor")
{
  test::TempDir dir;
  const auto lines = test::lines_of(test::data("basic.audit.jsonl"));
  const app::Cursor c = cursor_after(dir, lines, 6);
  const std::string copy = dir.write("copy.jsonl", test::join(lines));
  REQUIRE(inode_of(copy) != c.inode);
  audit::LogFile log(test::options(copy, test::strict_keys(dir)));
  REQUIRE_FALSE(log.seek(c).has_value());
  const ReadAll r = test::read_all(log);
  CHECK(r.last == app::ReadStatus::end);
  REQUIRE(r.entries.size() == 6);
  CHECK(r.entries.front().line == 7);
  CHECK(log.position().inode == inode_of(copy));
}

TEST_CASE("audit: a file rewritten by redaction continues via re-read")
{
  test::TempDir dir;
  const auto lines = test::lines_of(test::data("basic.audit.jsonl"));
  const app::Cursor c = cursor_after(dir, lines, 6);
  // Redact Alice's plaintext in line 2: offsets shift, the chain holds.
  auto redacted = lines;
  const std::string from = R"("target_did_plain":"did:key:z6MkAlice")";
  const auto at = redacted[1].find(from);
  REQUIRE(at != std::string::npos);
  redacted[1].replace(at, from.size(), R"("target_did_plain":null)");
  const std::string path = dir.write("redacted.jsonl", test::join(redacted));
  audit::LogFile log(test::options(path, test::strict_keys(dir)));
  REQUIRE_FALSE(log.seek(c).has_value());
  const ReadAll r = test::read_all(log);
  CHECK(r.last == app::ReadStatus::end);
  REQUIRE(r.entries.size() == 6);
  CHECK(r.entries.front().line == 7);
  CHECK(r.entries.front().event_id == event_id_of(lines[6]));
  CHECK(log.position().offset == test::join(redacted).size());
  CHECK(log.position().line == 12);
}

TEST_CASE("audit: position() right after a re-read seek describes the new file")
{
  test::TempDir dir;
  const auto lines = test::lines_of(test::data("basic.audit.jsonl"));
  const app::Cursor c = cursor_after(dir, lines, 6);
  auto redacted = lines;
  const std::string from = R"("target_did_plain":"did:key:z6MkAlice")";
  redacted[1].replace(redacted[1].find(from), from.size(),
                      R"("target_did_plain":null)");
  const std::string path = dir.write("redacted.jsonl", test::join(redacted));
  audit::LogFile log(test::options(path));
  REQUIRE_FALSE(log.seek(c).has_value());
  const app::Cursor p = log.position();
  CHECK(p.line == 6);
  CHECK(p.entry_hash == c.entry_hash);
  CHECK(p.offset == test::join(redacted, 0, 6).size());
  CHECK(p.line_start == test::join(redacted, 0, 5).size());
}

TEST_CASE("audit: a renamed-and-continued log continues from its line 1")
{
  test::TempDir dir;
  const auto lines = test::lines_of(test::data("basic.audit.jsonl"));
  const app::Cursor c = cursor_after(dir, lines, 12);
  const auto next = test::lines_of(test::fixture("rotated.audit.jsonl"));
  REQUIRE(next.size() == 3);
  // The new file continues the chain of the old one.
  REQUIRE(json::parse(next[0])["prev_hash"] == c.entry_hash);
  const std::string path = dir.write("rotated.jsonl", test::join(next));
  audit::LogFile log(test::options(path, test::strict_keys(dir)));
  const auto failure = log.seek(c);
  CHECK_MESSAGE(!failure.has_value(),
                (failure
                   ? failure->reason + " at line " +
                       std::to_string(failure->line) + ": " + failure->detail
                   : std::string()));
  if (failure) {
    return;
  }
  const ReadAll r = test::read_all(log);
  CHECK(r.last == app::ReadStatus::end);
  REQUIRE(r.entries.size() == 3);
  CHECK(r.entries[0].line == 1);
  CHECK(r.entries[0].event_id == event_id_of(next[0]));
  CHECK(log.position().line == 3);
  CHECK(log.position().entry_hash == entry_hash_of(next[2]));
}

TEST_CASE("audit: audit.anchor lets the first entry link to it")
{
  test::TempDir dir;
  const std::string path = test::fixture("rotated.audit.jsonl");
  {
    audit::LogFile log(test::options(path));
    REQUIRE_FALSE(log.seek(std::nullopt).has_value());
    const ReadAll r = test::read_all(log);
    CHECK(r.entries.empty());
    REQUIRE(r.last == app::ReadStatus::failure);
    CHECK(r.failure.line == 1);
    CHECK(r.failure.reason == "broken-link");
  }
  auto o = test::options(path, test::strict_keys(dir));
  o.anchor = util::decode_digest("KdHwMKhGK5PzLWHVHkyVDWzO4zwckk0_amTe_w-ZWws");
  REQUIRE(o.anchor.has_value());
  audit::LogFile log(o);
  REQUIRE_FALSE(log.seek(std::nullopt).has_value());
  const ReadAll r = test::read_all(log);
  CHECK(r.last == app::ReadStatus::end);
  CHECK(r.entries.size() == 3);
}

TEST_CASE("audit: a truncated file or another chain is a discontinuity")
{
  test::TempDir dir;
  const auto lines = test::lines_of(test::data("basic.audit.jsonl"));
  const app::Cursor c = cursor_after(dir, lines, 12);
  {
    const std::string path =
      dir.write("truncated.jsonl", test::join(lines, 0, 6));
    audit::LogFile log(test::options(path));
    const auto failure = log.seek(c);
    REQUIRE(failure.has_value());
    CHECK(failure->reason == "discontinuity");
  }
  {
    // Same length, other chain (precision has 5 lines: cursor at 3).
    const app::Cursor c3 = cursor_after(dir, lines, 3);
    audit::LogFile log(test::options(test::data("precision.audit.jsonl")));
    const auto failure = log.seek(c3);
    REQUIRE(failure.has_value());
    CHECK(failure->reason == "discontinuity");
  }
  {
    // A cursor further than the other chain reaches.
    audit::LogFile log(test::options(test::data("redacted.audit.jsonl")));
    const auto failure = log.seek(c);
    REQUIRE(failure.has_value());
    CHECK(failure->reason == "discontinuity");
  }
}

TEST_CASE("audit: a line over max_line_bytes fails as too-long")
{
  test::TempDir dir;
  const auto lines = test::lines_of(test::data("basic.audit.jsonl"));
  const std::string long_line(5000, 'x');
  const std::string path =
    dir.write("audit.jsonl", test::join(lines, 0, 2) + long_line + "\n" +
                               test::join(lines, 2));
  audit::LogFile log(test::options(path, {}, 4096));
  REQUIRE_FALSE(log.seek(std::nullopt).has_value());
  const ReadAll r = test::read_all(log);
  CHECK(r.entries.size() == 2);
  REQUIRE(r.last == app::ReadStatus::failure);
  CHECK(r.failure.line == 3);
  CHECK(r.failure.reason == "too-long");

  // Unterminated and already too long: too-long, not incomplete.
  const std::string path2 =
    dir.write("tail.jsonl", test::join(lines, 0, 2) + long_line);
  audit::LogFile tail(test::options(path2, {}, 4096));
  REQUIRE_FALSE(tail.seek(std::nullopt).has_value());
  const ReadAll r2 = test::read_all(tail);
  CHECK(r2.entries.size() == 2);
  REQUIRE(r2.last == app::ReadStatus::failure);
  CHECK(r2.failure.line == 3);
  CHECK(r2.failure.reason == "too-long");

  // Control: the same lines under a limit they fit in verify.
  const std::size_t longest = std::max(lines[0].size(), lines[1].size());
  const std::string path3 = dir.write("ok.jsonl", test::join(lines, 0, 2));
  audit::LogFile ok(test::options(path3, {}, longest + 1));
  REQUIRE_FALSE(ok.seek(std::nullopt).has_value());
  CHECK(test::read_all(ok).entries.size() == 2);
  audit::LogFile small(test::options(path3, {}, longest - 100));
  REQUIRE_FALSE(small.seek(std::nullopt).has_value());
  const ReadAll r3 = test::read_all(small);
  REQUIRE(r3.last == app::ReadStatus::failure);
  CHECK(r3.failure.reason == "too-long");
}

TEST_CASE("audit: a missing audit source is an I/O error")
{
  test::TempDir dir;
  CHECK_THROWS_AS(audit::LogFile(test::options(dir.file("missing.jsonl"))),
                  AuditError);
  try {
    audit::LogFile log(test::options(dir.path()));
    FAIL("a directory was opened as the audit source");
  } catch (const AuditError& e) {
    CHECK(e.code() == ExitCode::io_err);
  }
}
