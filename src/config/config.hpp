#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace vtc::config {

enum class VerifyMode { strict, chain };

// The whole configuration (vtc-sync.toml(5)), after defaults, file, environment
// and command-line flags have been applied and every value validated.
struct Config
{
  std::string vtc_did;

  std::string state_db = "/var/lib/vtc-sync/state.db";

  std::string audit_source; // a file path, or a VTC's base URL
  std::string audit_identity_file;
  std::string audit_api_path = "/v1";
  std::string audit_ca_file;
  std::int64_t audit_page_size = 200;
  std::int64_t audit_degraded_after_seconds = 300;
  std::string audit_key_file;
  VerifyMode audit_verify = VerifyMode::chain;
  std::string audit_anchor;
  std::int64_t audit_max_line_bytes = 1048576;

  std::string registry_url;
  std::string registry_admin_path = "/admin/v1";
  std::string registry_token_file;
  std::string registry_client_cert;
  std::string registry_client_key;
  std::string registry_ca_file;
  std::string registry_proxy;
  std::int64_t registry_connect_timeout_seconds = 5;
  std::int64_t registry_timeout_seconds = 15;
  std::int64_t registry_concurrency = 16;
  std::string registry_action = "recognise";
  std::string registry_resource = "trust-graph";
  std::string registry_record_type = "recognition";
  std::int64_t registry_degraded_after_seconds = 3600;

  std::string policy_file;
  std::string policy_opa_url;

  std::int64_t sync_max_attempts = 16;
  std::int64_t sync_max_backoff_seconds = 3600;
  std::int64_t sync_rtbf_batch_window_hours = 24;
  std::int64_t sync_max_jobs_per_pass = 5000;
  std::int64_t sync_max_seconds_per_pass = 25;
  std::int64_t sync_breaker_failures = 5;

  std::string metrics_textfile;

  // True when audit.source names a running VTC rather than a file.
  bool audit_source_is_url() const;
};

// Values given on the command line; they win over everything else.
struct Overrides
{
  std::optional<std::string> config_path; // -c / --config
  std::optional<std::string> state_db;    // --db
};

// Where the configuration comes from: the environment is passed in so tests
// need not touch the process's own.
using Environment = std::map<std::string, std::string>;

// Returns the environment of this process (only VTC_SYNC_* variables).
Environment process_environment();

// Loads the configuration: defaults < file < VTC_SYNC_* environment < flags.
// The file is `overrides.config_path`, else $VTC_SYNC_CONFIG, else
// /etc/vtc-sync/vtc-sync.toml. Throws ConfigError (78) naming the file and
// line, the key, or the variable: unknown keys or variables, wrong types,
// values out of range, missing required keys, `strict` without a key file.
// Relative paths in the file are resolved against the file's directory.
Config load(const Overrides& overrides, const Environment& env);

// Parses TOML text as if read from `origin` (used in messages), then applies
// `env`. The same rules as load() without touching the file system.
Config parse(const std::string& toml_text, const std::string& origin,
             const Environment& env, const Overrides& overrides = {});

// One entry per accepted key, "section.key", with its type, default and
// range as documented (for --help, the man page test and the example file).
struct KeyInfo
{
  std::string name;          // "registry.timeout_seconds"
  std::string type;          // "string", "path", "url", "integer", "enum"
  std::string default_value; // as written in the docs, "" when none
  std::string range;         // "1..300", "strict|chain", "" when free
  bool required = false;
};
const std::map<std::string, KeyInfo>& known_keys();

} // namespace vtc::config
