#include "config/config.hpp"
#include "config/toml_guard.hpp"
#include "temp_dir.hpp"
#include "util/error.hpp"

#include <cstdint>
#include <doctest/doctest.h>
#include <limits>
#include <map>
#include <optional>
#include <stdlib.h>
#include <string>
#include <unistd.h>
#include <vector>

using namespace vtc::config;

namespace {

const std::string k_origin = "/etc/vtc-sync/vtc-sync.toml";
constexpr auto k_int_max = std::numeric_limits<std::int64_t>::max();

// TOML literals of the three required keys, by full key name.
const std::map<std::string, std::string> k_required = {
  {"vtc.did", R"("did:web:vtc.example")"},
  {"audit.source", R"("/var/log/vtc/audit.jsonl")"},
  {"registry.url", R"("https://registry.example")"},
};

// Returns a config file holding the required keys plus `extra` (full key
// name → TOML literal); an empty literal leaves the key out.
std::string toml_with(const std::map<std::string, std::string>& extra = {})
{
  std::map<std::string, std::map<std::string, std::string>> sections;
  auto all = extra;
  all.insert(k_required.begin(), k_required.end());
  for (const auto& [name, literal] : all) {
    if (literal.empty()) {
      continue;
    }
    const auto dot = name.find('.');
    sections[name.substr(0, dot)][name.substr(dot + 1)] = literal;
  }
  std::string text;
  for (const auto& [section, entries] : sections) {
    text += "[" + section + "]\n";
    for (const auto& [key, literal] : entries) {
      text += key + " = " + literal + "\n";
    }
  }
  return text;
}

// Returns the 1-based line of `text` holding `needle`.
int line_of(const std::string& text, const std::string& needle)
{
  const auto at = text.find(needle);
  REQUIRE(at != std::string::npos);
  int line = 1;
  for (std::size_t i = 0; i < at; ++i) {
    line += text[i] == '\n' ? 1 : 0;
  }
  return line;
}

Config parse_text(const std::string& text, const Environment& env = {},
                  const Overrides& overrides = {})
{
  return parse(text, k_origin, env, overrides);
}

// Runs `f`, which must throw ConfigError (78) with a one-line message, and
// returns that message.
template<typename F>
std::string config_error(F&& f)
{
  try {
    f();
  } catch (const vtc::ConfigError& e) {
    CHECK(e.code() == vtc::ExitCode::config);
    const std::string message = e.what();
    CHECK(message.find('\n') == std::string::npos);
    return message;
  }
  FAIL("no ConfigError thrown");
  return "";
}

std::string parse_failure(const std::string& text, const Environment& env = {},
                          const Overrides& overrides = {})
{
  return config_error([&] { (void)parse_text(text, env, overrides); });
}

bool contains(const std::string& text, const std::string& part)
{
  return text.find(part) != std::string::npos;
}

struct IntegerCase
{
  std::string key;
  std::int64_t Config::*field;
  std::int64_t lowest;
  std::int64_t highest;
};

// The integer keys and their ranges, as vtc-sync.toml(5), KEYS gives them.
const std::vector<IntegerCase> k_integers = {
  {"audit.page_size", &Config::audit_page_size, 1, 200},
  {"audit.degraded_after_seconds", &Config::audit_degraded_after_seconds, 1,
   k_int_max},
  {"audit.max_line_bytes", &Config::audit_max_line_bytes, 4096, k_int_max},
  {"registry.connect_timeout_seconds",
   &Config::registry_connect_timeout_seconds, 1, 60},
  {"registry.timeout_seconds", &Config::registry_timeout_seconds, 1, 300},
  {"registry.concurrency", &Config::registry_concurrency, 1, 256},
  {"registry.degraded_after_seconds", &Config::registry_degraded_after_seconds,
   1, k_int_max},
  {"sync.max_attempts", &Config::sync_max_attempts, 1, 100},
  {"sync.max_backoff_seconds", &Config::sync_max_backoff_seconds, 1, 86400},
  {"sync.rtbf_batch_window_hours", &Config::sync_rtbf_batch_window_hours, 0,
   8760},
  {"sync.max_jobs_per_pass", &Config::sync_max_jobs_per_pass, 1, k_int_max},
  {"sync.max_seconds_per_pass", &Config::sync_max_seconds_per_pass, 1,
   k_int_max},
  {"sync.breaker_failures", &Config::sync_breaker_failures, 1, k_int_max},
};

std::string env_name(const std::string& key)
{
  std::string out = "VTC_SYNC_";
  for (const char c : key) {
    out += c == '.' ? '_' : static_cast<char>(std::toupper(c));
  }
  return out;
}

const std::vector<std::string> k_path_keys = {
  "state.db",
  "audit.source",
  "audit.identity_file",
  "audit.ca_file",
  "audit.key_file",
  "registry.token_file",
  "registry.client_cert",
  "registry.client_key",
  "registry.ca_file",
  "policy.file",
  "metrics.textfile",
};

// base64url of 32 zero bytes.
const std::string k_zero_anchor(43, 'A');

} // namespace

TEST_CASE("config: known_keys lists exactly the documented keys")
{
  const std::vector<KeyInfo> expected = {
    {"vtc.did", "string", "", "did:...", true},
    {"state.db", "path", "/var/lib/vtc-sync/state.db", "non-empty", false},
    {"audit.source", "path", "", "file path or http(s) URL", true},
    {"audit.identity_file", "path", "", "", false},
    {"audit.api_path", "string", "/v1", "empty or /...", false},
    {"audit.ca_file", "path", "", "", false},
    {"audit.page_size", "integer", "200", "1..200", false},
    {"audit.degraded_after_seconds", "integer", "300", ">= 1", false},
    {"audit.key_file", "path", "", "", false},
    {"audit.verify", "enum", "strict if audit.key_file is set, else chain",
     "strict|chain", false},
    {"audit.anchor", "string", "", "base64url of 32 bytes", false},
    {"audit.max_line_bytes", "integer", "1048576", ">= 4096", false},
    {"registry.url", "url", "", "http:// or https://", true},
    {"registry.admin_path", "string", "/admin/v1", "empty or /...", false},
    {"registry.token_file", "path", "", "", false},
    {"registry.client_cert", "path", "", "", false},
    {"registry.client_key", "path", "", "", false},
    {"registry.ca_file", "path", "", "", false},
    {"registry.proxy", "url", "", "http:// or https://", false},
    {"registry.connect_timeout_seconds", "integer", "5", "1..60", false},
    {"registry.timeout_seconds", "integer", "15", "1..300", false},
    {"registry.concurrency", "integer", "16", "1..256", false},
    {"registry.action", "string", "recognise", "non-empty", false},
    {"registry.resource", "string", "trust-graph", "non-empty", false},
    {"registry.record_type", "string", "recognition", "non-empty", false},
    {"registry.degraded_after_seconds", "integer", "3600", ">= 1", false},
    {"policy.file", "path", "", "", false},
    {"policy.opa_url", "url", "", "http:// or https://", false},
    {"sync.max_attempts", "integer", "16", "1..100", false},
    {"sync.max_backoff_seconds", "integer", "3600", "1..86400", false},
    {"sync.rtbf_batch_window_hours", "integer", "24", "0..8760", false},
    {"sync.max_jobs_per_pass", "integer", "5000", ">= 1", false},
    {"sync.max_seconds_per_pass", "integer", "25", ">= 1", false},
    {"sync.breaker_failures", "integer", "5", ">= 1", false},
    {"metrics.textfile", "path", "", "", false},
  };
  const auto& keys = known_keys();
  CHECK(keys.size() == 35);
  CHECK(keys.size() == expected.size());
  for (const auto& want : expected) {
    CAPTURE(want.name);
    const auto it = keys.find(want.name);
    REQUIRE(it != keys.end());
    CHECK(it->second.name == want.name);
    CHECK(it->second.type == want.type);
    CHECK(it->second.default_value == want.default_value);
    CHECK(it->second.range == want.range);
    CHECK(it->second.required == want.required);
  }
}

TEST_CASE("config: every key has its documented default")
{
  const auto c = parse_text(toml_with());
  CHECK(c.vtc_did == "did:web:vtc.example");
  CHECK(c.state_db == "/var/lib/vtc-sync/state.db");
  CHECK(c.audit_source == "/var/log/vtc/audit.jsonl");
  CHECK(c.audit_identity_file.empty());
  CHECK(c.audit_api_path == "/v1");
  CHECK(c.audit_ca_file.empty());
  CHECK(c.audit_page_size == 200);
  CHECK(c.audit_degraded_after_seconds == 300);
  CHECK(!c.audit_source_is_url());
  CHECK(c.audit_key_file.empty());
  CHECK(c.audit_verify == VerifyMode::chain);
  CHECK(c.audit_anchor.empty());
  CHECK(c.audit_max_line_bytes == 1048576);
  CHECK(c.registry_url == "https://registry.example");
  CHECK(c.registry_admin_path == "/admin/v1");
  CHECK(c.registry_token_file.empty());
  CHECK(c.registry_client_cert.empty());
  CHECK(c.registry_client_key.empty());
  CHECK(c.registry_ca_file.empty());
  CHECK(c.registry_proxy.empty());
  CHECK(c.registry_connect_timeout_seconds == 5);
  CHECK(c.registry_timeout_seconds == 15);
  CHECK(c.registry_concurrency == 16);
  CHECK(c.registry_action == "recognise");
  CHECK(c.registry_resource == "trust-graph");
  CHECK(c.registry_record_type == "recognition");
  CHECK(c.registry_degraded_after_seconds == 3600);
  CHECK(c.policy_file.empty());
  CHECK(c.policy_opa_url.empty());
  CHECK(c.sync_max_attempts == 16);
  CHECK(c.sync_max_backoff_seconds == 3600);
  CHECK(c.sync_rtbf_batch_window_hours == 24);
  CHECK(c.sync_max_jobs_per_pass == 5000);
  CHECK(c.sync_max_seconds_per_pass == 25);
  CHECK(c.sync_breaker_failures == 5);
  CHECK(c.metrics_textfile.empty());
}

TEST_CASE("config: a value of the wrong type names the key, type and line")
{
  for (const auto& entry : known_keys()) {
    const auto& name = entry.first;
    CAPTURE(name);
    const bool integer = entry.second.type == "integer";
    const auto text = toml_with({{name, integer ? R"("12")" : "12"}});
    const auto key = name.substr(name.find('.') + 1);
    const auto message = parse_failure(text);
    CHECK(contains(message, k_origin + ":" +
                              std::to_string(line_of(text, key + " = ")) +
                              ": "));
    CHECK(contains(message, "'" + name + "'"));
    CHECK(contains(message, integer ? "must be an integer, not a string"
                                    : "must be a string, not an integer"));
  }
  CHECK(contains(parse_failure(toml_with({{"sync.max_attempts", "1.5"}})),
                 "not a floating-point number"));
  CHECK(contains(parse_failure(toml_with({{"policy.file", "true"}})),
                 "not a boolean"));
  CHECK(contains(parse_failure(toml_with({{"policy.file", R"(["a"])"}})),
                 "not an array"));
  CHECK(contains(parse_failure(toml_with({{"policy.file", "{ a = 1 }"}})),
                 "not a table"));
}

TEST_CASE("config: every integer key accepts its edges and rejects beyond")
{
  std::size_t integer_keys = 0;
  for (const auto& [name, info] : known_keys()) {
    integer_keys += info.type == "integer" ? 1 : 0;
  }
  CHECK(k_integers.size() == integer_keys);

  for (const auto& c : k_integers) {
    CAPTURE(c.key);
    const auto lo = std::to_string(c.lowest);
    const auto hi = std::to_string(c.highest);
    CHECK(parse_text(toml_with({{c.key, lo}})).*c.field == c.lowest);
    CHECK(parse_text(toml_with({{c.key, hi}})).*c.field == c.highest);
    CHECK(parse_text(toml_with(), {{env_name(c.key), lo}}).*c.field ==
          c.lowest);

    const auto below = std::to_string(c.lowest - 1);
    const auto text = toml_with({{c.key, below}});
    const auto message = parse_failure(text);
    const auto line = line_of(text, c.key.substr(c.key.find('.') + 1));
    CHECK(contains(message, k_origin + ":" + std::to_string(line) + ": '" +
                              c.key + "' must be "));
    CHECK(contains(message, ", not " + below));
    CHECK(contains(parse_failure(toml_with(), {{env_name(c.key), below}}),
                   "environment variable " + env_name(c.key) + ": '" + c.key +
                     "' must be "));

    if (c.highest != k_int_max) {
      const auto above = std::to_string(c.highest + 1);
      CHECK(contains(parse_failure(toml_with({{c.key, above}})),
                     "must be in " + lo + ".." + hi + ", not " + above));
      CHECK(contains(parse_failure(toml_with(), {{env_name(c.key), above}}),
                     "must be in " + lo + ".." + hi));
    } else {
      CHECK(contains(message, "must be >= " + lo));
    }
  }
}

TEST_CASE("config: environment integers must be whole decimal numbers")
{
  for (const std::string bad : {"", "15x", " 15", "15 ", "+15", "1e3", "0x10",
                                "15.0", "99999999999999999999"}) {
    CAPTURE(bad);
    CHECK(parse_failure(toml_with(), {{"VTC_SYNC_SYNC_MAX_ATTEMPTS", bad}}) ==
          "environment variable VTC_SYNC_SYNC_MAX_ATTEMPTS: "
          "'sync.max_attempts' must be a decimal integer");
  }
  CHECK(parse_text(toml_with(), {{"VTC_SYNC_SYNC_MAX_ATTEMPTS", "007"}})
          .sync_max_attempts == 7);
}

TEST_CASE("config: required keys must be present after the environment")
{
  for (const auto& entry : k_required) {
    const auto& [name, literal] = entry;
    CAPTURE(entry.first);
    const auto text = toml_with({{name, ""}});
    CHECK(parse_failure(text) ==
          k_origin + ": missing required key '" + name + "'");

    std::string value = literal.substr(1, literal.size() - 2);
    const auto c = parse_text(text, {{env_name(name), value}});
    CHECK(c.vtc_did == "did:web:vtc.example");
    CHECK(c.registry_url == "https://registry.example");
    CHECK(c.audit_source == "/var/log/vtc/audit.jsonl");

    CHECK(contains(parse_failure(toml_with({{name, R"("")"}})),
                   "'" + name + "' must"));
  }
  CHECK(known_keys().at("vtc.did").required);
}

TEST_CASE("config: flags win over the environment, which wins over the file")
{
  const auto text = toml_with(
    {{"state.db", R"("/srv/file.db")"}, {"registry.timeout_seconds", "20"}});
  CHECK(parse_text(text).state_db == "/srv/file.db");
  CHECK(parse_text(text).registry_timeout_seconds == 20);

  const Environment env = {{"VTC_SYNC_STATE_DB", "/srv/env.db"},
                           {"VTC_SYNC_REGISTRY_TIMEOUT_SECONDS", "30"}};
  CHECK(parse_text(text, env).state_db == "/srv/env.db");
  CHECK(parse_text(text, env).registry_timeout_seconds == 30);

  Overrides flags;
  flags.state_db = "/srv/flag.db";
  CHECK(parse_text(text, env, flags).state_db == "/srv/flag.db");
  CHECK(parse_text(toml_with(), {}, flags).state_db == "/srv/flag.db");

  flags.state_db = "";
  CHECK(parse_failure(text, env, flags) ==
        "--db: 'state.db' must not be empty");
}

TEST_CASE("config: unknown keys, sections and variables are named")
{
  auto text = toml_with({{"registry.tiemout_seconds", "5"}});
  CHECK(parse_failure(text) == k_origin + ":" +
                                 std::to_string(line_of(text, "tiemout")) +
                                 ": unknown key 'registry.tiemout_seconds'");

  text = toml_with() + "[registri]\nurl = \"https://x\"\n";
  CHECK(parse_failure(text) == k_origin + ":" +
                                 std::to_string(line_of(text, "[registri]")) +
                                 ": unknown section 'registri'");

  CHECK(parse_failure("did = \"did:web:x\"\n" + toml_with()) ==
        k_origin + ":1: unknown key 'did'");
  CHECK(parse_failure("vtc = 1\n") == k_origin +
                                        ":1: 'vtc' must be a table, not an "
                                        "integer");
  text = toml_with() + "[registry.tls]\nca = \"x\"\n";
  CHECK(parse_failure(text) ==
        k_origin + ":" + std::to_string(line_of(text, "[registry.tls]")) +
          ": unknown key 'registry.tls'");
  CHECK(contains(parse_failure(toml_with() + "[\"a\\nb\"]\n"),
                 "unknown section 'a?b'"));

  CHECK(parse_failure(toml_with(), {{"VTC_SYNC_FOO", "1"}}) ==
        "unknown environment variable VTC_SYNC_FOO");
  CHECK(parse_failure(toml_with(), {{"VTC_SYNC_REGISTRY_TIEMOUT", "1"}}) ==
        "unknown environment variable VTC_SYNC_REGISTRY_TIEMOUT");
  // Not ours: other programs' variables and the config path itself.
  CHECK_NOTHROW(parse_text(
    toml_with(),
    {{"PATH", "/bin"}, {"VTC_SYNCX", "1"}, {"VTC_SYNC_CONFIG", "/x.toml"}}));
}

TEST_CASE("config: every key can be set from its environment variable")
{
  const auto c = parse_text(
    toml_with(), {{"VTC_SYNC_VTC_DID", "did:web:env"},
                  {"VTC_SYNC_AUDIT_KEY_FILE", "keys.json"},
                  {"VTC_SYNC_AUDIT_VERIFY", "chain"},
                  {"VTC_SYNC_AUDIT_ANCHOR", k_zero_anchor},
                  {"VTC_SYNC_REGISTRY_ADMIN_PATH", "/v2"},
                  {"VTC_SYNC_REGISTRY_TOKEN_FILE", "token"},
                  {"VTC_SYNC_REGISTRY_CLIENT_CERT", "cert.pem"},
                  {"VTC_SYNC_REGISTRY_CLIENT_KEY", "key.pem"},
                  {"VTC_SYNC_REGISTRY_CA_FILE", "ca.pem"},
                  {"VTC_SYNC_REGISTRY_PROXY", "http://proxy:3128"},
                  {"VTC_SYNC_REGISTRY_ACTION", "a"},
                  {"VTC_SYNC_REGISTRY_RESOURCE", "r"},
                  {"VTC_SYNC_REGISTRY_RECORD_TYPE", "t"},
                  {"VTC_SYNC_POLICY_OPA_URL", "https://opa/v1/data/x"},
                  {"VTC_SYNC_METRICS_TEXTFILE", "m.prom"}});
  CHECK(c.vtc_did == "did:web:env");
  CHECK(c.audit_key_file == "keys.json");
  CHECK(c.audit_verify == VerifyMode::chain);
  CHECK(c.audit_anchor == k_zero_anchor);
  CHECK(c.registry_admin_path == "/v2");
  CHECK(c.registry_token_file == "token");
  CHECK(c.registry_client_cert == "cert.pem");
  CHECK(c.registry_client_key == "key.pem");
  CHECK(c.registry_ca_file == "ca.pem");
  CHECK(c.registry_proxy == "http://proxy:3128");
  CHECK(c.registry_action == "a");
  CHECK(c.registry_resource == "r");
  CHECK(c.registry_record_type == "t");
  CHECK(c.policy_opa_url == "https://opa/v1/data/x");
  CHECK(c.metrics_textfile == "m.prom");
  CHECK(
    parse_text(toml_with(), {{"VTC_SYNC_POLICY_FILE", "p.json"}}).policy_file ==
    "p.json");
}

TEST_CASE("config: audit.verify defaults to strict only with a key file")
{
  CHECK(parse_text(toml_with()).audit_verify == VerifyMode::chain);
  const auto keyed = toml_with({{"audit.key_file", R"("/k.json")"}});
  CHECK(parse_text(keyed).audit_verify == VerifyMode::strict);
  CHECK(parse_text(toml_with(), {{"VTC_SYNC_AUDIT_KEY_FILE", "/k.json"}})
          .audit_verify == VerifyMode::strict);
  // Clearing the key file from the environment brings the default back.
  CHECK(parse_text(keyed, {{"VTC_SYNC_AUDIT_KEY_FILE", ""}}).audit_verify ==
        VerifyMode::chain);
  CHECK(parse_text(keyed, {{"VTC_SYNC_AUDIT_VERIFY", "chain"}}).audit_verify ==
        VerifyMode::chain);
  CHECK(parse_text(toml_with({{"audit.key_file", R"("/k.json")"},
                              {"audit.verify", R"("strict")"}}))
          .audit_verify == VerifyMode::strict);

  const auto strict = toml_with({{"audit.verify", R"("strict")"}});
  CHECK(parse_failure(strict) ==
        k_origin + ":" + std::to_string(line_of(strict, "verify")) +
          ": 'audit.verify' is strict but 'audit.key_file' is not set");
  CHECK(parse_failure(toml_with(), {{"VTC_SYNC_AUDIT_VERIFY", "strict"}}) ==
        "environment variable VTC_SYNC_AUDIT_VERIFY: 'audit.verify' is "
        "strict but 'audit.key_file' is not set");
  CHECK(contains(parse_failure(toml_with({{"audit.verify", R"("Strict")"}})),
                 "'audit.verify' must be strict or chain"));
}

TEST_CASE("config: audit.anchor is empty or a canonical 32-byte base64url")
{
  CHECK(parse_text(toml_with({{"audit.anchor", "\"" + k_zero_anchor + "\""}}))
          .audit_anchor == k_zero_anchor);
  CHECK(parse_text(toml_with({{"audit.anchor", R"("")"}})).audit_anchor == "");
  const std::string valid = "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU";
  CHECK(parse_text(toml_with({{"audit.anchor", "\"" + valid + "\""}}))
          .audit_anchor == valid);
  for (const std::string& bad : {
         std::string(42, 'A'),       // short
         std::string(44, 'A'),       // long
         std::string(42, 'A') + "B", // unused bits set
         std::string(42, 'A') + "+", // not url-safe
         std::string(43, 'A') + "=", // padded
         std::string("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"), // base64
       }) {
    CAPTURE(bad);
    CHECK(
      contains(parse_failure(toml_with({{"audit.anchor", "\"" + bad + "\""}})),
               "'audit.anchor' must be empty or the 43-character "
               "base64url"));
  }
}

TEST_CASE("config: strings are checked where they matter")
{
  struct Case
  {
    std::string key;
    std::string literal;
    std::string reason;
  };
  const std::vector<Case> bad = {
    {"vtc.did", R"("did:web:a\nb")", "must not contain control characters"},
    {"vtc.did", R"("did:web:a\u0000b")", "must not contain control"},
    {"vtc.did", R"("web:example")", "must be a DID starting with 'did:'"},
    {"vtc.did", R"("did:")", "must be a DID starting with 'did:'"},
    {"registry.action", R"("a\nb")", "must not contain control"},
    {"registry.resource", R"("a\u0000")", "must not contain control"},
    {"registry.record_type", R"("")", "must not be empty"},
    {"registry.action", R"("")", "must not be empty"},
    {"registry.url", R"("ftp://registry.example")",
     "must start with http:// or https://"},
    {"registry.url", R"("registry.example")", "must start with http://"},
    {"registry.proxy", R"("socks5://p")", "must be empty or start with http"},
    {"policy.opa_url", R"("opa:8181")", "must be empty or start with http"},
    {"registry.admin_path", R"("admin/v1")", "must be empty or start with '/'"},
    {"state.db", R"("/a\u0000b")", "must not contain control"},
    {"audit.source", R"("")", "must not be empty"},
  };
  for (const auto& c : bad) {
    CAPTURE(c.key);
    CAPTURE(c.literal);
    const auto message = parse_failure(toml_with({{c.key, c.literal}}));
    CHECK(contains(message, "'" + c.key + "' " + c.reason));
  }
  const auto c =
    parse_text(toml_with({{"registry.url", R"("http://127.0.0.1:8080")"},
                          {"registry.admin_path", R"("")"},
                          {"registry.proxy", R"("")"}}));
  CHECK(c.registry_url == "http://127.0.0.1:8080");
  CHECK(c.registry_admin_path.empty());
}

TEST_CASE("config: policy.file and policy.opa_url exclude each other")
{
  CHECK(parse_failure(toml_with({{"policy.file", R"("/p.json")"},
                                 {"policy.opa_url", R"("https://opa")"}})) ==
        k_origin +
          ": 'policy.file' and 'policy.opa_url' are both set; choose one");
  CHECK(parse_text(toml_with({{"policy.file", R"("/p.json")"}}),
                   {{"VTC_SYNC_POLICY_FILE", ""},
                    {"VTC_SYNC_POLICY_OPA_URL", "https://opa"}})
          .policy_opa_url == "https://opa");
}

TEST_CASE("config: relative paths in the file follow the file's directory")
{
  for (const auto& key : k_path_keys) {
    CAPTURE(key);
    const auto text =
      toml_with({{key, R"("sub/x")"}, {"audit.verify", R"("chain")"}});
    const auto c = parse_text(text);
    const std::map<std::string, std::string> got = {
      {"state.db", c.state_db},
      {"audit.source", c.audit_source},
      {"audit.identity_file", c.audit_identity_file},
      {"audit.ca_file", c.audit_ca_file},
      {"audit.key_file", c.audit_key_file},
      {"registry.token_file", c.registry_token_file},
      {"registry.client_cert", c.registry_client_cert},
      {"registry.client_key", c.registry_client_key},
      {"registry.ca_file", c.registry_ca_file},
      {"policy.file", c.policy_file},
      {"metrics.textfile", c.metrics_textfile},
    };
    CHECK(got.at(key) == "/etc/vtc-sync/sub/x");
    CHECK(known_keys().at(key).type == "path");
  }
  std::size_t paths = 0;
  for (const auto& [name, info] : known_keys()) {
    paths += info.type == "path" ? 1 : 0;
  }
  CHECK(paths == k_path_keys.size());

  const auto up = toml_with({{"audit.source", R"("../log/a.jsonl")"}});
  CHECK(parse_text(up).audit_source == "/etc/vtc-sync/../log/a.jsonl");
  const auto abs = toml_with({{"audit.source", R"("/abs/a.jsonl")"}});
  CHECK(parse_text(abs).audit_source == "/abs/a.jsonl");
  // Strings that are not paths are left alone.
  CHECK(parse_text(toml_with({{"registry.admin_path", R"("/v1")"}}))
          .registry_admin_path == "/v1");
  CHECK(parse_text(toml_with({{"registry.action", R"("rel/x")"}}))
          .registry_action == "rel/x");

  // From the environment and flags, relative to the working directory.
  CHECK(parse_text(toml_with(), {{"VTC_SYNC_STATE_DB", "rel.db"}}).state_db ==
        "rel.db");
  Overrides flags;
  flags.state_db = "flag.db";
  CHECK(parse_text(toml_with(), {}, flags).state_db == "flag.db");
  // A file named without a directory is in the working directory already.
  CHECK(
    parse(toml_with({{"state.db", R"("x.db")"}}), "vtc.toml", {}).state_db ==
    "x.db");
}

TEST_CASE("config: a TOML syntax error names file, line and column")
{
  const auto message = parse_failure("[vtc]\ndid = \"did:web:x\"\nurl = \n");
  CHECK(message.starts_with(k_origin + ":3:"));
  CHECK(message.size() > k_origin.size() + 6);
  // The library's capitalised sentence is brought to our lower case.
  const auto text = message.substr(message.find(": ") + 2);
  CHECK(!text.empty());
  CHECK(!std::isupper(static_cast<unsigned char>(text[0])));

  CHECK(parse_failure("[vtc]\n[vtc]\n").starts_with(k_origin + ":2:"));
  CHECK(contains(
    parse_failure(toml_with({{"sync.max_attempts", "99999999999999999999"}})),
    k_origin + ":"));
}

TEST_CASE("config: a table header toml++ would assert on is a syntax error")
{
  // Found by fuzz_config: toml++ 3.3 asserts in parse_key() and aborts.
  for (const char* text : {"[vtc]\ndid = \"x\"\n[*state]\n", "[*]\n",
                           "[a.*b]\n", "[[*state]]\n"}) {
    CAPTURE(text);
    const auto message = parse_failure(text);
    CHECK(message.starts_with(k_origin + ":"));
  }
  CHECK(parse_failure("[vtc]\ndid = \"x\"\n[*state]\n")
          .starts_with(k_origin + ":3:"));
}

TEST_CASE("config: toml_misjudges marks the holes in toml++ 3.3's table")
{
  // Found by fuzz_config: "Љ[" reached __builtin_unreachable() in toml++.
  for (const char32_t c : {0xA1, 0xE9, 0x409, 0x499, 0x2C5E, 0x2FFF, 0x3001,
                           0x3057, 0xFB26, 0xFEFE}) {
    CAPTURE(static_cast<std::uint32_t>(c));
    CHECK(toml_misjudges(c));
  }
  // ASCII, the whitespace toml++ names, blocks it rejects at once, the
  // edges of the holes and everything past U+FEFF are answered.
  for (const char32_t c : {0x20, 0x7F, 0xA0, 0x49A, 0x1680, 0x2003, 0x2C5D,
                           0x3000, 0x3058, 0x4E2D, 0xFB25, 0xFEFF, 0x1F600}) {
    CAPTURE(static_cast<std::uint32_t>(c));
    CHECK(!toml_misjudges(c));
  }
}

TEST_CASE("config: shelter moves misjudged code points to plane 15 and back")
{
  // é (U+00E9) becomes U+F00E9; 中 and ASCII stay.
  const auto s = shelter("a = \"caf\xc3\xa9 \xe4\xb8\xad\"\n");
  CHECK(!s.clash);
  CHECK(s.text == "a = \"caf\xf3\xb0\x83\xa9 \xe4\xb8\xad\"\n");
  CHECK(unshelter(s.text) == "a = \"caf\xc3\xa9 \xe4\xb8\xad\"\n");

  for (const std::string text :
       {"", "plain", "\xd0\x89[", "\xef\xbb\xbe\xe2\xb1\x9e", "x\xff\xc3",
        "\xe0\x83\xa9 overlong", "\xed\xa0\x80 surrogate", "\xc3\xa9\xc3"}) {
    CAPTURE(text);
    const auto round = shelter(text);
    CHECK(!round.clash);
    CHECK(unshelter(round.text) == text);
  }
  // Invalid UTF-8 is toml++'s to report: its bytes are not touched.
  CHECK(shelter("\xe0\x83\xa9").text == "\xe0\x83\xa9");

  // A code point already where a moved one would go is refused, by line.
  const auto clash = shelter("a = 1\n# \xf3\xb0\x83\xa9\n");
  REQUIRE(clash.clash);
  CHECK(*clash.clash == 0xF00E9);
  CHECK(clash.clash_line == 2);
  // Plane 15 beyond the moved range is fine.
  CHECK(!shelter("# \xf3\xbf\xbf\xbd\n").clash);
}

TEST_CASE("config: characters toml++ misjudges read as themselves")
{
  // toml++'s own message, with the character it saw as written.
  CHECK(parse_failure("\xd0\x89[\n") ==
        k_origin + ":1:1: root table: expected keys, tables, whitespace or "
                   "comments, saw '\xd0\x89'");
  CHECK(parse_failure(toml_with({{"state.db", "1\xc3\xa9"}}))
          .starts_with(k_origin + ":"));
  CHECK(contains(parse_failure("[vtc]\n\"\xc3\xa9t\xc3\xa9\" = 1\n"),
                 "unknown key 'vtc.\xc3\xa9t\xc3\xa9'"));
  CHECK(parse_failure("[vtc]\n# \xf3\xb0\x83\xa9\n") ==
        k_origin + ":2: unsupported character U+F00E9");

  // In strings, after a line-ending backslash and in comments they are
  // values like any other.
  const auto c = parse_text(
    toml_with({{"state.db", "\"/srv/caf\xc3\xa9/state.db\" # \xc3\xa9"},
               {"audit.source", "\"\"\"\\\n  /srv/\xd0\x89.jsonl\"\"\""}}));
  CHECK(c.state_db == "/srv/caf\xc3\xa9/state.db");
  CHECK(c.audit_source == "/srv/\xd0\x89.jsonl");
}

TEST_CASE("config: load reads the file named by flag, environment or default")
{
  vtc::test::TempDir dir;
  const auto a = dir.write("a.toml", toml_with({{"state.db", R"("a.db")"}}));
  const auto b = dir.write("b.toml", toml_with({{"state.db", R"("b.db")"}}));

  Overrides flags;
  flags.config_path = a;
  CHECK(load(flags, {{"VTC_SYNC_CONFIG", b}}).state_db == dir.path() + "/a.db");
  CHECK(load({}, {{"VTC_SYNC_CONFIG", b}}).state_db == dir.path() + "/b.db");

  const auto missing = dir.path() + "/missing.toml";
  CHECK(config_error([&] {
          (void)load({}, {{"VTC_SYNC_CONFIG", missing}});
        }) == missing + ": No such file or directory");
  flags.config_path = dir.path();
  CHECK(config_error([&] { (void)load(flags, {}); }) ==
        dir.path() + ": Is a directory");
  flags.config_path = "";
  CHECK(config_error([&] { (void)load(flags, {}); }) ==
        "--config: must not be empty");
  CHECK(config_error([&] {
          (void)load({}, {{"VTC_SYNC_CONFIG", ""}});
        }) == "environment variable VTC_SYNC_CONFIG: must not be empty");

  const auto broken = dir.write("broken.toml", "[vtc\n");
  CHECK(config_error([&] {
          (void)load({}, {{"VTC_SYNC_CONFIG", broken}});
        }).starts_with(broken + ":1:"));
}

TEST_CASE("config: process_environment collects only VTC_SYNC_ variables")
{
  REQUIRE(setenv("VTC_SYNC_TEST_PROBE", "a=b", 1) == 0);
  REQUIRE(setenv("VTC_SYNCTEST_PROBE", "x", 1) == 0);
  const auto env = process_environment();
  unsetenv("VTC_SYNC_TEST_PROBE");
  unsetenv("VTC_SYNCTEST_PROBE");
  REQUIRE(env.count("VTC_SYNC_TEST_PROBE") == 1);
  CHECK(env.at("VTC_SYNC_TEST_PROBE") == "a=b");
  CHECK(env.count("VTC_SYNCTEST_PROBE") == 0);
  CHECK(env.count("PATH") == 0);
}

TEST_CASE("config: a URL source is kept as written and needs an identity")
{
  const auto url = toml_with({{"audit.source", R"("https://vtc.example")"},
                              {"audit.identity_file", R"("id.pem")"}});
  const auto c = parse_text(url);
  CHECK(c.audit_source == "https://vtc.example");
  CHECK(c.audit_source_is_url());
  CHECK(c.audit_identity_file == "/etc/vtc-sync/id.pem");
  const auto loopback =
    toml_with({{"audit.source", R"("http://127.0.0.1:8080")"},
               {"audit.identity_file", R"("/k/id.pem")"}});
  CHECK(parse_text(loopback).audit_source == "http://127.0.0.1:8080");

  const auto message =
    parse_failure(toml_with({{"audit.source", R"("https://vtc.example")"}}));
  CHECK(contains(message, "'audit.identity_file' is not set"));
  CHECK(contains(message, k_origin));
}
