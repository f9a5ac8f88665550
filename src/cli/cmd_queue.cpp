#include "cli/commands.hpp"
#include "cli/render.hpp"

#include <nlohmann/json.hpp>

#include <iostream>

namespace vtc::cli {

namespace {

struct ListFlags
{
  std::string state = "all";
  std::int64_t limit = 100;
  bool json = false;
};

ExitCode list_jobs(const Globals& globals, const ListFlags& flags)
{
  const config::Config cfg = load_config(globals);
  SystemClock clock;
  auto store = open_store(cfg, store::OpenMode::read_only, clock);
  app::JobQuery query;
  if (flags.state != "all") {
    query.state = core::job_state_from(flags.state);
  }
  query.limit = flags.limit;
  const auto rows = store->jobs(query);
  const core::TimeNs now = clock.now();
  if (flags.json) {
    for (const auto& r : rows) {
      nlohmann::ordered_json j{
        {"id", r.id},
        {"kind", std::string(core::to_string(r.kind))},
        {"state", std::string(core::to_string(r.state))},
        {"attempts", r.attempts},
        {"due", core::format_rfc3339(r.due)},
        {"rtbf", r.rtbf},
        {"event_line", r.event_line},
        {"member", short_hash(r.target_hash)},
        {"last_error", r.last_error}};
      std::cout << j.dump() << '\n';
    }
    return ExitCode::ok;
  }
  std::vector<std::vector<std::string>> table_rows{
    {"JOB", "KIND", "STATE", "ATTEMPTS", "DUE", "MEMBER", "LINE", "NOTE"}};
  for (const auto& r : rows) {
    std::string due = r.due <= now ? "now" : "in " + human_duration(r.due - now);
    std::string note =
      r.rtbf && r.due > now ? "rtbf: held until " + short_time(r.due) : "";
    if (!r.last_error.empty()) {
      note += (note.empty() ? "" : "; ") + r.last_error;
    }
    table_rows.push_back({r.id, std::string(core::to_string(r.kind)),
                          std::string(core::to_string(r.state)),
                          std::to_string(r.attempts), due,
                          short_hash(r.target_hash),
                          std::to_string(r.event_line), note});
  }
  std::cout << table(table_rows);
  return ExitCode::ok;
}

} // namespace

void register_queue(CLI::App& app, const Globals& globals, Action& action)
{
  CLI::App* queue = app.add_subcommand("queue", "inspect and act on sync jobs");
  queue->require_subcommand(1);
  auto flags = std::make_shared<ListFlags>();
  CLI::App* list = queue->add_subcommand("list", "list live jobs in due order");
  list->add_option("--state", flags->state, "pending|in_flight|failed|all")
    ->check(CLI::IsMember({"pending", "in_flight", "failed", "all"}));
  list->add_option("--limit", flags->limit, "at most N rows (default 100)")
    ->check(CLI::Range(std::int64_t{1}, std::int64_t{100000}));
  list->add_flag("--json", flags->json, "NDJSON, one job per line");
  list->callback([&globals, &action, flags] {
    action = [&globals, flags] { return list_jobs(globals, *flags); };
  });
}

} // namespace vtc::cli
