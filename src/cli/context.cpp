#include "cli/context.hpp"

#include "http/url.hpp"

#include "util/error.hpp"
#include "util/secret_file.hpp"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <random>

namespace vtc::cli {

core::TimeNs SystemClock::now() const
{
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

std::int64_t random_jitter(std::int64_t k)
{
  static std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_int_distribution<std::int64_t>(
    0, std::max<std::int64_t>(k, 0))(rng);
}

config::Config load_config(const Globals& globals)
{
  config::Overrides overrides;
  overrides.config_path = globals.config_path;
  overrides.state_db = globals.db_path;
  return config::load(overrides, config::process_environment());
}

store::Binding binding_of(const config::Config& cfg)
{
  const registry::RecordKey key = record_key(cfg);
  return {key.authority_id,
          cfg.registry_url,
          key.action,
          key.resource,
          key.record_type,
          [](const std::string& url) {
            return http::checked_origin(url, "registry.url");
          }};
}

audit::LogOptions log_options(const config::Config& cfg)
{
  audit::LogOptions o;
  o.path = cfg.audit_source;
  o.max_line_bytes = static_cast<std::size_t>(cfg.audit_max_line_bytes);
  if (!cfg.audit_anchor.empty()) {
    o.anchor = util::decode_digest(cfg.audit_anchor);
  }
  if (cfg.audit_verify == config::VerifyMode::strict) {
    o.keys = std::make_shared<audit::KeyRing>(
      audit::KeyRing::load(cfg.audit_key_file));
  }
  return o;
}

audit::VtcLogOptions vtc_log_options(const config::Config& cfg,
                                     const audit::LogOptions& verify,
                                     std::function<bool()> interrupted)
{
  (void)http::checked_origin(cfg.audit_source, "audit.source");
  audit::VtcLogOptions o;
  o.client.source = cfg.audit_source;
  o.client.api_path = cfg.audit_api_path;
  o.client.vtc_did = cfg.vtc_did;
  o.client.identity_file = cfg.audit_identity_file;
  // One HTTP layer for the registry and the VTC: the same timeouts and
  // proxy; the VTC's own CA.
  o.client.http.ca_file = cfg.audit_ca_file;
  o.client.http.proxy = cfg.registry_proxy;
  o.client.http.connect_timeout_seconds =
    static_cast<long>(cfg.registry_connect_timeout_seconds);
  o.client.http.timeout_seconds =
    static_cast<long>(cfg.registry_timeout_seconds);
  o.client.http.max_connections = 1;
  // A page may hold page_size entries of up to max_line_bytes each.
  o.client.http.max_body_bytes =
    static_cast<std::size_t>(cfg.audit_page_size) *
      (static_cast<std::size_t>(cfg.audit_max_line_bytes) + 8) +
    65536;
  o.verify = verify;
  o.page_size = cfg.audit_page_size;
  o.stage_dir = std::filesystem::path(cfg.state_db).parent_path().string();
  o.now = [] {
    return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
  };
  o.interrupted = std::move(interrupted);
  return o;
}

std::unique_ptr<app::AuditLog> open_audit_log(const config::Config& cfg,
                                              const audit::LogOptions& verify,
                                              std::function<bool()> interrupted)
{
  if (cfg.audit_source_is_url()) {
    return std::make_unique<audit::VtcLog>(
      vtc_log_options(cfg, verify, std::move(interrupted)));
  }
  return std::make_unique<audit::LogFile>(verify);
}

registry::RecordKey record_key(const config::Config& cfg)
{
  return {cfg.vtc_did, cfg.registry_action, cfg.registry_resource,
          cfg.registry_record_type};
}

registry::RegistryOptions registry_options(const config::Config& cfg)
{
  registry::RegistryOptions r;
  r.url = cfg.registry_url;
  r.admin_path = cfg.registry_admin_path;
  if (!cfg.registry_token_file.empty()) {
    r.token = registry::read_token(cfg.registry_token_file);
  }
  r.key = record_key(cfg);
  r.ca_file = cfg.registry_ca_file;
  r.client_cert = cfg.registry_client_cert;
  r.client_key = cfg.registry_client_key;
  if (!r.client_key.empty()) {
    util::check_secret_file(r.client_key, "registry.client_key");
  }
  r.proxy = cfg.registry_proxy;
  r.connect_timeout_seconds =
    static_cast<long>(cfg.registry_connect_timeout_seconds);
  r.timeout_seconds = static_cast<long>(cfg.registry_timeout_seconds);
  r.concurrency = static_cast<long>(cfg.registry_concurrency);
  return r;
}

app::TickOptions tick_options(const config::Config& cfg)
{
  app::TickOptions o;
  o.walk.rtbf_window_hours = cfg.sync_rtbf_batch_window_hours;
  o.max_attempts = cfg.sync_max_attempts;
  o.max_backoff_seconds = cfg.sync_max_backoff_seconds;
  o.dispatch.concurrency = cfg.registry_concurrency;
  o.dispatch.breaker_failures = cfg.sync_breaker_failures;
  o.dispatch.max_jobs = cfg.sync_max_jobs_per_pass;
  o.degraded_after_seconds = cfg.registry_degraded_after_seconds;
  o.source_degraded_after_seconds = cfg.audit_degraded_after_seconds;
  o.max_seconds = cfg.sync_max_seconds_per_pass;
  o.timeout_seconds = cfg.registry_timeout_seconds;
  return o;
}

policy::PolicyOptions policy_options(const config::Config& cfg)
{
  return {cfg.policy_file, cfg.policy_opa_url, cfg.registry_ca_file,
          static_cast<long>(cfg.registry_connect_timeout_seconds),
          static_cast<long>(cfg.registry_timeout_seconds)};
}

void confirm(const std::string& question, bool yes)
{
  if (yes) {
    return;
  }
  if (isatty(STDIN_FILENO) == 0 || isatty(STDERR_FILENO) == 0) {
    throw UsageError(question + ": no terminal to confirm on; add --yes");
  }
  std::cerr << question << " [y/N] " << std::flush;
  std::string answer;
  std::getline(std::cin, answer);
  if (answer != "y" && answer != "yes") {
    throw UsageError("not confirmed; nothing changed");
  }
}

std::unique_ptr<store::SqliteStore> open_store(const config::Config& cfg,
                                               store::OpenMode mode,
                                               const app::Clock& clock)
{
  return std::make_unique<store::SqliteStore>(cfg.state_db, mode,
                                              binding_of(cfg), clock);
}

} // namespace vtc::cli
