#include "app/source_health.hpp"
#include "cli/commands.hpp"
#include "cli/render.hpp"
#include "store/pass_lock.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <iostream>

namespace vtc::cli {

namespace {

// A final line without LF older than this: its writer has probably died
// mid-entry, and the walk waits for it forever.
constexpr core::TimeNs k_stale_line = 5 * 60 * core::k_ns_per_second;

// What status reads of the audit file itself.
struct AuditTail
{
  // Bytes after the cursor (new entries, a bad entry, an incomplete line);
  // nullopt when the file cannot be read.
  std::optional<std::int64_t> lag;
  // When the file was last written, if it ends with an incomplete line.
  std::optional<core::TimeNs> incomplete_since;
};

// Where the entries come from, and how that source has been answering.
struct Source
{
  bool vtc = false;     // a running VTC, read over its REST API
  std::string location; // its URL, or the file
  std::optional<app::SourceHealth> health; // nullopt: never failed
};

AuditTail audit_tail(const config::Config& cfg, const app::StatusView& v)
{
  AuditTail t;
  struct stat st = {};
  // A VTC's backlog is known only to a pass that logs in and reads it.
  if (cfg.audit_source_is_url()) {
    return t;
  }
  if (::stat(cfg.audit_source.c_str(), &st) != 0) {
    return t;
  }
  const std::int64_t offset =
    v.cursor ? static_cast<std::int64_t>(v.cursor->offset) : 0;
  t.lag = std::max<std::int64_t>(st.st_size - offset, 0);
  if (st.st_size > 0) {
    std::ifstream f(cfg.audit_source, std::ios::binary);
    char last = '\n';
    if (f.seekg(st.st_size - 1) && f.get(last) && last != '\n') {
      t.incomplete_since =
        st.st_mtim.tv_sec * core::k_ns_per_second + st.st_mtim.tv_nsec;
    }
  }
  return t;
}

std::optional<std::string> stale_line_warning(const AuditTail& t,
                                              core::TimeNs now)
{
  if (!t.incomplete_since || now - *t.incomplete_since <= k_stale_line) {
    return std::nullopt;
  }
  return fmt::format(
    "the audit log has ended with an incomplete line for {}: its writer may "
    "have died mid-entry, and the walk waits for the rest",
    human_duration(now - *t.incomplete_since));
}

// The warnings an operator must act on.
std::vector<std::string> warnings(const app::StatusView& v, const AuditTail& t,
                                  core::TimeNs now)
{
  std::vector<std::string> out;
  if (auto w = stale_line_warning(t, now)) {
    out.push_back(std::move(*w));
  }
  if (v.unattributable_removals > 0) {
    out.push_back(fmt::format(
      "{} redacted removal(s) matched no known member: a published member may "
      "stay published",
      v.unattributable_removals));
  }
  return out;
}

std::optional<core::TimeNs> future(const std::optional<core::TimeNs>& t,
                                   core::TimeNs now)
{
  return t && *t > now ? t : std::nullopt;
}

std::string source_health_text(const Source& s, core::TimeNs now)
{
  if (!s.health || !s.health->degraded) {
    return s.health
             ? fmt::format("active since {}", short_time(s.health->since))
             : std::string("active");
  }
  return fmt::format(
    "DEGRADED since {} ({} ago): {}", short_time(s.health->since),
    human_duration(now - s.health->since), s.health->last_error);
}

nlohmann::json time_or_null(const std::optional<core::TimeNs>& t)
{
  return t ? nlohmann::json(core::format_rfc3339(*t)) : nlohmann::json(nullptr);
}

nlohmann::ordered_json source_json(const Source& source)
{
  nlohmann::ordered_json health = nullptr;
  if (source.health) {
    const auto& h = *source.health;
    health = {{"state", h.degraded ? "degraded" : "active"},
              {"since", core::format_rfc3339(h.since)},
              {"last_success", h.last_success != 0
                                 ? time_or_null(h.last_success)
                                 : nlohmann::json(nullptr)},
              {"last_error", h.last_error}};
  }
  return {{"kind", source.vtc ? "vtc" : "file"},
          {"location", source.location},
          {"health", health}};
}

nlohmann::ordered_json registry_json(const app::StatusView& v, core::TimeNs now)
{
  return {{"health", std::string(core::to_string(v.health.state))},
          {"since", v.health.since != 0 ? time_or_null(v.health.since)
                                        : nlohmann::json(nullptr)},
          {"last_success", time_or_null(v.health.last_success)},
          {"last_failure", time_or_null(v.health.last_failure)},
          {"last_error", v.health.last_error},
          {"consecutive_failures", v.health.consecutive_failures},
          {"breaker_open_until",
           time_or_null(future(v.health.breaker_open_until, now))},
          {"paused_until", time_or_null(future(v.pause_until, now))}};
}

nlohmann::ordered_json last_pass_json(
  const std::optional<app::PassRecord>& pass)
{
  if (!pass) {
    return nullptr;
  }
  const auto& p = *pass;
  return {{"started", core::format_rfc3339(p.started)},
          {"finished", core::format_rfc3339(p.finished)},
          {"exit_code", p.exit_code},
          {"entries", p.entries},
          {"jobs_created", p.jobs_created},
          {"jobs_superseded", p.jobs_superseded},
          {"recovered", p.recovered},
          {"sent", p.sent},
          {"succeeded", p.succeeded},
          {"failed", p.failed}};
}

nlohmann::ordered_json to_json(const app::StatusView& v, core::TimeNs now,
                               bool running, const AuditTail& tail,
                               const Source& source)
{
  nlohmann::ordered_json j;
  j["generation"] = v.generation;
  j["running"] = running;
  j["source"] = source_json(source);
  if (v.cursor) {
    j["cursor"] = {{"line", v.cursor->line},
                   {"event_id", v.cursor->event_id},
                   {"entry_hash", v.cursor->entry_hash},
                   {"offset", v.cursor->offset}};
  } else {
    j["cursor"] = nullptr;
  }
  j["registry"] = registry_json(v, now);
  j["audit_lag_bytes"] =
    tail.lag ? nlohmann::json(*tail.lag) : nlohmann::json(nullptr);
  j["incomplete_line_since"] = time_or_null(tail.incomplete_since);
  j["jobs"] = {
    {"pending", v.pending}, {"in_flight", v.in_flight}, {"failed", v.failed}};
  j["oldest_due_age_seconds"] =
    v.oldest_due ? nlohmann::json((now - *v.oldest_due) / core::k_ns_per_second)
                 : nlohmann::json(nullptr);
  j["members"] = {{"active", v.members_active},
                  {"departed", v.members_departed}};
  j["invalid_events"] = v.invalid_events;
  j["unattributable"] = v.unattributable;
  j["unattributable_removals"] = v.unattributable_removals;
  j["last_pass"] = last_pass_json(v.last_pass);
  if (v.audit_failure) {
    const auto& f = *v.audit_failure;
    j["audit_failure"] = {{"line", f.line},
                          {"event_id", f.event_id},
                          {"reason", f.reason},
                          {"detail", f.detail}};
  } else {
    j["audit_failure"] = nullptr;
  }
  j["warnings"] = warnings(v, tail, now);
  return j;
}

std::string cursor_text(const app::StatusView& v, const Source& source)
{
  if (!v.cursor) {
    return "none (the log has not been walked yet)";
  }
  const app::Cursor& c = *v.cursor;
  if (source.vtc) {
    return fmt::format("entry {}, event {}, entry_hash {}", c.line,
                       c.event_id.empty() ? "-" : c.event_id, c.entry_hash);
  }
  return fmt::format("line {}, byte {}, entry_hash {}", c.line, c.offset,
                     c.entry_hash);
}

using Rows = std::vector<std::vector<std::string>>;

std::string audit_lag_text(const AuditTail& tail, const Source& source)
{
  if (tail.lag) {
    return fmt::format("{} bytes after the cursor", *tail.lag);
  }
  return source.vtc ? "known to passes only (status does not log in)"
                    : "audit source unreadable";
}

std::string audit_text(const app::StatusView& v)
{
  if (!v.audit_failure) {
    return "verified";
  }
  const auto& f = *v.audit_failure;
  return fmt::format("STOPPED at line {}{}: {}: {}", f.line,
                     f.event_id.empty() ? "" : " (event " + f.event_id + ")",
                     f.reason, f.detail);
}

// The pass, where the entries come from and how far the walk has read them.
void add_source_rows(Rows& rows, const app::StatusView& v, core::TimeNs now,
                     bool running, const AuditTail& tail, const Source& source)
{
  rows.push_back({"pass", running ? "running now" : "not running"});
  rows.push_back({"source", source.vtc ? source.location + " (a VTC, over REST)"
                                       : source.location});
  if (source.vtc) {
    rows.push_back({"source health", source_health_text(source, now)});
  }
  rows.push_back({"cursor", cursor_text(v, source)});
  rows.push_back({"audit lag", audit_lag_text(tail, source)});
  rows.push_back({"audit", audit_text(v)});
}

// How the registry has been answering, and what holds requests back.
void add_registry_rows(Rows& rows, const app::StatusView& v, core::TimeNs now)
{
  const auto ago = [&](const std::optional<core::TimeNs>& t) {
    return t ? fmt::format("{} ({} ago)", short_time(*t),
                           human_duration(now - *t))
             : std::string("never");
  };
  const core::Health& h = v.health;
  rows.push_back(
    {"registry", h.since == 0
                   ? std::string(core::to_string(h.state))
                   : fmt::format("{} since {}", core::to_string(h.state),
                                 short_time(h.since))});
  if (const auto until = future(h.breaker_open_until, now)) {
    rows.push_back(
      {"breaker", fmt::format("open until {} ({} more)", short_time(*until),
                              human_duration(*until - now))});
  }
  if (const auto until = future(v.pause_until, now)) {
    rows.push_back({"paused", fmt::format("by the registry (429) until {}",
                                          short_time(*until))});
  }
  rows.push_back({"last success", ago(h.last_success)});
  rows.push_back({"last failure", h.last_failure
                                    ? ago(h.last_failure) + ": " + h.last_error
                                    : std::string("never")});
}

// The job queue, the members, and the entries that fit neither.
void add_work_rows(Rows& rows, const app::StatusView& v, core::TimeNs now)
{
  rows.push_back({"jobs", fmt::format("{} pending, {} in flight, {} failed",
                                      v.pending, v.in_flight, v.failed)});
  rows.push_back({"oldest due", v.oldest_due
                                  ? human_duration(now - *v.oldest_due) + " ago"
                                  : "nothing due"});
  rows.push_back(
    {"members", fmt::format("{} active, {} departed", v.members_active,
                            v.members_departed)});
  if (v.invalid_events > 0) {
    rows.push_back(
      {"invalid events", fmt::format("{} (membership events with a bad target)",
                                     v.invalid_events)});
  }
  if (v.unattributable > 0) {
    rows.push_back(
      {"unattributable",
       fmt::format("{} redacted entries matched no known member{}",
                   v.unattributable,
                   v.unattributable_removals > 0
                     ? fmt::format("; WARNING: {} of them removals — a "
                                   "published member may stay published",
                                   v.unattributable_removals)
                     : "")});
  }
}

std::string last_pass_text(const app::StatusView& v, core::TimeNs now)
{
  if (!v.last_pass) {
    return "none recorded";
  }
  const auto& p = *v.last_pass;
  return fmt::format("{} ({} ago), exit {}: {} entries, {} jobs created, {} "
                     "superseded, {} recovered, {} sent, {} succeeded, {} "
                     "failed",
                     short_time(p.started), human_duration(now - p.started),
                     p.exit_code, p.entries, p.jobs_created, p.jobs_superseded,
                     p.recovered, p.sent, p.succeeded, p.failed);
}

std::string to_text(const app::StatusView& v, core::TimeNs now, bool running,
                    const AuditTail& tail, const Source& source)
{
  Rows rows;
  add_source_rows(rows, v, now, running, tail, source);
  add_registry_rows(rows, v, now);
  add_work_rows(rows, v, now);
  rows.push_back({"last pass", last_pass_text(v, now)});
  if (const auto w = stale_line_warning(tail, now)) {
    rows.push_back({"WARNING", *w});
  }
  return table(rows);
}

} // namespace

void register_status(CLI::App& app, const Globals& globals, Action& action)
{
  auto json = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand(
    "status", "health, cursor, job counts, oldest due age, last pass");
  cmd->add_flag("--json", *json, "one JSON document");
  cmd->callback([&globals, &action, json] {
    action = [&globals, json] {
      const config::Config cfg = load_config(globals);
      SystemClock clock;
      auto store = open_store(cfg, store::OpenMode::read_only, clock);
      const core::TimeNs now = clock.now();
      const app::StatusView v = store->status(now);
      const bool running = store::PassLock::held(cfg.state_db);
      const AuditTail tail = audit_tail(cfg, v);
      const Source source{cfg.audit_source_is_url(), cfg.audit_source,
                          app::source_health(*store)};
      if (*json) {
        std::cout << to_json(v, now, running, tail, source).dump() << '\n';
      } else {
        std::cout << to_text(v, now, running, tail, source);
      }
      return ExitCode::ok;
    };
  });
}

} // namespace vtc::cli
