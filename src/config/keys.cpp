#include "config/keys.hpp"

#include "util/encoding.hpp"
#include "util/error.hpp"

#include <algorithm>
#include <cctype>
#include <fmt/core.h>

namespace vtc::config {

namespace {

std::string check_not_empty(std::string_view value)
{
  return value.empty() ? "must not be empty" : "";
}

// The DID becomes the records' authority_id and part of every record id hash;
// control characters, LF among them, are refused for every string by
// validate().
std::string check_did(std::string_view value)
{
  if (!value.starts_with("did:") || value.size() == 4) {
    return "must be a DID starting with 'did:'";
  }
  return "";
}

bool has_http_scheme(std::string_view value)
{
  return value.starts_with("http://") || value.starts_with("https://");
}

// Only the scheme is checked here; the full rule (http only to loopback)
// needs a real URL parser and lives with the HTTP client.
std::string check_url(std::string_view value)
{
  return has_http_scheme(value) ? "" : "must start with http:// or https://";
}

std::string check_optional_url(std::string_view value)
{
  return value.empty() || has_http_scheme(value)
           ? ""
           : "must be empty or start with http:// or https://";
}

// The admin path is appended to the URL as is.
std::string check_admin_path(std::string_view value)
{
  return value.empty() || value.starts_with('/')
           ? ""
           : "must be empty or start with '/'";
}

std::string check_anchor(std::string_view value)
{
  return value.empty() || util::decode_digest(value)
           ? ""
           : "must be empty or the 43-character base64url spelling of a "
             "32-byte hash";
}

std::string check_verify(std::string_view value)
{
  return value == "strict" || value == "chain" ? "" : "must be strict or chain";
}

using C = Config;
constexpr std::int64_t k_no_max = std::numeric_limits<std::int64_t>::max();

// Row builders, so that the table below reads one key per line.
constexpr Key integer_key(std::string_view section, std::string_view name,
                          std::int64_t C::*field, std::int64_t min,
                          std::int64_t max = k_no_max)
{
  return {.section = section,
          .name = name,
          .type = KeyType::integer,
          .field = field,
          .min = min,
          .max = max};
}

constexpr Key text_key(KeyType type, std::string_view section,
                       std::string_view name, std::string C::*field,
                       StringCheck check, std::string_view range)
{
  return {.section = section,
          .name = name,
          .type = type,
          .field = field,
          .check = check,
          .range = range};
}

constexpr Key string_key(std::string_view section, std::string_view name,
                         std::string C::*field, StringCheck check,
                         std::string_view range)
{
  return text_key(KeyType::string, section, name, field, check, range);
}

// Paths are free-form: only the checks common to all strings apply.
constexpr Key path_key(std::string_view section, std::string_view name,
                       std::string C::*field, StringCheck check = nullptr,
                       std::string_view range = {})
{
  return text_key(KeyType::path, section, name, field, check, range);
}

constexpr Key url_key(std::string_view section, std::string_view name,
                      std::string C::*field, StringCheck check)
{
  return text_key(KeyType::url, section, name, field, check,
                  "http:// or https://");
}

constexpr Key required(Key key)
{
  key.required = true;
  return key;
}

// Every key of vtc-sync.toml(5), KEYS, in its order. A range of ">= 1" for
// registry.degraded_after_seconds keeps "unhealthy for 0 seconds" from
// meaning "always degraded".
// clang-format off
const Key k_keys[] = {
  required(string_key("vtc", "did", &C::vtc_did, check_did, "did:...")),
  path_key("state", "db", &C::state_db, check_not_empty, "non-empty"),
  required(path_key("audit", "source", &C::audit_source, check_not_empty,
                    "file path or http(s) URL")),
  path_key("audit", "identity_file", &C::audit_identity_file),
  string_key("audit", "api_path", &C::audit_api_path, check_admin_path,
             "empty or /..."),
  path_key("audit", "ca_file", &C::audit_ca_file),
  integer_key("audit", "page_size", &C::audit_page_size, 1, 200),
  integer_key("audit", "degraded_after_seconds",
              &C::audit_degraded_after_seconds, 1),
  path_key("audit", "key_file", &C::audit_key_file),
  {.section = "audit", .name = "verify", .type = KeyType::verify,
   .field = &C::audit_verify, .check = check_verify, .range = "strict|chain",
   .default_text = "strict if audit.key_file is set, else chain"},
  string_key("audit", "anchor", &C::audit_anchor, check_anchor,
             "base64url of 32 bytes"),
  integer_key("audit", "max_line_bytes", &C::audit_max_line_bytes, 4096),
  required(url_key("registry", "url", &C::registry_url, check_url)),
  string_key("registry", "admin_path", &C::registry_admin_path,
             check_admin_path, "empty or /..."),
  path_key("registry", "token_file", &C::registry_token_file),
  path_key("registry", "client_cert", &C::registry_client_cert),
  path_key("registry", "client_key", &C::registry_client_key),
  path_key("registry", "ca_file", &C::registry_ca_file),
  url_key("registry", "proxy", &C::registry_proxy, check_optional_url),
  integer_key("registry", "connect_timeout_seconds",
              &C::registry_connect_timeout_seconds, 1, 60),
  integer_key("registry", "timeout_seconds", &C::registry_timeout_seconds,
              1, 300),
  integer_key("registry", "concurrency", &C::registry_concurrency, 1, 256),
  string_key("registry", "action", &C::registry_action, check_not_empty,
             "non-empty"),
  string_key("registry", "resource", &C::registry_resource, check_not_empty,
             "non-empty"),
  string_key("registry", "record_type", &C::registry_record_type,
             check_not_empty, "non-empty"),
  integer_key("registry", "degraded_after_seconds",
              &C::registry_degraded_after_seconds, 1),
  path_key("policy", "file", &C::policy_file),
  url_key("policy", "opa_url", &C::policy_opa_url, check_optional_url),
  integer_key("sync", "max_attempts", &C::sync_max_attempts, 1, 100),
  integer_key("sync", "max_backoff_seconds", &C::sync_max_backoff_seconds,
              1, 86400),
  integer_key("sync", "rtbf_batch_window_hours",
              &C::sync_rtbf_batch_window_hours, 0, 8760),
  integer_key("sync", "max_jobs_per_pass", &C::sync_max_jobs_per_pass, 1),
  integer_key("sync", "max_seconds_per_pass", &C::sync_max_seconds_per_pass,
              1),
  integer_key("sync", "breaker_failures", &C::sync_breaker_failures, 1),
  path_key("metrics", "textfile", &C::metrics_textfile),
};
// clang-format on

std::string upper(std::string_view text)
{
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return static_cast<char>(std::toupper(c));
  });
  return out;
}

std::string default_text(const Key& key)
{
  if (!key.default_text.empty()) {
    return std::string(key.default_text);
  }
  const Config defaults;
  if (const auto* s = std::get_if<std::string Config::*>(&key.field)) {
    return defaults.**s;
  }
  if (const auto* i = std::get_if<std::int64_t Config::*>(&key.field)) {
    return std::to_string(defaults.**i);
  }
  return "";
}

const char* type_name(KeyType type)
{
  switch (type) {
  case KeyType::string:
    return "string";
  case KeyType::path:
    return "path";
  case KeyType::url:
    return "url";
  case KeyType::integer:
    return "integer";
  case KeyType::verify:
    return "enum";
  }
  return "string";
}

} // namespace

std::span<const Key> keys()
{
  return k_keys;
}

std::size_t index_of(const Key& key)
{
  return static_cast<std::size_t>(&key - keys().data());
}

const Key* find_key(std::string_view section, std::string_view name)
{
  for (const auto& key : k_keys) {
    if (key.section == section && key.name == name) {
      return &key;
    }
  }
  return nullptr;
}

const Key* find_env(std::string_view variable)
{
  for (const auto& key : k_keys) {
    if (env_name(key) == variable) {
      return &key;
    }
  }
  return nullptr;
}

bool is_section(std::string_view section)
{
  return std::any_of(std::begin(k_keys), std::end(k_keys),
                     [&](const Key& key) { return key.section == section; });
}

std::string full_name(const Key& key)
{
  return fmt::format("{}.{}", key.section, key.name);
}

std::string env_name(const Key& key)
{
  return fmt::format("{}{}_{}", k_env_prefix, upper(key.section),
                     upper(key.name));
}

std::string range_text(const Key& key)
{
  if (key.type != KeyType::integer) {
    return std::string(key.range);
  }
  return key.max == k_no_max ? fmt::format(">= {}", key.min)
                             : fmt::format("{}..{}", key.min, key.max);
}

const std::map<std::string, KeyInfo>& known_keys()
{
  static const auto table = [] {
    std::map<std::string, KeyInfo> out;
    for (const auto& key : k_keys) {
      out.emplace(full_name(key), KeyInfo{.name = full_name(key),
                                          .type = type_name(key.type),
                                          .default_value = default_text(key),
                                          .range = range_text(key),
                                          .required = key.required});
    }
    return out;
  }();
  return table;
}

} // namespace vtc::config
