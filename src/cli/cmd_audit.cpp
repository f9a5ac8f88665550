#include "app/skip.hpp"
#include "app/walk.hpp"
#include "audit/log_file.hpp"
#include "cli/commands.hpp"
#include "store/pass_lock.hpp"
#include "util/encoding.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <iostream>
#include <map>

namespace vtc::cli {

namespace {

// The log as messages name it: the file, or the VTC's audit URL.
std::string opened_source(const config::Config& cfg)
{
  return cfg.audit_source_is_url()
           ? cfg.audit_source + cfg.audit_api_path + "/audit"
           : cfg.audit_source;
}

// The VTC's own verdict on its chain, compared with ours: a different
// head means the entries it served are not the chain it keeps.
struct VtcCheck
{
  audit::VtcVerdict verdict;
  std::string ours; // our head in the VTC's spelling (hex), "" for none
  bool agrees = true;
};

VtcCheck check_with_vtc(audit::VtcLog& log, const app::Cursor& head,
                        bool broken)
{
  VtcCheck c;
  c.verdict = log.client().verify();
  if (head.chained) {
    c.ours = util::hex(*util::decode_digest(head.entry_hash));
  }
  // After a break our head is where we stopped; only a complete walk has
  // a head to compare.
  c.agrees = broken || (c.verdict.verified && c.verdict.head == c.ours);
  return c;
}

// What a walk of the whole log found.
struct Tally
{
  std::int64_t entries = 0;
  std::int64_t legacy = 0;
  std::map<std::string, std::int64_t> by_type;
  app::Cursor head;
  app::ReadStatus status = app::ReadStatus::end;
  app::AuditFailure failure; // when status is failure
  bool broken() const { return status == app::ReadStatus::failure; }
};

// Reads `log` from where it was sought to its end or first failure.
Tally tally_log(app::AuditLog& log)
{
  Tally t;
  app::Entry entry;
  while ((t.status = log.next(entry, t.failure)) == app::ReadStatus::entry) {
    ++t.entries;
    if (entry.legacy) {
      ++t.legacy;
    } else {
      ++t.by_type[entry.event_type];
    }
  }
  t.head = log.position();
  return t;
}

void print_json(const Tally& t, const char* mode,
                const std::optional<VtcCheck>& vtc)
{
  nlohmann::ordered_json j;
  j["ok"] = !t.broken();
  j["mode"] = mode;
  j["entries"] = t.entries;
  j["legacy"] = t.legacy;
  j["events"] = t.by_type;
  j["head"] = {{"line", t.head.line},
               {"entry_hash", t.head.entry_hash},
               {"offset", t.head.offset}};
  j["incomplete_tail"] = t.status == app::ReadStatus::incomplete;
  if (vtc) {
    j["vtc"] = {{"verified", vtc->verdict.verified},
                {"head", vtc->verdict.head},
                {"agrees", vtc->agrees}};
  }
  j["failure"] = t.broken()
                   ? nlohmann::ordered_json{{"line", t.failure.line},
                                            {"event_id", t.failure.event_id},
                                            {"reason", t.failure.reason},
                                            {"detail", t.failure.detail}}
                   : nlohmann::ordered_json(nullptr);
  std::cout << j.dump() << '\n';
}

void print_text(const Tally& t, const char* mode,
                const std::optional<VtcCheck>& vtc)
{
  std::cout << fmt::format("{} entries verified ({} mode), {} version-1\n",
                           t.entries, mode, t.legacy);
  for (const auto& [type, n] : t.by_type) {
    std::cout << fmt::format("  {:<28} {}\n", type, n);
  }
  std::cout << fmt::format("head: line {}, entry_hash {}\n", t.head.line,
                           t.head.entry_hash.empty() ? "-" : t.head.entry_hash);
  if (t.status == app::ReadStatus::incomplete) {
    std::cout << "the last line is incomplete (not ended by LF yet)\n";
  }
  if (vtc) {
    std::cout << fmt::format("the VTC's own verification: {}, head {}\n",
                             vtc->verdict.verified ? "verified" : "BROKEN",
                             vtc->verdict.head.empty() ? "-"
                                                       : vtc->verdict.head);
  }
}

ExitCode verify_log(const Globals& globals, bool json)
{
  const config::Config cfg = load_config(globals);
  const audit::LogOptions o = log_options(cfg);
  std::unique_ptr<app::AuditLog> opened = open_audit_log(cfg, o);
  app::AuditLog& log = *opened;
  if (auto failure = log.seek(std::nullopt)) {
    throw AuditError(ExitCode::data_err, app::describe(*failure));
  }
  const Tally t = tally_log(log);
  std::optional<VtcCheck> vtc;
  if (auto* rest = dynamic_cast<audit::VtcLog*>(&log)) {
    vtc = check_with_vtc(*rest, t.head, t.broken());
  }
  const char* const mode = o.keys ? "strict" : "chain";
  if (json) {
    print_json(t, mode, vtc);
  } else {
    print_text(t, mode, vtc);
  }
  if (t.broken()) {
    util::log::error(app::describe(t.failure));
    return ExitCode::data_err;
  }
  if (vtc && !vtc->agrees) {
    util::log::error(fmt::format(
      "audit log {}: the VTC's own verification {} with head {}, the "
      "entries it served end with {}",
      opened_source(cfg), vtc->verdict.verified ? "ends" : "fails",
      vtc->verdict.head.empty() ? "-" : vtc->verdict.head,
      vtc->ours.empty() ? "-" : vtc->ours));
    return ExitCode::data_err;
  }
  return ExitCode::ok;
}

struct SkipFlags
{
  std::int64_t line = 0;
  std::string event_id;
  bool yes = false;
};

ExitCode skip_line(const Globals& globals, const SkipFlags& flags)
{
  const config::Config cfg = load_config(globals);
  const audit::LogOptions o = log_options(cfg);
  SystemClock clock;
  auto store = open_store(cfg, store::OpenMode::read_write, clock);
  // The cursor is a pass's business: hold the lock like one.
  store::PassLock lock(cfg.state_db);
  if (const auto f = store->audit_failure();
      f && f->line == flags.line && f->event_id == flags.event_id) {
    confirm(fmt::format("skip audit log line {} (event {}, {}: {}); nothing "
                        "from it will ever be applied",
                        f->line, f->event_id, f->reason, f->detail),
            flags.yes);
  }
  const auto log = open_audit_log(cfg, o);
  const app::AuditFailure skipped =
    app::skip_entry(*log, *store, flags.line, flags.event_id);
  std::cout << fmt::format(
    "skipped line {} (event {}, {}); the next entry must "
    "link to its entry_hash {}\n",
    skipped.line, skipped.event_id, skipped.reason, log->position().entry_hash);
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

  auto skip_flags = std::make_shared<SkipFlags>();
  CLI::App* skip = audit->add_subcommand(
    "skip", "step over the one entry the walk stopped at (after review)");
  skip->add_option("LINE", skip_flags->line, "the line the walk stopped at")
    ->required()
    ->check(CLI::PositiveNumber);
  skip
    ->add_option("--event-id", skip_flags->event_id,
                 "the event id of that line, as status shows it")
    ->required();
  skip->add_flag("--yes", skip_flags->yes, "do not ask for confirmation");
  skip->callback([&globals, &action, skip_flags] {
    action = [&globals, skip_flags] { return skip_line(globals, *skip_flags); };
  });
}

} // namespace vtc::cli
