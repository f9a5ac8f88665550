// queue retry / queue discard: an operator's hand on failed jobs.

#include "cli/commands.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

#include <fmt/core.h>
#include <unistd.h>

#include <iostream>

namespace vtc::cli {

namespace {

struct ChangeFlags
{
  std::vector<std::string> ids;
  bool all_failed = false;
  std::optional<std::string> member;
  bool dry_run = false;
  bool yes = false;
  bool force = false;
};

// Exactly one way of naming jobs: ids, --all-failed or --member.
void check_selectors(const ChangeFlags& f, const std::string& verb)
{
  const int selectors =
    (f.ids.empty() ? 0 : 1) + (f.all_failed ? 1 : 0) + (f.member ? 1 : 0);
  if (selectors != 1) {
    throw UsageError(fmt::format(
      "queue {}: give job ids, --all-failed or --member DID (one of them)",
      verb));
  }
}

// Checks every job named before changing anything: each must be failed, and
// a discarded delete needs --force. Fills `chosen` with those that pass and
// returns the worst code of the rest, each logged.
ExitCode choose_jobs(store::SqliteStore& store,
                     const std::vector<std::string>& ids, const ChangeFlags& f,
                     const std::string& verb, std::vector<std::string>& chosen)
{
  ExitCode code = ExitCode::ok;
  for (const auto& id : ids) {
    const auto d = store.job_detail(id);
    if (!d) {
      util::log::error(fmt::format("unknown job id {}", id));
      code = worst(code, ExitCode::no_input);
    } else if (!d->live || d->job.state != core::JobState::failed) {
      util::log::error(fmt::format("job {} is {}, not failed: only failed jobs "
                                   "can be {}",
                                   id,
                                   d->live ? core::to_string(d->job.state)
                                           : std::string_view("finished"),
                                   verb == "retry" ? "retried" : "discarded"));
      code = worst(code, ExitCode::usage);
    } else if (verb == "discard" && core::deletes_a_record(d->job.kind) &&
               !f.force) {
      util::log::error(fmt::format(
        "job {} is a {}: discarding it leaves a record in the registry that "
        "vtc-sync promised to remove; add --force",
        id, core::to_string(d->job.kind)));
      code = worst(code, ExitCode::usage);
    } else {
      chosen.push_back(id);
    }
  }
  return code;
}

// Retries or discards `chosen` and says how many it changed.
void apply_change(store::SqliteStore& store,
                  const std::vector<std::string>& chosen,
                  const std::string& verb)
{
  const auto results =
    verb == "retry" ? store.retry(chosen) : store.discard(chosen);
  std::size_t done = 0;
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (results[i] == app::JobChange::done) {
      ++done;
    } else {
      // Changed under our feet (a pass superseded it): say so, not fail.
      util::log::warn(
        fmt::format("job {} changed meanwhile; left as it is", chosen[i]));
    }
  }
  std::cerr << fmt::format("vtc-sync: {} {} job(s)\n",
                           verb == "retry" ? "retried" : "discarded", done);
}

ExitCode run_change(const Globals& globals, const ChangeFlags& f,
                    const std::string& verb)
{
  check_selectors(f, verb);
  const config::Config cfg = load_config(globals);
  SystemClock clock;
  auto store = open_store(
    cfg, f.dry_run ? store::OpenMode::read_only : store::OpenMode::read_write,
    clock);
  const std::vector<std::string> ids =
    f.ids.empty() ? store->failed_jobs(f.member) : f.ids;
  std::vector<std::string> chosen;
  if (const ExitCode code = choose_jobs(*store, ids, f, verb, chosen);
      code != ExitCode::ok) {
    return code;
  }
  if (chosen.empty()) {
    std::cerr << fmt::format("vtc-sync: no failed jobs to {}\n", verb);
    return ExitCode::ok;
  }
  for (const auto& id : chosen) {
    std::cout << id << '\n';
  }
  if (f.dry_run) {
    std::cerr << fmt::format("vtc-sync: would {} {} job(s)\n", verb,
                             chosen.size());
    return ExitCode::ok;
  }
  if (f.ids.size() != 1) {
    confirm(fmt::format("{} {} failed job(s)?", verb, chosen.size()), f.yes);
  }
  apply_change(*store, chosen, verb);
  return ExitCode::ok;
}

void add_change(CLI::App& queue, const Globals& globals, Action& action,
                const std::string& verb, const std::string& help)
{
  auto f = std::make_shared<ChangeFlags>();
  CLI::App* cmd = queue.add_subcommand(verb, help);
  cmd->add_option("JOB_ID", f->ids, "job ids");
  cmd->add_flag("--all-failed", f->all_failed, "every failed job");
  cmd->add_option("--member", f->member, "the failed job of this member (DID)");
  cmd->add_flag("--dry-run", f->dry_run, "list the jobs; change nothing");
  cmd->add_flag("--yes", f->yes, "do not ask for confirmation");
  if (verb == "discard") {
    cmd->add_flag("--force", f->force, "also discard deletes");
  }
  cmd->callback([&globals, &action, f, verb] {
    action = [&globals, f, verb] { return run_change(globals, *f, verb); };
  });
}

} // namespace

void register_queue_changes(CLI::App& queue, const Globals& globals,
                            Action& action)
{
  add_change(queue, globals, action, "retry",
             "make failed jobs due now with fresh attempts");
  add_change(queue, globals, action, "discard",
             "drop failed jobs (deletes need --force)");
}

} // namespace vtc::cli
