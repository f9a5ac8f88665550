// parse_policy / load_policy (vtc-sync.toml(5), [policy]): every legal value of
// every key is accepted, missing keys take the defaults, and anything else is a
// policy error (ConfigError, exit 78) whose message names the key.

#include "policy/policy_source.hpp"
#include "util/error.hpp"

#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

using namespace vtc;
using core::Disposition;

namespace {

const std::string k_origin = "policy.file /etc/vtc-sync/registry.json";

const std::vector<std::pair<std::string, Disposition>> k_all{
  {"purge", Disposition::purge},
  {"tombstone", Disposition::tombstone},
  {"historical", Disposition::historical}};

core::Policy parse(const std::string& text)
{
  return policy::parse_policy(text, k_origin);
}

// The ConfigError message parse_policy throws; fails the test when it
// returns or throws anything else.
std::string rejection(const std::string& text)
{
  try {
    (void)parse(text);
  } catch (const ConfigError& e) {
    CHECK(e.code() == ExitCode::config);
    return e.what();
  } catch (const std::exception& e) {
    FAIL("not a ConfigError: " << e.what());
    return {};
  }
  FAIL("accepted: " << text);
  return {};
}

void check_defaults(const core::Policy& p)
{
  CHECK(p.publish_on_join);
  CHECK(p.min_disposition == Disposition::purge);
  CHECK(p.default_departure == Disposition::tombstone);
  CHECK(p.departure_options ==
        std::vector<Disposition>{Disposition::purge, Disposition::tombstone,
                                 Disposition::historical});
}

// A temporary file removed at scope exit.
struct TempFile
{
  std::string path;
  explicit TempFile(const std::string& content)
  {
    char name[] = "/tmp/vtc-policy-test-XXXXXX";
    const int fd = ::mkstemp(name);
    REQUIRE(fd >= 0);
    ::close(fd);
    path = name;
    std::ofstream(path, std::ios::binary) << content;
  }
  ~TempFile() { std::remove(path.c_str()); }
};

} // namespace

TEST_CASE("policy: an empty object is all defaults")
{
  check_defaults(parse("{}"));
  check_defaults(parse(" \n{ }\n"));
}

TEST_CASE("policy: publish_on_join takes true and false, others default")
{
  for (const bool v : {true, false}) {
    CAPTURE(v);
    const auto p = parse(std::string(R"({"publish_on_join":)") +
                         (v ? "true" : "false") + "}");
    CHECK(p.publish_on_join == v);
    CHECK(p.min_disposition == Disposition::purge);
    CHECK(p.default_departure == Disposition::tombstone);
    CHECK(p.departure_options.size() == 3);
  }
}

TEST_CASE("policy: min_disposition and default_departure take each value")
{
  for (const auto& [name, d] : k_all) {
    CAPTURE(name);
    auto p = parse(R"({"min_disposition":")" + name + "\"}");
    CHECK(p.min_disposition == d);
    CHECK(p.default_departure == Disposition::tombstone);
    CHECK(p.publish_on_join);

    p = parse(R"({"default_departure":")" + name + "\"}");
    CHECK(p.default_departure == d);
    CHECK(p.min_disposition == Disposition::purge);
    CHECK(p.departure_options.size() == 3);
  }
}

TEST_CASE("policy: departure_options takes any non-empty set, in its order")
{
  const std::vector<std::vector<int>> sets{
    {0}, {1}, {2}, {0, 1}, {1, 0}, {1, 2}, {2, 0}, {0, 1, 2}, {2, 1, 0}};
  for (const auto& set : sets) {
    std::string text = R"({"departure_options":[)";
    std::vector<Disposition> want;
    for (std::size_t i = 0; i < set.size(); ++i) {
      // Appended piece by piece: g++ 12 -O2 warns (-Wrestrict, a false
      // positive) about the temporary a chain of operator+ would build.
      if (i > 0) {
        text += ',';
      }
      text += '"';
      text += k_all[set[i]].first;
      text += '"';
      want.push_back(k_all[set[i]].second);
    }
    text += "]}";
    CAPTURE(text);
    const auto p = parse(text);
    CHECK(p.departure_options == want);
    CHECK(p.default_departure == Disposition::tombstone);
    CHECK(p.min_disposition == Disposition::purge);
    CHECK(p.publish_on_join);
  }
}

TEST_CASE("policy: all four keys together, in any order")
{
  const auto p = parse(R"({
    "departure_options": ["historical", "tombstone"],
    "publish_on_join": false,
    "default_departure": "historical",
    "min_disposition": "tombstone"
  })");
  CHECK_FALSE(p.publish_on_join);
  CHECK(p.min_disposition == Disposition::tombstone);
  CHECK(p.default_departure == Disposition::historical);
  CHECK(
    p.departure_options ==
    std::vector<Disposition>{Disposition::historical, Disposition::tombstone});
}

TEST_CASE("policy: an unknown key is refused, named")
{
  for (const std::string key : {"publishOnJoin", "floor", "Publish_on_join",
                                "min_disposition ", "result"}) {
    CAPTURE(key);
    const auto msg = rejection("{\"" + key + "\":true}");
    CHECK(msg.find("'" + key + "'") != std::string::npos);
    CHECK(msg.find(k_origin) != std::string::npos);
  }
  // Next to valid keys too.
  const auto msg = rejection(R"({"publish_on_join":true,"extra":1})");
  CHECK(msg.find("extra") != std::string::npos);
}

TEST_CASE("policy: wrong types are refused, naming the key")
{
  struct Case
  {
    const char* key;
    const char* text;
  };
  const std::vector<Case> cases{
    {"publish_on_join", R"({"publish_on_join":"true"})"},
    {"publish_on_join", R"({"publish_on_join":"false"})"},
    {"publish_on_join", R"({"publish_on_join":1})"},
    {"publish_on_join", R"({"publish_on_join":0})"},
    {"publish_on_join", R"({"publish_on_join":null})"},
    {"publish_on_join", R"({"publish_on_join":[true]})"},
    {"min_disposition", R"({"min_disposition":0})"},
    {"min_disposition", R"({"min_disposition":2})"},
    {"min_disposition", R"({"min_disposition":null})"},
    {"min_disposition", R"({"min_disposition":["purge"]})"},
    {"min_disposition", R"({"min_disposition":true})"},
    {"default_departure", R"({"default_departure":1})"},
    {"default_departure", R"({"default_departure":{"d":"purge"}})"},
    {"default_departure", R"({"default_departure":false})"},
    {"departure_options", R"({"departure_options":"purge"})"},
    {"departure_options", R"({"departure_options":"purge,tombstone"})"},
    {"departure_options", R"({"departure_options":{"purge":true}})"},
    {"departure_options", R"({"departure_options":null})"},
    {"departure_options", R"({"departure_options":[0]})"},
    {"departure_options", R"({"departure_options":["purge",1]})"},
    {"departure_options", R"({"departure_options":[["purge"]]})"},
  };
  for (const auto& c : cases) {
    const std::string text = c.text;
    CAPTURE(text);
    const auto msg = rejection(c.text);
    CHECK(msg.find(c.key) != std::string::npos);
    CHECK(msg.find(k_origin) != std::string::npos);
  }
}

TEST_CASE(
  "policy: an unknown disposition value is refused, naming key and value")
{
  struct Case
  {
    const char* key;
    const char* value;
    const char* text;
  };
  const std::vector<Case> cases{
    {"min_disposition", "erase", R"({"min_disposition":"erase"})"},
    {"min_disposition", "Purge", R"({"min_disposition":"Purge"})"},
    {"min_disposition", "", R"({"min_disposition":""})"},
    {"default_departure", "delete", R"({"default_departure":"delete"})"},
    {"default_departure", "historical ",
     R"({"default_departure":"historical "})"},
    {"departure_options", "TOMBSTONE",
     R"({"departure_options":["purge","TOMBSTONE"]})"},
    {"departure_options", "none", R"({"departure_options":["none"]})"},
  };
  for (const auto& c : cases) {
    const std::string text = c.text;
    CAPTURE(text);
    const auto msg = rejection(c.text);
    CHECK(msg.find(c.key) != std::string::npos);
    CHECK(msg.find(std::string("'") + c.value + "'") != std::string::npos);
  }
}

TEST_CASE("policy: departure_options must be non-empty and without repeats")
{
  auto msg = rejection(R"({"departure_options":[]})");
  CHECK(msg.find("departure_options") != std::string::npos);

  for (
    const std::string text :
    {R"({"departure_options":["purge","purge"]})",
     R"({"departure_options":["tombstone","historical","tombstone"]})",
     R"({"departure_options":["historical","purge","tombstone","historical"]})"}) {
    CAPTURE(text);
    msg = rejection(text);
    CHECK(msg.find("departure_options") != std::string::npos);
  }
}

TEST_CASE("policy: a key given twice is refused, naming the key")
{
  // Last-one-wins would let the document say two things at once.
  const std::vector<std::pair<std::string, std::string>> cases{
    {"publish_on_join", R"({"publish_on_join":true,"publish_on_join":false})"},
    {"min_disposition",
     R"({"min_disposition":"purge","default_departure":"purge","min_disposition":"purge"})"},
    {"departure_options",
     R"({"departure_options":["purge"],"departure_options":["purge"]})"},
  };
  for (const auto& [key, text] : cases) {
    CAPTURE(text);
    const auto msg = rejection(text);
    CHECK(msg.find(k_origin) != std::string::npos);
    CHECK(msg.find(key) != std::string::npos);
  }
}

TEST_CASE("policy: a document that is not a JSON object is refused")
{
  for (const std::string text : {"[]", "[{}]", R"("publish_on_join")", "null",
                                 "true", "42", R"(["purge"])"}) {
    CAPTURE(text);
    const auto msg = rejection(text);
    CHECK(msg.find(k_origin) != std::string::npos);
  }
}

TEST_CASE("policy: invalid JSON is refused")
{
  for (const std::string text :
       {"", " ", "{", "}", R"({"publish_on_join":true,})",
        R"({"publish_on_join":tru})", R"({publish_on_join:true})",
        R"({'publish_on_join':true})", R"({"publish_on_join":true} {})",
        R"({} x)", "/* c */ {}", "{\"min_disposition\":\"purge\xff\"}",
        R"({"publish_on_join":true)"}) {
    CAPTURE(text);
    const auto msg = rejection(text);
    CHECK(msg.find(k_origin) != std::string::npos);
  }
}

TEST_CASE("policy: load_policy reads the file, or gives the defaults")
{
  policy::PolicyOptions none;
  CHECK_FALSE(policy::configured(none));
  check_defaults(policy::load_policy(none));

  TempFile f(R"({"publish_on_join":false,"min_disposition":"historical"})");
  policy::PolicyOptions o;
  o.file = f.path;
  CHECK(policy::configured(o));
  const auto p = policy::load_policy(o);
  CHECK_FALSE(p.publish_on_join);
  CHECK(p.min_disposition == Disposition::historical);

  // The file's errors name the file.
  TempFile bad(R"({"publish_on_join":"no"})");
  o.file = bad.path;
  try {
    (void)policy::load_policy(o);
    FAIL("accepted");
  } catch (const ConfigError& e) {
    CHECK(std::string(e.what()).find(bad.path) != std::string::npos);
    CHECK(std::string(e.what()).find("publish_on_join") != std::string::npos);
  }
}

TEST_CASE("policy: load_policy on a missing file is a ConfigError naming it")
{
  policy::PolicyOptions o;
  o.file = "/nonexistent/vtc-sync/registry-policy.json";
  try {
    (void)policy::load_policy(o);
    FAIL("a missing policy file was accepted");
  } catch (const ConfigError& e) {
    CHECK(e.code() == ExitCode::config);
    CHECK(std::string(e.what()).find(o.file) != std::string::npos);
  }
  CHECK(policy::file_stamp(o) == "missing");
}

TEST_CASE("policy: file_stamp changes when the file changes")
{
  policy::PolicyOptions o;
  CHECK(policy::file_stamp(o).empty());
  o.opa_url = "http://127.0.0.1:8181/v1/data/vtc/registry";
  CHECK(policy::file_stamp(o).empty());

  TempFile f(R"({"publish_on_join":false})");
  policy::PolicyOptions p;
  p.file = f.path;
  const auto before = policy::file_stamp(p);
  CHECK_FALSE(before.empty());
  CHECK(policy::file_stamp(p) == before);
  std::ofstream(f.path, std::ios::binary | std::ios::trunc)
    << R"({"publish_on_join":true})";
  CHECK(policy::file_stamp(p) != before);
}

TEST_CASE("policy: OPA that cannot be asked is a ConfigError")
{
  policy::PolicyOptions o;
  o.connect_timeout_seconds = 2;
  o.timeout_seconds = 2;
  // Plain http is allowed only to loopback (vtc-sync(1), THE REGISTRY).
  o.opa_url = "http://opa.example/v1/data/vtc/registry";
  try {
    (void)policy::load_policy(o);
    FAIL("cleartext OPA off loopback was accepted");
  } catch (const ConfigError& e) {
    CHECK(std::string(e.what()).find("loopback") != std::string::npos);
  }
  // Nothing listens on the discard port of loopback.
  o.opa_url = "http://127.0.0.1:9/v1/data/vtc/registry";
  try {
    (void)policy::load_policy(o);
    FAIL("an unreachable OPA was accepted");
  } catch (const ConfigError& e) {
    CHECK(std::string(e.what()).find("policy.opa_url") != std::string::npos);
  }
}
