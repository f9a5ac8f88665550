#include "app/walk.hpp"
#include "audit/log_file.hpp"
#include "cli/commands.hpp"
#include "util/log.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <iostream>
#include <map>

namespace vtc::cli {

namespace {

ExitCode verify_log(const Globals& globals, bool json)
{
  const config::Config cfg = load_config(globals);
  const audit::LogOptions o = log_options(cfg);
  audit::LogFile log(o);
  (void)log.seek(std::nullopt);

  std::int64_t entries = 0;
  std::int64_t legacy = 0;
  std::map<std::string, std::int64_t> by_type;
  app::Entry entry;
  app::AuditFailure failure;
  app::ReadStatus status = app::ReadStatus::end;
  while ((status = log.next(entry, failure)) == app::ReadStatus::entry) {
    ++entries;
    if (entry.legacy) {
      ++legacy;
    } else {
      ++by_type[entry.event_type];
    }
  }
  const app::Cursor head = log.position();
  const bool broken = status == app::ReadStatus::failure;
  if (json) {
    nlohmann::ordered_json j;
    j["ok"] = !broken;
    j["mode"] = o.keys ? "strict" : "chain";
    j["entries"] = entries;
    j["legacy"] = legacy;
    j["events"] = by_type;
    j["head"] = {{"line", head.line}, {"entry_hash", head.entry_hash},
                 {"offset", head.offset}};
    j["incomplete_tail"] = status == app::ReadStatus::incomplete;
    j["failure"] = broken ? nlohmann::ordered_json{{"line", failure.line},
                                                   {"event_id", failure.event_id},
                                                   {"reason", failure.reason},
                                                   {"detail", failure.detail}}
                          : nlohmann::ordered_json(nullptr);
    std::cout << j.dump() << '\n';
  } else {
    std::cout << fmt::format("{} entries verified ({} mode), {} version-1\n",
                             entries, o.keys ? "strict" : "chain", legacy);
    for (const auto& [type, n] : by_type) {
      std::cout << fmt::format("  {:<28} {}\n", type, n);
    }
    std::cout << fmt::format("head: line {}, entry_hash {}\n", head.line,
                             head.entry_hash.empty() ? "-" : head.entry_hash);
    if (status == app::ReadStatus::incomplete) {
      std::cout << "the last line is incomplete (not ended by LF yet)\n";
    }
  }
  if (broken) {
    util::log::error(app::describe(failure, o.path));
    return ExitCode::data_err;
  }
  return ExitCode::ok;
}

} // namespace

void register_audit(CLI::App& app, const Globals& globals, Action& action)
{
  CLI::App* audit = app.add_subcommand("audit", "the audit log itself");
  audit->require_subcommand(1);
  auto json = std::make_shared<bool>(false);
  CLI::App* verify = audit->add_subcommand(
    "verify", "verify the whole log from line 1; report head and counts");
  verify->add_flag("--json", *json, "one JSON document");
  verify->callback([&globals, &action, json] {
    action = [&globals, json] { return verify_log(globals, *json); };
  });
}

} // namespace vtc::cli
