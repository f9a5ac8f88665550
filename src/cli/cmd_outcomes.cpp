#include "cli/commands.hpp"
#include "cli/render.hpp"

#include <fmt/core.h>

#include <iostream>

namespace vtc::cli {

void register_outcomes_prune(CLI::App& outcomes, const Globals& globals,
                             Action& action);

void register_outcomes(CLI::App& app, const Globals& globals, Action& action)
{
  CLI::App* outcomes = app.add_subcommand("outcomes", "the outcome log");
  outcomes->require_subcommand(1);
  struct Flags
  {
    std::int64_t since = 0;
    std::int64_t limit = 1000;
    bool json = false;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* list =
    outcomes->add_subcommand("list", "outcomes after a sequence number");
  list->add_option("--since", f->since, "only outcomes with seq > SEQ")
    ->check(CLI::NonNegativeNumber);
  list->add_option("--limit", f->limit, "at most N rows (default 1000)")
    ->check(CLI::Range(std::int64_t{1}, std::int64_t{1000000}));
  list->add_flag("--json", f->json, "NDJSON, one outcome per line");
  register_outcomes_prune(*outcomes, globals, action);
  list->callback([&globals, &action, f] {
    action = [&globals, f] {
      const config::Config cfg = load_config(globals);
      SystemClock clock;
      auto store = open_store(cfg, store::OpenMode::read_only, clock);
      const auto rows = store->outcomes(f->since, f->limit);
      if (f->json) {
        for (const auto& o : rows) {
          print_outcome_json(o);
        }
        return ExitCode::ok;
      }
      std::vector<std::vector<std::string>> t{
        {"SEQ", "AT", "KIND", "JOB", "ATTEMPTS", "MEMBER", "DETAIL"}};
      for (const auto& o : rows) {
        t.push_back({std::to_string(o.seq), short_time(o.at), o.kind, o.job_id,
                     std::to_string(o.attempts), short_hash(o.target_hash),
                     o.detail});
      }
      std::cout << table(t);
      return ExitCode::ok;
    };
  });
}

void register_outcomes_prune(CLI::App& outcomes, const Globals& globals,
                             Action& action)
{
  struct Flags
  {
    std::int64_t before = 0;
    bool yes = false;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* prune = outcomes.add_subcommand(
    "prune", "remove outcomes older than a sequence number");
  prune->add_option("--before", f->before, "remove outcomes with seq < SEQ")
    ->required()
    ->check(CLI::PositiveNumber);
  prune->add_flag("--yes", f->yes, "do not ask for confirmation");
  prune->callback([&globals, &action, f] {
    action = [&globals, f] {
      const config::Config cfg = load_config(globals);
      SystemClock clock;
      auto store = open_store(cfg, store::OpenMode::read_write, clock);
      confirm(fmt::format("remove every outcome before seq {}?", f->before),
              f->yes);
      const auto n = store->prune_outcomes(f->before);
      std::cerr << fmt::format("vtc-sync: removed {} outcome(s)\n", n);
      return ExitCode::ok;
    };
  });
}

} // namespace vtc::cli
