#pragma once

#include "app/ports.hpp"
#include "app/tick.hpp"
#include "audit/log_file.hpp"
#include "audit/vtc_log.hpp"
#include "config/config.hpp"
#include "policy/policy_source.hpp"
#include "registry/http_registry.hpp"
#include "registry/record.hpp"
#include "store/sqlite_store.hpp"

#include <memory>
#include <optional>
#include <string>

namespace vtc::cli {

// Options every command shares (vtc-sync(1), GLOBAL OPTIONS).
struct Globals
{
  std::optional<std::string> config_path;
  std::optional<std::string> db_path;
  std::string log_format = "text";
  int verbosity = 0; // -v: +1, -q: -1
};

// The system clocks: the only place they are read.
class SystemClock final : public app::Clock
{
public:
  core::TimeNs now() const override;
  Instant monotonic() const override
  {
    return std::chrono::steady_clock::now();
  }
};

// A uniformly random jitter in [0, k] for backoffs (app::Jitter).
std::int64_t random_jitter(std::int64_t k);

// Loads the configuration with the command-line overrides applied.
config::Config load_config(const Globals& globals);

// What the database must be bound to, from the configuration. The store
// checks the registry URL rule (78) when it meets a URL text it has not
// verified.
store::Binding binding_of(const config::Config& cfg);

// How to read the audit log; loads the key file in strict mode (78 when
// it breaks the secret-file rule or is malformed).
audit::LogOptions log_options(const config::Config& cfg);

// How to read the audit log from a running VTC (audit.source a URL):
// checks the URL rule (78); loads the identity when the log is opened.
audit::VtcLogOptions vtc_log_options(const config::Config& cfg,
                                     const audit::LogOptions& verify,
                                     std::function<bool()> interrupted);

// The audit log of the configuration: the file, or the VTC. Throws
// AuditError (74) when the file cannot be read, ConfigError (78) when the
// identity cannot be loaded.
std::unique_ptr<app::AuditLog> open_audit_log(
  const config::Config& cfg, const audit::LogOptions& verify,
  std::function<bool()> interrupted = [] { return false; });

// The fields that identify this community's records.
registry::RecordKey record_key(const config::Config& cfg);

// How to reach the registry, per the configuration; reads the token file
// and checks the client key's file mode (78 when unusable).
registry::RegistryOptions registry_options(const config::Config& cfg);

// The pass's limits and retry rules, per the configuration (tick's flags
// applied by the caller).
app::TickOptions tick_options(const config::Config& cfg);

// Where the policy comes from, per the configuration.
policy::PolicyOptions policy_options(const config::Config& cfg);

// Asks `question` on a terminal unless `yes`; without a terminal refuses.
// Throws UsageError (64) when not confirmed.
void confirm(const std::string& question, bool yes);

// Opens the state database for a command other than tick.
std::unique_ptr<store::SqliteStore> open_store(const config::Config& cfg,
                                               store::OpenMode mode,
                                               const app::Clock& clock);

} // namespace vtc::cli
