#include "registry/listing.hpp"
#include "util/error.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace vtc;

namespace {

const registry::RecordKey k_key{"did:web:community", "recognise", "trust-graph",
                                "recognition"};

std::string rec(const std::string& entity,
                const std::string& resource = "trust-graph")
{
  return R"({"entity_id":")" + entity +
         R"(","authority_id":"did:web:community","action":"recognise","resource":")" +
         resource + R"(","recognized":true})";
}

int code_of(const std::string& body)
{
  try {
    registry::parse_listing(k_key, body, "http://127.0.0.1/x");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("registry listing http://127.0.0.1/x") ==
          0);
    return static_cast<int>(e.code());
  }
  return 0;
}

} // namespace

TEST_CASE(
  "a listing page yields our records with their ids and the next cursor")
{
  const auto page =
    registry::parse_listing(k_key,
                            R"({"records":[)" + rec("did:a") + "," +
                              rec("did:b", "other") + R"(],"nextCursor":"c2"})",
                            "u");
  REQUIRE(page.records.size() == 1); // another resource is not ours
  CHECK(page.records[0].id == registry::record_id(k_key, "did:a"));
  CHECK(page.records[0].record.find("\"did:a\"") != std::string::npos);
  CHECK(page.next_cursor == "c2");

  CHECK(
    registry::parse_listing(k_key, R"({"records":[],"nextCursor":null})", "u")
      .next_cursor.empty());
  CHECK(registry::parse_listing(k_key, R"({"records":[]})", "u")
          .next_cursor.empty());
}

TEST_CASE("a malformed listing page is a protocol error naming the URL")
{
  for (const char* body : {
         "",
         "[]",
         "{\"records\":{}}",
         "{\"nextCursor\":null}",
         "{\"records\":[],\"nextCursor\":5}",
         "{\"records\":[],\"nextCursor\":\"\"}",
         "{\"records\":[7]}",
         "{\"records\":[{\"entity_id\":\"did:a\"}]}",
         "{\"records\":[{\"entity_id\":1,\"authority_id\":\"did:web:"
         "community\","
         "\"action\":\"recognise\",\"resource\":\"trust-graph\"}]}",
       }) {
    CAPTURE(body);
    CHECK(code_of(body) == 76);
  }
}
