#include "app/tick.hpp"
#include "audit/log_file.hpp"
#include "cli/commands.hpp"
#include "cli/metrics_file.hpp"
#include "policy/policy_source.hpp"
#include "registry/http_registry.hpp"
#include "store/pass_lock.hpp"
#include "util/log.hpp"

#include <csignal>

namespace vtc::cli {

namespace {

volatile std::sig_atomic_t g_interrupted = 0;

// SIGTERM and SIGINT end the pass early, like its deadline: no new work,
// what was done committed. No SA_RESTART, so waits return at once.
void catch_signals()
{
  struct sigaction sa
  {};
  sa.sa_handler = [](int) { g_interrupted = 1; };
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
}

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

  app::TickOptions options = tick_options(cfg);
  options.max_seconds = flags.max_seconds.value_or(options.max_seconds);
  options.dispatch.max_jobs =
    flags.max_jobs.value_or(options.dispatch.max_jobs);
  options.interrupted = [] { return g_interrupted != 0; };
  catch_signals();

  const auto open_registry = [&]() -> std::unique_ptr<app::Registry> {
    return std::make_unique<registry::HttpRegistry>(registry_options(cfg));
  };

  const registry::Records records(record_key(cfg));
  const app::TickPorts ports{
    db,
    clock,
    [&] {
      return open_audit_log(cfg, log_opts, [] { return g_interrupted != 0; });
    },
    open_registry,
    [&] { return policy::load_policy(policy_options(cfg)); },
    [&] { return policy::file_stamp(policy_options(cfg)); },
    records,
    random_jitter,
  };
  const app::TickResult result = app::tick(ports, options);
  return write_metrics_file(cfg.metrics_textfile, db, result);
}

} // namespace

void register_tick(CLI::App& app, const Globals& globals, Action& action)
{
  auto flags = std::make_shared<TickFlags>();
  CLI::App* cmd =
    app.add_subcommand("tick", "run one pass: recover, walk, dispatch");
  cmd->add_flag("--dry-run", flags->dry_run,
                "show what the pass would do; send and write nothing");
  cmd->add_flag("--json", flags->json, "with --dry-run: JSON output")
    ->needs("--dry-run");
  cmd->add_option("--max-jobs", flags->max_jobs, "requests at most N jobs")
    ->check(CLI::PositiveNumber);
  cmd
    ->add_option("--max-seconds", flags->max_seconds,
                 "pass deadline in seconds")
    ->check(CLI::PositiveNumber);
  cmd->callback([&globals, &action, flags] {
    action = [&globals, flags] {
      return flags->dry_run ? run_dry_run(globals, *flags)
                            : run_tick(globals, *flags);
    };
  });
}

} // namespace vtc::cli
