#include "cli/run.hpp"

#include "cli/commands.hpp"
#include "cli/version.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

#include <fmt/core.h>

#include <exception>
#include <string>
#include <string_view>

namespace vtc::cli {

namespace {

void configure_logging(const Globals& g)
{
  using util::log::Level;
  Level level = Level::info;
  if (g.verbosity > 0) {
    level = Level::debug;
  } else if (g.verbosity < 0) {
    level = Level::error;
  }
  util::log::configure(g.log_format == "json" ? util::log::Format::json
                                              : util::log::Format::text,
                       level);
}

int report(ExitCode code, const std::string& what)
{
  util::log::error(what);
  return static_cast<int>(code);
}

// "vtc-sync 0.2.0", and "(git REVISION)" after it when built from git.
std::string version_line()
{
  const std::string_view revision = VTC_SYNC_REVISION;
  return revision.empty()
           ? fmt::format("vtc-sync {}", VTC_SYNC_VERSION)
           : fmt::format("vtc-sync {} (git {})", VTC_SYNC_VERSION, revision);
}

// The options every command takes, before or after its name.
void add_global_options(CLI::App& app, Globals& globals)
{
  // Global options may also follow the command: `vtc-sync tick -q`.
  app.fallthrough();
  app.add_option("-c,--config", globals.config_path,
                 "config file (TOML); default $VTC_SYNC_CONFIG, else "
                 "/etc/vtc-sync/vtc-sync.toml");
  app.add_option("--db", globals.db_path,
                 "state database (overrides state.db)");
  app.add_option("--log-format", globals.log_format, "stderr log format")
    ->check(CLI::IsMember({"text", "json"}));
  app.add_flag_function(
    "-v", [&](std::int64_t n) { globals.verbosity += static_cast<int>(n); },
    "more logging");
  app.add_flag_function(
    "-q", [&](std::int64_t n) { globals.verbosity -= static_cast<int>(n); },
    "less logging: nothing on an idle pass, nothing on exit 75");
}

void register_commands(CLI::App& app, const Globals& globals, Action& action)
{
  register_tick(app, globals, action);
  register_status(app, globals, action);
  register_queue(app, globals, action);
  register_reconcile(app, globals, action);
  register_records(app, globals, action);
  register_drift(app, globals, action);
  register_outcomes(app, globals, action);
  register_audit(app, globals, action);
  register_backup(app, globals, action);
  register_identity(app, globals, action);
}

// Runs the chosen command; every error it throws ends here, as one line.
int run_action(const Action& action, const Globals& globals)
{
  configure_logging(globals);
  try {
    return static_cast<int>(action());
  } catch (const LockBusy& e) {
    if (globals.verbosity >= 0) {
      report(e.code(), e.what());
    }
    return static_cast<int>(e.code());
  } catch (const Error& e) {
    return report(e.code(), e.what());
  } catch (const std::exception& e) {
    return report(ExitCode::software,
                  fmt::format("internal error: {}", e.what()));
  }
}

} // namespace

int run(int argc, char** argv)
{
  Globals globals;
  Action action;
  CLI::App app{"vtc-sync: keep a trust registry in step with a Verifiable "
               "Trust Community's audit log",
               "vtc-sync"};
  app.set_version_flag("--version", version_line());
  app.require_subcommand(1);
  add_global_options(app, globals);
  register_commands(app, globals, action);
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e); // --help, --version
  } catch (const CLI::ParseError& e) {
    // One line in the house format, not CLI11's two.
    util::log::configure(util::log::Format::text, util::log::Level::error);
    const auto extra = app.remaining();
    const std::string what =
      extra.empty()
        ? e.what()
        : fmt::format("unknown command or argument '{}'", extra.front());
    return report(ExitCode::usage,
                  fmt::format("{} (see vtc-sync --help)", what));
  }
  return run_action(action, globals);
}

} // namespace vtc::cli
