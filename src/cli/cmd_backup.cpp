#include "cli/commands.hpp"
#include "store/backup.hpp"
#include "util/log.hpp"

#include <fmt/core.h>

namespace vtc::cli {

namespace {

ExitCode run_backup(const Globals& globals, const std::string& target)
{
  const config::Config cfg = load_config(globals);
  // Read-only like status: no lock, so a running pass is never held up.
  const std::string generation =
    store::backup(cfg.state_db, binding_of(cfg), target);
  util::log::info(fmt::format("backup of {} written to {} (generation {})",
                              cfg.state_db, target, generation));
  return ExitCode::ok;
}

} // namespace

void register_backup(CLI::App& app, const Globals& globals, Action& action)
{
  auto target = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand(
    "backup",
    "a consistent copy of the state database, safe while a pass runs");
  cmd->add_option("PATH", *target, "the new file (must not exist)")->required();
  cmd->callback([&globals, &action, target] {
    action = [&globals, target] { return run_backup(globals, *target); };
  });
}

} // namespace vtc::cli
