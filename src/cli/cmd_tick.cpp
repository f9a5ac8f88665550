#include "app/tick.hpp"
#include "audit/log_file.hpp"
#include "cli/commands.hpp"
#include "policy/policy_source.hpp"
#include "registry/http_registry.hpp"
#include "store/pass_lock.hpp"
#include "util/log.hpp"

#include <csignal>
#include "util/secret_file.hpp"

namespace vtc::cli {

namespace {

volatile std::sig_atomic_t g_interrupted = 0;

// SIGTERM and SIGINT end the pass early, like its deadline: no new work,
// what was done committed. No SA_RESTART, so waits return at once.
void catch_signals()
{
  struct sigaction sa{};
  sa.sa_handler = [](int) { g_interrupted = 1; };
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
}

struct TickFlags
{
  bool dry_run = false;
  bool json = false;
  std::optional<std::int64_t> max_jobs;
  std::optional<std::int64_t> max_seconds;
};

ExitCode run_tick(const Globals& globals, const TickFlags& flags)
{
  const config::Config cfg = load_config(globals);
  const store::Binding binding = binding_of(cfg);
  // Secrets and keys are checked before anything is locked or written.
  const audit::LogOptions log_opts = log_options(cfg);
  if (!log_opts.keys) {
    util::log::warn("audit.verify = chain: the hash chain is checked, but "
                    "plaintext DIDs are not authenticated");
  }

  store::PassLock lock(cfg.state_db);
  SystemClock clock;
  store::SqliteStore db(cfg.state_db, store::OpenMode::pass, binding, clock);

  app::TickOptions options;
  options.walk.rtbf_window_hours = cfg.sync_rtbf_batch_window_hours;
  options.max_attempts = cfg.sync_max_attempts;
  options.max_backoff_seconds = cfg.sync_max_backoff_seconds;
  options.dispatch.concurrency = cfg.registry_concurrency;
  options.dispatch.breaker_failures = cfg.sync_breaker_failures;
  options.degraded_after_seconds = cfg.registry_degraded_after_seconds;
  options.max_seconds = flags.max_seconds.value_or(cfg.sync_max_seconds_per_pass);
  options.timeout_seconds = cfg.registry_timeout_seconds;
  options.audit_source = log_opts.path;
  options.interrupted = [] { return g_interrupted != 0; };
  catch_signals();
  options.dispatch.max_jobs = flags.max_jobs.value_or(cfg.sync_max_jobs_per_pass);

  const auto open_registry = [&]() -> std::unique_ptr<app::Registry> {
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
    r.connect_timeout_seconds = static_cast<long>(cfg.registry_connect_timeout_seconds);
    r.timeout_seconds = static_cast<long>(cfg.registry_timeout_seconds);
    r.concurrency = static_cast<long>(cfg.registry_concurrency);
    return std::make_unique<registry::HttpRegistry>(std::move(r));
  };

  const registry::Records records(record_key(cfg));
  const app::TickPorts ports{
    db,
    clock,
    [&] { return std::make_unique<audit::LogFile>(log_opts); },
    open_registry,
    [&] { return policy::load_policy(policy_options(cfg)); },
    [&] { return policy::file_stamp(policy_options(cfg)); },
    records,
  };
  return app::tick(ports, options).code;
}

} // namespace

void register_tick(CLI::App& app, const Globals& globals, Action& action)
{
  auto flags = std::make_shared<TickFlags>();
  CLI::App* cmd = app.add_subcommand("tick", "run one pass: recover, walk, dispatch");
  cmd->add_flag("--dry-run", flags->dry_run,
                "show what the pass would do; change nothing (not yet available)");
  cmd->add_flag("--json", flags->json, "with --dry-run: JSON output");
  cmd->add_option("--max-jobs", flags->max_jobs, "requests at most N jobs")
    ->check(CLI::PositiveNumber);
  cmd->add_option("--max-seconds", flags->max_seconds, "pass deadline in seconds")
    ->check(CLI::PositiveNumber);
  cmd->callback([&globals, &action, flags] {
    if (flags->dry_run) {
      throw CLI::ValidationError("--dry-run", "not available in this version");
    }
    action = [&globals, flags] { return run_tick(globals, *flags); };
  });
}

} // namespace vtc::cli
