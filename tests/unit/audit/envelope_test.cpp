#include "audit/envelope.hpp"
#include "audit/verifier.hpp"
#include "fixtures.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

using namespace vtc;
using nlohmann::ordered_json;

namespace {

// `text` with the first `from` replaced by `to`; `from` must occur.
std::string replaced(const std::string& text, const std::string& from,
                     const std::string& to)
{
  const auto at = text.find(from);
  REQUIRE_MESSAGE(at != std::string::npos, "fixture lacks: " << from);
  std::string out = text;
  out.replace(at, from.size(), to);
  return out;
}

std::string basic_line(std::size_t n)
{
  const auto lines = test::lines_of(test::data("basic.audit.jsonl"));
  REQUIRE(lines.size() >= n);
  return lines[n - 1];
}

bool parses(const std::string& line)
{
  audit::Envelope e;
  std::string why;
  return audit::parse_envelope(line, e, why);
}

} // namespace

TEST_CASE("audit: parse_envelope accepts every line of basic.audit.jsonl")
{
  const auto lines = test::lines_of(test::data("basic.audit.jsonl"));
  REQUIRE(lines.size() == 12);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    CAPTURE(i + 1);
    const auto j = ordered_json::parse(lines[i]);
    audit::Envelope e;
    std::string why;
    REQUIRE_MESSAGE(audit::parse_envelope(lines[i], e, why), why);
    CHECK(e.event_id == j["event_id"]);
    CHECK(e.event_version == 1);
    CHECK(e.schema_version == 2);
    CHECK(e.chained);
    CHECK(core::format_rfc3339(e.time) == j["timestamp"]);
    CHECK(e.key_id == j["audit_key_id"]);
    CHECK(e.actor_hash_text == j["actor_did_hash"]);
    CHECK(util::base64url_encode(e.actor_hash) == j["actor_did_hash"]);
    CHECK(e.actor_plain == j["actor_did_plain"].get<std::string>());
    if (j["target_did_hash"].is_null()) {
      CHECK_FALSE(e.target_hash.has_value());
      CHECK(e.target_hash_text.empty());
    } else {
      REQUIRE(e.target_hash.has_value());
      CHECK(util::base64url_encode(*e.target_hash) == j["target_did_hash"]);
      CHECK(e.target_plain == j["target_did_plain"].get<std::string>());
    }
    CHECK(util::base64url_encode(e.prev_hash) == j["prev_hash"]);
    CHECK(e.entry_hash_text == j["entry_hash"]);
    // The lines are compact, so the raw event equals its compact dump.
    CHECK(e.event_raw == j["event"].dump());
    CHECK(e.event_type == j["event"]["type"]);
    const auto& data = j["event"]["data"];
    CHECK(e.role == (data.contains("role")
                       ? std::optional<std::string>(data["role"])
                       : std::nullopt));
    CHECK(e.new_role == (data.contains("newRole")
                           ? std::optional<std::string>(data["newRole"])
                           : std::nullopt));
    CHECK(e.disposition == (data.contains("disposition")
                              ? std::optional<std::string>(data["disposition"])
                              : std::nullopt));
  }
}

TEST_CASE("audit: parse_envelope reads event_raw as a view into the line")
{
  const std::string line = basic_line(2);
  audit::Envelope e;
  std::string why;
  REQUIRE(audit::parse_envelope(line, e, why));
  CHECK(e.event_raw == R"({"type":"MemberAdded","data":{"role":"member"}})");
  CHECK(e.event_raw.data() >= line.data());
  CHECK(e.event_raw.data() + e.event_raw.size() <= line.data() + line.size());
  CHECK(audit::parse_uuid(e.event_id) == e.event_id_bytes);
  CHECK(e.event_id_bytes[0] == 0xbd);
  CHECK(e.event_id_bytes[15] == 0x9e);
}

TEST_CASE("audit: parse_envelope rejects anything but the exact shape")
{
  const std::string L = basic_line(2);
  const std::string tail_event = R"("data":{"role":"member"}})";
  struct Case
  {
    const char* what;
    std::string line;
  };
  const std::vector<Case> cases{
    {"empty line", ""},
    {"not an object", "[]"},
    {"null", "null"},
    {"byte-order mark", "\xEF\xBB\xBF" + L},
    {"duplicated member", replaced(L, R"("event_version":1,)",
                                   R"("event_version":1,"event_version":1,)")},
    {"duplicated entry_hash",
     replaced(
       L, R"("event":)",
       R"("entry_hash":"xJRP5wM7dOF4Vq6Z9tU9n-D5G6pMW2MHXa8zOv_-5bM","event":)")},
    {"second event member",
     L.substr(0, L.size() - 1) +
       R"(,"event":{"type":"MemberAdded","data":{"role":"member"}}})"},
    {"members out of order",
     replaced(L, R"("event_version":1,"schema_version":2)",
              R"("schema_version":2,"event_version":1)")},
    {"event before the hashes",
     replaced(
       replaced(
         L, R"(,"event":{"type":"MemberAdded","data":{"role":"member"}})", ""),
       R"("prev_hash")",
       R"("event":{"type":"MemberAdded","data":{"role":"member"}},"prev_hash")")},
    {"extra member before event",
     replaced(L, R"("event":)", R"("extra":null,"event":)")},
    {"extra member after event", L.substr(0, L.size() - 1) + R"(,"extra":1})"},
    {"missing member",
     replaced(L, R"("actor_did_plain":"did:key:z6MkAdminExample",)", "")},
    {"event with a third member",
     replaced(L, tail_event, R"("data":{"role":"member"},"x":1})")},
    {"event with data first",
     replaced(L, R"({"type":"MemberAdded","data":{"role":"member"}})",
              R"({"data":{"role":"member"},"type":"MemberAdded"})")},
    {"event without data",
     replaced(L, R"({"type":"MemberAdded","data":{"role":"member"}})",
              R"({"type":"MemberAdded"})")},
    {"event data not an object",
     replaced(L, R"("data":{"role":"member"})", R"("data":[1])")},
    {"event data duplicates role",
     replaced(L, R"({"role":"member"})",
              R"({"role":"member","role":"admin"})")},
    {"CR between members",
     replaced(L, R"(,"event_version")", ",\r\"event_version\"")},
    {"CR at the end (CRLF)", L + "\r"},
    {"CR inside a string",
     replaced(L, "did:key:z6MkAlice", "did:key:z6Mk\rAlice")},
    {"raw LF inside a string",
     replaced(L, "did:key:z6MkAlice", "did:key:z6Mk\nAlice")},
    {"invalid UTF-8",
     replaced(L, "did:key:z6MkAlice", "did:key:z6Mk\xC3(lice")},
    {"overlong UTF-8", replaced(L, "did:key:z6MkAlice", "did:\xC0\xAF")},
    {"UTF-8 encoded surrogate",
     replaced(L, "did:key:z6MkAlice", "did:\xED\xA0\x80")},
    {"stray continuation byte", replaced(L, "did:key:z6MkAlice", "did:\x80")},
    {"invalid UTF-8 in the event", replaced(L, R"("member")", "\"mem\xFF\"")},
    {"lone high surrogate escape",
     replaced(L, "did:key:z6MkAlice", R"(did:key:\ud800)")},
    {"lone low surrogate escape",
     replaced(L, "did:key:z6MkAlice", R"(did:key:\udc00)")},
    {"high surrogate then a non-surrogate",
     replaced(L, "did:key:z6MkAlice", R"(\ud800\u0041)")},
    {"lone surrogate in the event",
     replaced(L, R"("role":"member")", R"("role":"\ud83c")")},
    {"bad escape", replaced(L, "did:key:z6MkAlice", R"(did:\x41)")},
    {"non-canonical base64url (unused bits)",
     replaced(L, "T19wzXOL9E0hHn795P2QKCLfqjDT4exNy4a2YmYKIXI",
              "T19wzXOL9E0hHn795P2QKCLfqjDT4exNy4a2YmYKIXJ")},
    {"padded base64url",
     replaced(L, "T19wzXOL9E0hHn795P2QKCLfqjDT4exNy4a2YmYKIXI",
              "T19wzXOL9E0hHn795P2QKCLfqjDT4exNy4a2YmYKIXI=")},
    {"standard alphabet",
     replaced(L, "604-OeW7BNxo2fkvfB4hnKBGZ-Amq8vmLyLV11LxCbM",
              "604+OeW7BNxo2fkvfB4hnKBGZ+Amq8vmLyLV11LxCbM")},
    {"short hash", replaced(L, "xJRP5wM7dOF4Vq6Z9tU9n-D5G6pMW2MHXa8zOv_-5bM",
                            "xJRP5wM7dOF4Vq6Z9tU9n-D5G6pMW2MHXa8zOv_-5b")},
    {"null actor hash",
     replaced(L, R"("T19wzXOL9E0hHn795P2QKCLfqjDT4exNy4a2YmYKIXI")", "null")},
    {"null prev_hash",
     replaced(L, R"("Eb5dK9c7gOzPQp9HGyjMJ8HV-iwbO1YwLUdnia-UgUE")", "null")},
    {"bad UUID (not hex)", replaced(L, "bd706120-33e6-4787-adc2-eb036844859e",
                                    "bd70612g-33e6-4787-adc2-eb036844859e")},
    {"bad UUID (hyphen moved)",
     replaced(L, "bd706120-33e6-4787-adc2-eb036844859e",
              "bd70612-033e6-4787-adc2-eb036844859e")},
    {"bad UUID (braces)", replaced(L, "bd706120-33e6-4787-adc2-eb036844859e",
                                   "{bd706120-33e6-4787-adc2-eb036844859e}")},
    {"bad UUID (no hyphens)",
     replaced(L, "bd706120-33e6-4787-adc2-eb036844859e",
              "bd70612033e64787adc2eb036844859e")},
    {"bad key id", replaced(L, "3b0a9c52-6d1e-4f0a-9b7e-2c4d5e6f7a81",
                            "3b0a9c52-6d1e-4f0a-9b7e-2c4d5e6f7a8")},
    {"bad UUID (padded with hyphens)",
     replaced(L, "bd706120-33e6-4787-adc2-eb036844859e",
              "bd706120-33e6-4787-adc2-eb036844----")},
    {"bad UUID (hyphens for a byte inside a group)",
     replaced(L, "bd706120-33e6-4787-adc2-eb036844859e",
              "bd70--20-33e6-4787-adc2-eb036844859e")},
    {"bad key id (padded with hyphens)",
     replaced(L, "3b0a9c52-6d1e-4f0a-9b7e-2c4d5e6f7a81",
              "3b0a9c52-6d1e-4f0a-9b7e-2c4d5e6f----")},
    {"trailing bytes", L + "x"},
    {"trailing object", L + "{}"},
    {"trailing comma", L + ","},
    {"leading-zero integer",
     replaced(L, R"("event_version":1,)", R"("event_version":01,)")},
    {"negative integer",
     replaced(L, R"("event_version":1,)", R"("event_version":-1,)")},
    {"fraction",
     replaced(L, R"("schema_version":2,)", R"("schema_version":2.0,)")},
    {"exponent",
     replaced(L, R"("schema_version":2,)", R"("schema_version":2e0,)")},
    {"integer as string",
     replaced(L, R"("schema_version":2,)", R"("schema_version":"2",)")},
    {"version too large for u32",
     replaced(L, R"("event_version":1,)", R"("event_version":4294967296,)")},
    {"version far too large",
     replaced(L, R"("schema_version":2,)",
              R"("schema_version":184467440737095516160,)")},
    {"timestamp with lower-case z",
     replaced(L, "2026-01-01T00:00:00.500Z", "2026-01-01T00:00:00.500z")},
    {"timestamp with an offset",
     replaced(L, "2026-01-01T00:00:00.500Z", "2026-01-01T00:00:00.500+00:00")},
    {"timestamp not a string",
     replaced(L, R"("2026-01-01T00:00:00.500Z")", "1767225600")},
    {"unterminated", L.substr(0, L.size() - 1)},
  };
  for (const auto& c : cases) {
    CAPTURE(c.what);
    REQUIRE(c.line != L);
    CHECK_FALSE(parses(c.line));
  }
}

TEST_CASE("audit: parse_envelope controls: near misses that are valid")
{
  const std::string L = basic_line(2);
  REQUIRE(parses(L));
  // The largest u32 parses (the verifier refuses it as a schema later).
  audit::Envelope e;
  std::string why;
  REQUIRE(audit::parse_envelope(
    replaced(L, R"("event_version":1,)", R"("event_version":4294967295,)"), e,
    why));
  CHECK(e.event_version == 4294967295U);
  // A surrogate pair escape decodes to one code point.
  REQUIRE(audit::parse_envelope(
    replaced(L, "did:key:z6MkAlice", R"(did:key:\ud83c\udf31)"), e, why));
  CHECK(e.target_plain == "did:key:\xF0\x9F\x8C\xB1");
  // Upper-case UUID hex is accepted and decodes alike.
  REQUIRE(
    audit::parse_envelope(replaced(L, "bd706120-33e6-4787-adc2-eb036844859e",
                                   "BD706120-33E6-4787-ADC2-EB036844859E"),
                          e, why));
  CHECK(e.event_id_bytes[0] == 0xbd);
  // Unknown data members of any JSON type are skipped.
  REQUIRE(audit::parse_envelope(
    replaced(L, R"({"role":"member"})",
             R"({"x":[1,{"y":null}],"role":"member","z":-1.5e3})"),
    e, why));
  CHECK(e.role == "member");
  // Non-ASCII UTF-8 is fine.
  REQUIRE(
    audit::parse_envelope(replaced(L, R"("role":"member")",
                                   "\"role\":\"caf\xC3\xA9 \xF0\x9F\x8C\xB1\""),
                          e, why));
  CHECK(e.role == "caf\xC3\xA9 \xF0\x9F\x8C\xB1");
}

TEST_CASE("audit: escaped strings decode like plain ones, in a reused Envelope")
{
  const std::string L = basic_line(2);
  audit::Envelope plain;
  std::string why;
  REQUIRE(audit::parse_envelope(L, plain, why));
  // One character of each string member spelled as an escape.
  std::string escaped = L;
  for (const auto& [from, to] :
       std::vector<std::pair<std::string, std::string>>{
         {R"("bd706120-)", R"("\u0062d706120-)"},
         {R"("2026-01-01T)", R"("\u0032026-01-01T)"},
         {R"("3b0a9c52-)", R"("\u0033b0a9c52-)"},
         {R"("T19wzXOL)", R"("\u005419wzXOL)"},
         {R"("604-OeW7)", R"("\u0036\u0030\u0034-OeW7)"},
         {R"("Eb5dK9c7)", R"("\u0045b5dK9c7)"},
         {R"("xJRP5wM7)", R"("\u0078JRP5wM7)"},
         {R"("MemberAdded")", R"("Member\u0041dded")"},
         {R"("role":"member")", R"("r\u006fle":"memb\u0065r")"}}) {
    escaped = replaced(escaped, from, to);
  }
  audit::Envelope e;
  // Alternate plain and escaped lines through the same Envelope, with a
  // non-string role in between that must leave the role absent.
  const std::string not_string =
    replaced(L, R"("role":"member")", R"("role":5)");
  const std::vector<const std::string*> order{&escaped, &not_string, &L,
                                              &escaped};
  for (const std::string* line : order) {
    REQUIRE_MESSAGE(audit::parse_envelope(*line, e, why), why);
    if (line == &not_string) {
      CHECK_FALSE(e.role.has_value());
      continue;
    }
    CHECK(e.event_id == plain.event_id);
    CHECK(e.event_id_bytes == plain.event_id_bytes);
    CHECK(e.time == plain.time);
    CHECK(e.key_id == plain.key_id);
    CHECK(e.key_id_bytes == plain.key_id_bytes);
    CHECK(e.actor_hash_text == plain.actor_hash_text);
    CHECK(e.actor_hash == plain.actor_hash);
    CHECK(e.actor_plain == plain.actor_plain);
    CHECK(e.target_hash_text == plain.target_hash_text);
    CHECK(e.target_hash == plain.target_hash);
    CHECK(e.target_plain == plain.target_plain);
    CHECK(e.prev_hash == plain.prev_hash);
    CHECK(e.entry_hash_text == plain.entry_hash_text);
    CHECK(e.entry_hash == plain.entry_hash);
    CHECK(e.event_type == "MemberAdded");
    CHECK(e.role == "member");
  }
}

TEST_CASE("audit: a version-1 row parses without chain fields")
{
  const auto lines = test::lines_of(test::data("legacy-prefix.audit.jsonl"));
  REQUIRE(lines.size() >= 3);
  audit::Envelope e;
  std::string why;
  REQUIRE(audit::parse_envelope(lines[0], e, why));
  CHECK(e.schema_version == 1);
  CHECK_FALSE(e.chained);
  REQUIRE(audit::parse_envelope(lines[2], e, why));
  CHECK(e.schema_version == 2);
  CHECK(e.chained);
}

TEST_CASE("audit: chain_digest of every basic line equals its entry_hash")
{
  for (const char* file :
       {"basic.audit.jsonl", "precision.audit.jsonl", "redacted.audit.jsonl"}) {
    const auto lines = test::lines_of(test::data(file));
    REQUIRE_FALSE(lines.empty());
    for (std::size_t i = 0; i < lines.size(); ++i) {
      CAPTURE(file);
      CAPTURE(i + 1);
      audit::Envelope e;
      std::string why;
      REQUIRE(audit::parse_envelope(lines[i], e, why));
      CHECK(util::base64url_encode(audit::chain_digest(e)) ==
            e.entry_hash_text);
    }
  }
  const auto rotated = test::lines_of(test::fixture("rotated.audit.jsonl"));
  for (const auto& line : rotated) {
    audit::Envelope e;
    std::string why;
    REQUIRE(audit::parse_envelope(line, e, why));
    CHECK(audit::chain_digest(e) == e.entry_hash);
  }
}

TEST_CASE("audit: chain_digest hashes the event bytes and the canonical time")
{
  const std::string L = basic_line(2);
  audit::Envelope e;
  std::string why;
  std::string line; // e.event_raw views into it: keep it alive
  // Same event value, other bytes: the digest must change (never
  // re-serialised).
  REQUIRE(
    audit::parse_envelope(line = replaced(L, R"({"type":"MemberAdded","data")",
                                          R"({"type":"MemberAdded", "data")"),
                          e, why));
  CHECK(audit::chain_digest(e) != e.entry_hash);
  // Same instant, other spelling: the digest renders the time itself.
  REQUIRE(audit::parse_envelope(
    line = replaced(L, "2026-01-01T00:00:00.500Z", "2026-01-01T00:00:00.5Z"), e,
    why));
  CHECK(audit::chain_digest(e) == e.entry_hash);
  // Plaintexts are outside the digest: redaction keeps it.
  REQUIRE(audit::parse_envelope(
    line = replaced(L, R"("did:key:z6MkAlice")", "null"), e, why));
  CHECK(audit::chain_digest(e) == e.entry_hash);
  // Every hashed field counts.
  for (const auto& [from, to] :
       std::vector<std::pair<std::string, std::string>>{
         {R"("event_version":1)", R"("event_version":7)"},
         {"2026-01-01T00:00:00.500Z", "2026-01-01T00:00:00.501Z"},
         {"bd706120-33e6", "bd706121-33e6"},
         {"3b0a9c52-6d1e", "3b0a9c53-6d1e"},
         {"T19wzXOL9E0hHn795P2QKCLfqjDT4exNy4a2YmYKIXI",
          "U19wzXOL9E0hHn795P2QKCLfqjDT4exNy4a2YmYKIXI"},
         {R"("604-OeW7BNxo2fkvfB4hnKBGZ-Amq8vmLyLV11LxCbM")", "null"},
         {"Eb5dK9c7gOzPQp9HGyjMJ8HV-iwbO1YwLUdnia-UgUE",
          "Fb5dK9c7gOzPQp9HGyjMJ8HV-iwbO1YwLUdnia-UgUE"},
         {R"("role":"member")", R"("role":"membe")"},
       }) {
    CAPTURE(from);
    REQUIRE(audit::parse_envelope(line = replaced(L, from, to), e, why));
    CHECK(audit::chain_digest(e) != e.entry_hash);
  }
}

TEST_CASE("audit: an event_id padded with hyphens is unparseable, not a second "
          "spelling")
{
  // The id the padded spelling would be read as if the missing digits were
  // zeros, in a line whose entry_hash is recomputed for it, so that the
  // canonical spelling verifies and only the spelling differs.
  const std::string id = "bd706120-33e6-4787-adc2-eb036844859e";
  const std::string zeros = "bd706120-33e6-4787-adc2-eb0368440000";
  const std::string padded = "bd706120-33e6-4787-adc2-eb036844----";
  std::string canonical = replaced(basic_line(2), id, zeros);
  audit::Envelope e;
  std::string why;
  REQUIRE_MESSAGE(audit::parse_envelope(canonical, e, why), why);
  canonical = replaced(canonical, e.entry_hash_text,
                       util::base64url_encode(audit::chain_digest(e)));
  const util::Digest prev = e.prev_hash;

  audit::Verifier control(nullptr, prev, true, 1U << 20U);
  std::string detail;
  CHECK_FALSE(control.check(canonical, e, detail).has_value());
  CHECK(e.event_id == zeros);

  const std::string line = replaced(canonical, zeros, padded);
  CHECK_FALSE(audit::parse_envelope(line, e, why));
  CHECK(why == "event_id missing or not a UUID");
  audit::Verifier v(nullptr, prev, true, 1U << 20U);
  CHECK(v.check(line, e, detail) == "unparseable");
  CHECK(detail == "event_id missing or not a UUID");

  // The same for the audit key id.
  const std::string key_line =
    replaced(canonical, "3b0a9c52-6d1e-4f0a-9b7e-2c4d5e6f7a81",
             "3b0a9c52-6d1e-4f0a-9b7e-2c4d5e6f----");
  CHECK_FALSE(audit::parse_envelope(key_line, e, why));
  CHECK(why == "audit_key_id missing or not a UUID");
  audit::Verifier k(nullptr, prev, true, 1U << 20U);
  CHECK(k.check(key_line, e, detail) == "unparseable");
}

namespace {

// Line 2 of the basic vector with its event replaced by `event`.
audit::Envelope with_event(const std::string& event, bool& ok)
{
  const std::string line = replaced(
    basic_line(2), R"({"type":"MemberAdded","data":{"role":"member"}})", event);
  audit::Envelope e;
  std::string why;
  ok = audit::parse_envelope(line, e, why);
  return e;
}

} // namespace

TEST_CASE("audit: MemberUpdated's consent change is read from its changes")
{
  struct Case
  {
    const char* data;
    bool changed;
    std::optional<bool> value;
  };
  const std::vector<Case> cases{
    {R"({"fieldsChanged":["publishConsent"],"changes":[{"field":"publishConsent","old":false,"new":true}]})",
     true, true},
    {R"({"changes":[{"new":false,"field":"publishConsent"}],"fieldsChanged":["displayName","publishConsent"]})",
     true, false},
    // No changes item, or a value that is not a boolean: none.
    {R"({"fieldsChanged":["publishConsent"]})", true, std::nullopt},
    {R"({"fieldsChanged":["publishConsent"],"changes":[{"field":"publishConsent","new":"yes"}]})",
     true, std::nullopt},
    {R"({"fieldsChanged":["publishConsent"],"changes":[{"field":"publishConsent"}]})",
     true, std::nullopt},
    // Two items that disagree say nothing; two that agree say it.
    {R"({"fieldsChanged":["publishConsent"],"changes":[{"field":"publishConsent","new":true},{"field":"publishConsent","new":false}]})",
     true, std::nullopt},
    {R"({"fieldsChanged":["publishConsent"],"changes":[{"field":"publishConsent","new":true},{"field":"publishConsent","new":true}]})",
     true, true},
    // Other items and other shapes are passed over.
    {R"({"fieldsChanged":["publishConsent"],"changes":[1,null,{"field":"displayName","new":false},{"field":"publishConsent","new":false,"extra":{"a":[1]}}]})",
     true, false},
    {R"({"fieldsChanged":["displayName"],"changes":[{"field":"publishConsent","new":true}]})",
     false, true},
    {R"({"fieldsChanged":"publishConsent"})", false, std::nullopt},
    {R"({"fieldsChanged":[7,"publishConsent"],"changes":{}})", true,
     std::nullopt},
  };
  for (const auto& c : cases) {
    CAPTURE(c.data);
    bool ok = false;
    const auto e = with_event(
      std::string(R"({"type":"MemberUpdated","data":)") + c.data + "}", ok);
    REQUIRE(ok);
    CHECK(e.consent_changed == c.changed);
    CHECK(e.consent_new == c.value);
  }
}

TEST_CASE("audit: ambiguous consent and rotation data are unparseable")
{
  for (const char* data :
       {R"({"fieldsChanged":[],"fieldsChanged":["publishConsent"]})",
        R"({"changes":[],"changes":[]})",
        R"({"changes":[{"field":"publishConsent","field":"x"}]})",
        R"({"changes":[{"new":true,"new":false}]})",
        R"({"oldDid":"did:key:a","oldDid":"did:key:b"})",
        R"({"changes":[{"field":"publishConsent","new":tru}]})"}) {
    CAPTURE(data);
    bool ok = true;
    with_event(std::string(R"({"type":"MemberUpdated","data":)") + data + "}",
               ok);
    CHECK_FALSE(ok);
  }
}

TEST_CASE("audit: DidRotated's DIDs are read from its data")
{
  bool ok = false;
  auto e = with_event(
    R"({"type":"DidRotated","data":{"oldDid":"did:key:zOld","newDid":"did:key:zNew","method":"did:key","rotationReason":"routine"}})",
    ok);
  REQUIRE(ok);
  CHECK(e.old_did == "did:key:zOld");
  CHECK(e.new_did == "did:key:zNew");
  e = with_event(R"({"type":"DidRotated","data":{"oldDid":7,"newDid":null}})",
                 ok);
  REQUIRE(ok);
  CHECK_FALSE(e.old_did.has_value());
  CHECK_FALSE(e.new_did.has_value());
}
