#include "audit/keys.hpp"
#include "fixtures.hpp"
#include "util/error.hpp"

#include <doctest/doctest.h>
#include <string>
#include <sys/stat.h>
#include <vector>

using namespace vtc;

namespace {

constexpr const char* k_id1 = "3b0a9c52-6d1e-4f0a-9b7e-2c4d5e6f7a81";
constexpr const char* k_id2 = "9e8d7c6b-5a49-4382-8170-6f5e4d3c2b1a";
constexpr const char* k_key1 = "XV1dXV1dXV1dXV1dXV1dXV1dXV1dXV1dXV1dXV1dXV0";

std::string one_key(const std::string& id, const std::string& key)
{
  return R"({"keys":[{"key_id":")" + id + R"(","key":")" + key + R"("}]})";
}

} // namespace

TEST_CASE("audit: KeyRing parses basic.keys.json")
{
  const auto ring = audit::KeyRing::parse(
    test::read_file(test::data("basic.keys.json")), "basic.keys.json");
  CHECK(ring.size() == 2);
  const auto id1 = audit::parse_uuid(k_id1);
  const auto id2 = audit::parse_uuid(k_id2);
  const auto other = audit::parse_uuid("00000000-0000-4000-8000-000000000000");
  REQUIRE(id1);
  REQUIRE(id2);
  REQUIRE(other);
  REQUIRE(ring.find(*id1) != nullptr);
  REQUIRE(ring.find(*id2) != nullptr);
  CHECK(ring.find(*other) == nullptr);
  // The key is the decoded 32 bytes: HMAC of Alice's DID under key 1 is the
  // target_did_hash of basic line 2.
  CHECK(util::base64url_encode(ring.find(*id1)->mac("did:key:z6MkAlice")) ==
        "604-OeW7BNxo2fkvfB4hnKBGZ-Amq8vmLyLV11LxCbM");
  CHECK(util::base64url_encode(ring.find(*id2)->mac("did:key:z6MkAlice")) ==
        "rGkV6ng7bBaPniF7y4dWHBwXS_zUXBnP4qQe712tSok");
}

TEST_CASE("audit: KeyRing::parse rejects malformed key files")
{
  const std::vector<std::pair<const char*, std::string>> bad{
    {"not JSON", "{"},
    {"empty", ""},
    {"not an object", "[]"},
    {"no keys member", "{}"},
    {"keys not an array", R"({"keys":{}})"},
    {"no keys", R"({"keys":[]})"},
    {"extra top-level member", R"({"keys":[{"key_id":")" + std::string(k_id1) +
                                 R"(","key":")" + k_key1 + R"("}],"x":1})"},
    {"key not an object", R"({"keys":["abc"]})"},
    {"key_id missing",
     R"({"keys":[{"key":")" + std::string(k_key1) + R"("}]})"},
    {"key missing", R"({"keys":[{"key_id":")" + std::string(k_id1) + R"("}]})"},
    {"extra member in a key", R"({"keys":[{"key_id":")" + std::string(k_id1) +
                                R"(","key":")" + k_key1 +
                                R"(","alg":"hs256"}]})"},
    {"key_id not a UUID", one_key("3b0a9c52-6d1e-4f0a-9b7e", k_key1)},
    {"key_id not a string",
     R"({"keys":[{"key_id":1,"key":")" + std::string(k_key1) + R"("}]})"},
    {"key not a string",
     R"({"keys":[{"key_id":")" + std::string(k_id1) + R"(","key":32}]})"},
    {"key of 16 bytes", one_key(k_id1, "AAECAwQFBgcICQoLDA0ODw")},
    {"key padded", one_key(k_id1, std::string(k_key1) + "=")},
    {"key in the standard alphabet",
     one_key(k_id1, "+V1dXV1dXV1dXV1dXV1dXV1dXV1dXV1dXV1dXV1dXV0")},
    {"key not canonical",
     one_key(k_id1, "XV1dXV1dXV1dXV1dXV1dXV1dXV1dXV1dXV1dXV1dXV1")},
    {"duplicate key_id", R"({"keys":[{"key_id":")" + std::string(k_id1) +
                           R"(","key":")" + k_key1 + R"("},{"key_id":")" +
                           k_id1 + R"(","key":")" + k_key1 + R"("}]})"},
  };
  for (const auto& [what, text] : bad) {
    CAPTURE(what);
    CHECK_THROWS_AS(audit::KeyRing::parse(text, "keys.json"), ConfigError);
  }
  // Control: the same shape with good values parses.
  CHECK(audit::KeyRing::parse(one_key(k_id1, k_key1), "keys.json").size() == 1);
}

TEST_CASE("audit: KeyRing::load applies the secret-file rule")
{
  test::TempDir dir;
  const std::string path =
    dir.write("keys.json", test::read_file(test::data("basic.keys.json")));
  REQUIRE(::chmod(path.c_str(), 0644) == 0);
  CHECK_THROWS_AS(audit::KeyRing::load(path), ConfigError);
  REQUIRE(::chmod(path.c_str(), 0600) == 0);
  CHECK(audit::KeyRing::load(path).size() == 2);
  CHECK_THROWS_AS(audit::KeyRing::load(dir.file("missing.json")), ConfigError);
}
