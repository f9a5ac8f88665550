#include "app/reconcile.hpp"
#include "cli/commands.hpp"
#include "cli/render.hpp"
#include "registry/record.hpp"
#include "store/pass_lock.hpp"

#include <fmt/core.h>

#include <iostream>

namespace vtc::cli {

namespace {

ExitCode run_reconcile(const Globals& globals, bool dry_run)
{
  const config::Config cfg = load_config(globals);
  const core::Policy policy = policy::load_policy(policy_options(cfg));
  SystemClock clock;
  auto store = open_store(
    cfg, dry_run ? store::OpenMode::read_only : store::OpenMode::read_write,
    clock);
  // Changing the queue is a pass's business: hold the lock like one (once
  // the database is known to exist, so a missing one leaves no lock file).
  std::optional<store::PassLock> lock;
  if (!dry_run) {
    lock.emplace(cfg.state_db);
  }
  const registry::Records records(record_key(cfg));
  const auto jobs = app::plan_reconcile(*store, records, policy, clock.now());
  std::vector<std::vector<std::string>> rows{{"JOB", "KIND"}};
  for (const auto& j : jobs) {
    rows.push_back({j.id, std::string(core::to_string(j.kind))});
  }
  if (!jobs.empty()) {
    std::cout << table(rows);
  }
  if (!dry_run) {
    store->add_jobs(jobs);
  }
  std::cerr << fmt::format(
    "vtc-sync: {} {} job(s)\n",
    dry_run ? "reconcile would create" : "reconcile created", jobs.size());
  return ExitCode::ok;
}

} // namespace

void register_reconcile(CLI::App& app, const Globals& globals, Action& action)
{
  auto dry_run = std::make_shared<bool>(false);
  CLI::App* cmd =
    app.add_subcommand("reconcile", "enqueue a job for every member whose "
                                    "desired record differs from the mirror");
  cmd->add_flag("--dry-run", *dry_run, "list the jobs; change nothing");
  cmd->callback([&globals, &action, dry_run] {
    action = [&globals, dry_run] { return run_reconcile(globals, *dry_run); };
  });
}

} // namespace vtc::cli
