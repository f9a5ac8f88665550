#pragma once

#include "cli/context.hpp"
#include "util/exit_code.hpp"

#include <CLI/CLI.hpp>

#include <functional>

namespace vtc::cli {

// What the parsed command line runs.
using Action = std::function<ExitCode()>;

// Each command registers its subcommand and options on `app`; when the
// subcommand is chosen its callback stores the action to run in `action`.
// `globals` is filled by the parser before the action runs.
void register_tick(CLI::App& app, const Globals& globals, Action& action);

// tick's options.
struct TickFlags
{
  bool dry_run = false;
  bool json = false;
  std::optional<std::int64_t> max_jobs;
  std::optional<std::int64_t> max_seconds;
};

// tick --dry-run: the pass run on a private in-memory copy of the database
// against a registry that sends nothing; prints what it would do. Returns the
// code the walk would give (0, 65, 74 or 78).
ExitCode run_dry_run(const Globals& globals, const TickFlags& flags);
void register_status(CLI::App& app, const Globals& globals, Action& action);
void register_queue(CLI::App& app, const Globals& globals, Action& action);
// queue retry and queue discard, on the `queue` subcommand.
void register_queue_changes(CLI::App& queue, const Globals& globals,
                            Action& action);
void register_outcomes(CLI::App& app, const Globals& globals, Action& action);
// Writes one outcome as the JSON line `outcomes list --json` prints.
void print_outcome_json(const app::OutcomeRow& o);
void register_audit(CLI::App& app, const Globals& globals, Action& action);
void register_reconcile(CLI::App& app, const Globals& globals, Action& action);
void register_records(CLI::App& app, const Globals& globals, Action& action);
void register_drift(CLI::App& app, const Globals& globals, Action& action);
void register_backup(CLI::App& app, const Globals& globals, Action& action);
void register_identity(CLI::App& app, const Globals& globals, Action& action);

} // namespace vtc::cli
