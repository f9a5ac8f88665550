#include "core/timestamp.hpp"
#include "registry/record.hpp"
#include "temp_dir.hpp"
#include "util/error.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

using namespace vtc;
using nlohmann::json;
using nlohmann::ordered_json;

namespace {

const std::string k_data = VTC_TEST_DATA;

ordered_json basic_registry()
{
  return ordered_json::parse(test::read_file(k_data + "/basic.registry.json"));
}

registry::RecordKey default_key(const std::string& vtc_did)
{
  return {vtc_did, "recognise", "trust-graph", "recognition"};
}

core::TimeNs at(const char* text)
{
  const auto t = core::parse_rfc3339(text);
  REQUIRE(t.has_value());
  return *t;
}

// The member states the walk gives each member of basic.audit.jsonl
// (vtc-sync(1), MEMBERS AND JOBS; see basic.expected.json).
struct MemberCase
{
  std::string did;
  core::MemberState state;
};

std::vector<MemberCase> basic_members()
{
  using core::MemberStatus;
  return {
    {"did:key:z6MkAlice",
     {MemberStatus::departed, "", at("2026-01-01T00:00:00.500Z"), {}}},
    {"did:key:z6MkBob",
     {MemberStatus::active, "moderator", at("2026-01-01T00:00:00.750Z"), {}}},
    {"did:web:dave.example",
     {MemberStatus::departed, "", at("2026-01-01T00:00:01.750Z"),
      at("2026-01-01T00:00:02.500Z")}},
    {"did:key:z6MkErin",
     {MemberStatus::active, "issuer", at("2026-01-01T00:00:03Z"), {}}},
  };
}

} // namespace

TEST_CASE("registry: record_id matches the ids of basic.registry.json")
{
  const ordered_json doc = basic_registry();
  const auto key = default_key(doc.at("vtc_did").get<std::string>());
  REQUIRE(doc.at("records").size() == 4);
  for (const auto& [id, record] : doc.at("records").items()) {
    const std::string entity = record.at("entity_id").get<std::string>();
    CAPTURE(entity);
    CHECK(registry::record_id(key, entity) == id);
  }
}

TEST_CASE("registry: record_id is the SHA-256 of the four fields joined by LF")
{
  // sha256("a\nb\nc\nd"), computed with Python's hashlib.
  const registry::RecordKey key{"a", "c", "d", "ignored"};
  CHECK(registry::record_id(key, "b") ==
        "f729ae0cbcc8241ebb6918af712a88d5ca2c13f7fbe08f809aa297bfdf99fbe4");
}

TEST_CASE("registry: record_id refuses a field containing LF")
{
  const registry::RecordKey good = default_key("did:web:vtc.example");
  CHECK_NOTHROW(registry::record_id(good, "did:key:z6MkA"));
  CHECK_THROWS_AS(registry::record_id(good, "did:key:z6\nMkA"), ConfigError);
  CHECK_THROWS_AS(registry::record_id(good, "did:key:z6MkA\n"), ConfigError);
  auto k = good;
  k.authority_id = "did:web:vtc.example\n";
  CHECK_THROWS_AS(registry::record_id(k, "did:key:z6MkA"), ConfigError);
  k = good;
  k.action = "recog\nnise";
  CHECK_THROWS_AS(registry::record_id(k, "did:key:z6MkA"), ConfigError);
  k = good;
  k.resource = "\ntrust-graph";
  CHECK_THROWS_AS(registry::record_id(k, "did:key:z6MkA"), ConfigError);
  bool thrown = false;
  try {
    registry::record_id(good, "x\ny");
  } catch (const Error& e) {
    thrown = true;
    CHECK(e.code() == ExitCode::config);
  }
  CHECK(thrown);
}

TEST_CASE("registry: record_body equals the bodies of basic.registry.json")
{
  const ordered_json doc = basic_registry();
  const auto key = default_key(doc.at("vtc_did").get<std::string>());
  for (const auto& m : basic_members()) {
    CAPTURE(m.did);
    const std::string id = registry::record_id(key, m.did);
    REQUIRE(doc.at("records").contains(id));
    const ordered_json& expected = doc.at("records").at(id);
    const std::string body = registry::record_body(key, m.did, m.state);
    // As JSON values…
    CHECK(json::parse(body) == json{{"record", json::parse(expected.dump())}});
    // …and byte for byte: compact, members in the documented order.
    CHECK(body == ordered_json{{"record", expected}}.dump());
  }
}

TEST_CASE("registry: record_body leaves unknown times and departed roles out")
{
  const auto key = default_key("did:web:vtc.example");
  core::MemberState active{core::MemberStatus::active, "member", {}, {}};
  auto body = json::parse(registry::record_body(key, "did:key:z6MkA", active));
  CHECK(body.at("record").at("context") ==
        json{{"status", "active"}, {"role", "member"}});
  CHECK(body.at("record").at("recognized") == true);

  // A departed member keeps no role, and a tombstone carries no activeTo.
  core::MemberState departed{
    core::MemberStatus::departed, "member", at("2026-03-01T10:00:00Z"), {}};
  body = json::parse(registry::record_body(key, "did:key:z6MkA", departed));
  CHECK(body.at("record").at("context") ==
        json{{"status", "departed"}, {"activeFrom", "2026-03-01T10:00:00Z"}});
  CHECK(body.at("record").at("recognized") == false);
  CHECK(body.at("record").at("authority_id") == "did:web:vtc.example");
}
