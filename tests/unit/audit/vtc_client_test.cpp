#include "audit/vtc_client.hpp"
#include "util/ed25519.hpp"
#include "util/encoding.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <memory>
#include <string>

using namespace vtc;
using audit::AuditPage;

namespace {

AuditPage split(const std::string& body, bool& ok)
{
  AuditPage page;
  page.body = body;
  ok = audit::split_page(page);
  return page;
}

std::string decode(const std::string& b64u)
{
  const auto text = util::base64url_decode(b64u);
  REQUIRE(text);
  return *text;
}

} // namespace

TEST_CASE("vtc: a page splits into the exact bytes of its items")
{
  bool ok = false;
  const std::string a =
    R"({"event_id":"a","event":{"type":"X","data":{"s":"],}"}}})";
  const std::string b = R"({"event_id":"b","event":{"type":"Y","data":{}}})";
  const auto page =
    split(R"({"items":[)" + a + "," + b + R"(],"next_cursor":"Y3Vyc29y"})", ok);
  REQUIRE(ok);
  REQUIRE(page.items.size() == 2);
  CHECK(page.item(0) == a);
  CHECK(page.item(1) == b);
  CHECK(page.next_cursor == "Y3Vyc29y");

  const auto last = split(R"({"items":[],"next_cursor":null})", ok);
  CHECK(ok);
  CHECK(last.items.empty());
  CHECK(!last.next_cursor);

  // Members in another order, an unknown member, whitespace.
  const auto other =
    split(R"({ "next_cursor" : null , "total_estimate": 3, "items" : [ )" + a +
            " ] }",
          ok);
  REQUIRE(ok);
  REQUIRE(other.items.size() == 1);
  CHECK(other.item(0) == a);
}

TEST_CASE("vtc: a body of another shape is not a page")
{
  for (const std::string& body : {
         std::string(""), std::string("[]"),
         std::string(R"({"items":[]})"),                     // no next_cursor
         std::string(R"({"next_cursor":null})"),             // no items
         std::string(R"({"items":[1],"next_cursor":null})"), // not objects
         std::string(R"({"items":{},"next_cursor":null})"),
         std::string(R"({"items":[],"next_cursor":5})"),
         std::string(R"({"items":[],"items":[],"next_cursor":null})"),
         std::string(R"({"items":[{"a":1}],"next_cursor":null} x)"),
         std::string(R"({"items":[{"a":1],"next_cursor":null})"),
         std::string(R"({"entries":[],"truncated":false})"), // later upstream
       }) {
    CAPTURE(body);
    bool ok = true;
    split(body, ok);
    CHECK(!ok);
  }
}

TEST_CASE("vtc: the id_token is an EdDSA JWS with the claims a VTC checks")
{
  const audit::Identity id{
    std::make_shared<const util::Ed25519Key>(util::Ed25519Key::generate()), ""};
  const audit::Identity me{id.key, util::did_key(id.key->public_key())};
  const std::string token = audit::make_id_token(
    me, "did:web:community.example", "ab12", 1'700'000'000);
  const auto dot1 = token.find('.');
  const auto dot2 = token.find('.', dot1 + 1);
  REQUIRE(dot2 != std::string::npos);
  CHECK(token.find('.', dot2 + 1) == std::string::npos);

  const auto header = nlohmann::json::parse(decode(token.substr(0, dot1)));
  const std::string multibase = me.did.substr(std::string("did:key:").size());
  CHECK(header == nlohmann::json{{"alg", "EdDSA"},
                                 {"typ", "JWT"},
                                 {"kid", me.did + "#" + multibase}});
  const auto claims =
    nlohmann::json::parse(decode(token.substr(dot1 + 1, dot2 - dot1 - 1)));
  CHECK(claims == nlohmann::json{{"iss", me.did},
                                 {"sub", me.did},
                                 {"aud", "did:web:community.example"},
                                 {"nonce", "ab12"},
                                 {"iat", 1'700'000'000},
                                 {"exp", 1'700'000'300}});
  // Ed25519 signs deterministically: the signature is the key's over the
  // first two parts, and no other.
  const auto signature =
    util::base64url_encode(me.key->sign(token.substr(0, dot2)));
  CHECK(token.substr(dot2 + 1) == signature);
  CHECK(decode(token.substr(dot2 + 1)).size() == 64);
}
