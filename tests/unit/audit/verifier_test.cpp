#include "audit/verifier.hpp"
#include "fixtures.hpp"

#include <doctest/doctest.h>
#include <optional>
#include <string>
#include <vector>

using namespace vtc;

namespace {

constexpr const char* k_key_a = "3b0a9c52-6d1e-4f0a-9b7e-2c4d5e6f7a81";
constexpr const char* k_key_b = "9e8d7c6b-5a49-4382-8170-6f5e4d3c2b1a";
constexpr const char* k_admin = "did:key:z6MkAdminExample";
constexpr const char* k_carol = "did:key:z6MkCarol";

// The first line of basic.audit.jsonl with that key and actor.
std::string line_with(const std::vector<std::string>& lines, const char* key,
                      const char* actor)
{
  for (const auto& l : lines) {
    if (l.find(key) != std::string::npos &&
        l.find(std::string("\"actor_did_plain\":\"") + actor + '"') !=
          std::string::npos) {
      return l;
    }
  }
  FAIL("no line with key " << key << " and actor " << actor);
  return {};
}

audit::Envelope parsed(const std::string& line)
{
  audit::Envelope e;
  std::string why;
  REQUIRE_MESSAGE(audit::parse_envelope(line, e, why), why);
  return e;
}

// `line` with its actor_did_hash replaced and its entry_hash recomputed, so
// that only the HMAC check can refuse it.
std::string with_actor_hash(const std::string& line, const std::string& hash)
{
  const audit::Envelope old = parsed(line);
  std::string out = line;
  out.replace(out.find(old.actor_hash_text), old.actor_hash_text.size(), hash);
  const std::string entry =
    util::base64url_encode(audit::chain_digest(parsed(out)));
  out.replace(out.find(old.entry_hash_text), old.entry_hash_text.size(), entry);
  return out;
}

// Checks `first`, then `second` as if it followed it in the chain.
std::optional<std::string> after(const audit::KeyRing& keys,
                                 const std::string& first,
                                 const std::string& second)
{
  audit::Verifier v(&keys, parsed(first).prev_hash, true, 1U << 20U);
  audit::Envelope e;
  std::string detail;
  REQUIRE_FALSE(v.check(first, e, detail).has_value());
  v.reset(parsed(second).prev_hash, true);
  return v.check(second, e, detail);
}

} // namespace

TEST_CASE("audit: each actor HMAC is checked under its own key and DID")
{
  test::TempDir dir;
  const auto keys = test::strict_keys(dir);
  const auto lines = test::lines_of(test::data("basic.audit.jsonl"));
  const std::string admin_a = line_with(lines, k_key_a, k_admin);
  const std::string admin_b = line_with(lines, k_key_b, k_admin);
  const std::string carol_a = line_with(lines, k_key_a, k_carol);
  const std::string admin_hash_a = parsed(admin_a).actor_hash_text;

  // Controls: the unedited lines verify in either order.
  CHECK_FALSE(after(*keys, admin_a, admin_b).has_value());
  CHECK_FALSE(after(*keys, admin_a, carol_a).has_value());
  CHECK_FALSE(after(*keys, admin_b, admin_a).has_value());

  // The same DID right after, under the other key, with the first key's
  // HMAC.
  CHECK(after(*keys, admin_a, with_actor_hash(admin_b, admin_hash_a)) ==
        "hmac");
  // The same key right after, another DID with the previous DID's HMAC.
  CHECK(after(*keys, admin_a, with_actor_hash(carol_a, admin_hash_a)) ==
        "hmac");
}

TEST_CASE("audit: a version-1 row with zero hashes is legacy only where a VTC "
          "serves it")
{
  // A VTC adds prev_hash and entry_hash, both zeros, to a version-1 row.
  const auto lines = test::lines_of(test::data("legacy-prefix.audit.jsonl"));
  std::string served = lines.front();
  REQUIRE(served.find("\"schema_version\":1") != std::string::npos);
  const std::string zeros(43, 'A');
  served.insert(served.find("\"event\":"), "\"prev_hash\":\"" + zeros +
                                             "\",\"entry_hash\":\"" + zeros +
                                             "\",");
  audit::Envelope e;
  std::string detail;

  audit::Verifier file(nullptr, {}, false, 1U << 20U);
  CHECK(file.check(served, e, detail) == "unparseable");

  audit::Verifier rest(nullptr, {}, false, 1U << 20U);
  rest.accept_zero_hashes_on_legacy();
  CHECK_FALSE(rest.check(served, e, detail).has_value());
  CHECK(e.schema_version == 1);
  CHECK_FALSE(e.chained);
  CHECK_FALSE(rest.chained());

  // Other hashes on a version-1 row stay refused.
  std::string odd = served;
  odd[odd.find(zeros)] = 'B';
  CHECK(rest.check(odd, e, detail) == "unparseable");
}
