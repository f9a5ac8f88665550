#include "cli/commands.hpp"
#include "cli/render.hpp"

#include "util/encoding.hpp"
#include "util/error.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <iostream>

namespace vtc::cli {

namespace {

nlohmann::ordered_json job_json(const app::JobRow& r)
{
  return {{"id", r.id},
          {"kind", std::string(core::to_string(r.kind))},
          {"state", std::string(core::to_string(r.state))},
          {"attempts", r.attempts},
          {"due", core::format_rfc3339(r.due)},
          {"rtbf", r.rtbf},
          {"event_line", r.event_line},
          {"member", short_hash(r.target_hash)},
          {"last_error", r.last_error}};
}

nlohmann::ordered_json outcome_json(const app::OutcomeRow& o)
{
  nlohmann::ordered_json j{{"generation", o.generation},
                           {"seq", o.seq},
                           {"at", core::format_rfc3339(o.at)},
                           {"kind", o.kind},
                           {"job_id", o.job_id},
                           {"attempts", o.attempts},
                           {"audit_key_id", o.key_id},
                           {"target_did_hash", o.target_hash}};
  j["detail"] = o.detail.empty()
                  ? nlohmann::ordered_json::object()
                  : nlohmann::ordered_json::parse(o.detail, nullptr, false);
  return j;
}

struct ListFlags
{
  std::string state = "all";
  std::optional<std::string> member;
  std::optional<std::string> kind;
  std::optional<std::string> after;
  std::int64_t limit = 100;
  bool json = false;
};

// The opaque paging token: where a page ended, as (due, seq).
std::string page_token(const app::JobRow& r)
{
  const std::string raw = fmt::format("{}.{}", r.due, r.seq);
  return util::base64url_encode(
    std::span(reinterpret_cast<const std::uint8_t*>(raw.data()), raw.size()));
}

std::pair<core::TimeNs, std::int64_t> parse_page_token(const std::string& token)
{
  const auto raw = util::base64url_decode(token);
  const auto dot = raw ? raw->find('.') : std::string::npos;
  try {
    if (dot != std::string::npos) {
      std::size_t used_due = 0;
      std::size_t used_seq = 0;
      const std::string due = raw->substr(0, dot);
      const std::string seq = raw->substr(dot + 1);
      const auto d = std::stoll(due, &used_due);
      const auto q = std::stoll(seq, &used_seq);
      if (used_due == due.size() && used_seq == seq.size()) {
        return {d, q};
      }
    }
  } catch (const std::exception&) {
  }
  throw UsageError(fmt::format("--after '{}': not a token a previous page "
                               "printed",
                               token));
}

ExitCode list_jobs(const Globals& globals, const ListFlags& flags)
{
  const config::Config cfg = load_config(globals);
  SystemClock clock;
  auto store = open_store(cfg, store::OpenMode::read_only, clock);
  app::JobQuery query;
  if (flags.state != "all") {
    query.state = core::job_state_from(flags.state);
  }
  if (flags.kind) {
    query.kind = core::job_kind_from(*flags.kind);
  }
  query.member_did = flags.member;
  if (flags.after) {
    query.after = parse_page_token(*flags.after);
  }
  query.limit = flags.limit;
  const auto rows = store->jobs(query);
  const core::TimeNs now = clock.now();
  if (flags.json) {
    for (const auto& r : rows) {
      auto j = job_json(r);
      j["after"] = page_token(r);
      std::cout << j.dump() << '\n';
    }
    return ExitCode::ok;
  }
  std::vector<std::vector<std::string>> table_rows{
    {"JOB", "KIND", "STATE", "ATTEMPTS", "DUE", "MEMBER", "LINE", "NOTE"}};
  for (const auto& r : rows) {
    std::string due =
      r.due <= now ? "now" : "in " + human_duration(r.due - now);
    std::string note =
      r.rtbf && r.due > now ? "rtbf: held until " + short_time(r.due) : "";
    if (!r.last_error.empty()) {
      note += (note.empty() ? "" : "; ") + r.last_error;
    }
    table_rows.push_back(
      {r.id, std::string(core::to_string(r.kind)),
       std::string(core::to_string(r.state)), std::to_string(r.attempts), due,
       short_hash(r.target_hash), std::to_string(r.event_line), note});
  }
  std::cout << table(table_rows);
  if (static_cast<std::int64_t>(rows.size()) == flags.limit) {
    std::cerr << fmt::format("vtc-sync: more may follow: --after {}\n",
                             page_token(rows.back()));
  }
  return ExitCode::ok;
}

nlohmann::ordered_json attempt_json(const app::AttemptRow& a)
{
  return {{"n", a.n},
          {"started", core::format_rfc3339(a.started)},
          {"finished", a.finished ? nlohmann::ordered_json(
                                      core::format_rfc3339(*a.finished))
                                  : nlohmann::ordered_json(nullptr)},
          {"method", a.method},
          {"idempotency_key", a.idempotency_key},
          {"http_status", a.http_status ? nlohmann::ordered_json(*a.http_status)
                                        : nlohmann::ordered_json(nullptr)},
          {"class", a.cls},
          {"error", a.error}};
}

void print_detail_json(const app::JobDetail& d)
{
  nlohmann::ordered_json j;
  j["job"] = d.live ? job_json(d.job) : nlohmann::ordered_json(nullptr);
  j["retries"] = d.retries;
  j["attempts"] = nlohmann::ordered_json::array();
  for (const auto& a : d.attempts) {
    j["attempts"].push_back(attempt_json(a));
  }
  j["outcomes"] = nlohmann::ordered_json::array();
  for (const auto& o : d.outcomes) {
    j["outcomes"].push_back(outcome_json(o));
  }
  std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
            << '\n';
}

// The job's own fields as name-value rows; an ended job has only its id.
std::vector<std::vector<std::string>> detail_head(const std::string& id,
                                                  const app::JobDetail& d)
{
  std::vector<std::vector<std::string>> head;
  head.push_back({"job", id});
  if (!d.live) {
    head.push_back({"state", "finished (history only)"});
    return head;
  }
  const auto& r = d.job;
  head.push_back({"kind", std::string(core::to_string(r.kind))});
  head.push_back({"state", std::string(core::to_string(r.state))});
  head.push_back({"attempts", fmt::format("{} (retried {} time(s))", r.attempts,
                                          d.retries)});
  head.push_back({"due", short_time(r.due)});
  head.push_back({"member", short_hash(r.target_hash)});
  head.push_back({"event line", std::to_string(r.event_line)});
  if (!r.last_error.empty()) {
    head.push_back({"last error", r.last_error});
  }
  return head;
}

void print_detail_text(const std::string& id, const app::JobDetail& d)
{
  std::cout << table(detail_head(id, d)) << "\nattempts\n";
  std::vector<std::vector<std::string>> rows{
    {"N", "STARTED", "METHOD", "KEY", "HTTP", "CLASS", "ERROR"}};
  for (const auto& a : d.attempts) {
    rows.push_back({std::to_string(a.n), short_time(a.started), a.method,
                    a.idempotency_key,
                    a.http_status ? std::to_string(*a.http_status) : "-",
                    a.cls.empty() ? "in flight" : a.cls, a.error});
  }
  std::cout << table(rows) << "\noutcomes\n";
  rows = {{"SEQ", "AT", "KIND", "ATTEMPTS", "DETAIL"}};
  for (const auto& o : d.outcomes) {
    rows.push_back({std::to_string(o.seq), short_time(o.at), o.kind,
                    std::to_string(o.attempts), o.detail});
  }
  std::cout << table(rows);
}

ExitCode show_job(const Globals& globals, const std::string& id, bool json)
{
  const config::Config cfg = load_config(globals);
  SystemClock clock;
  auto store = open_store(cfg, store::OpenMode::read_only, clock);
  const auto d = store->job_detail(id);
  if (!d) {
    throw NoInputError(fmt::format("unknown job id {}", id));
  }
  if (json) {
    print_detail_json(*d);
  } else {
    print_detail_text(id, *d);
  }
  return ExitCode::ok;
}

} // namespace

void print_outcome_json(const app::OutcomeRow& o)
{
  std::cout << outcome_json(o).dump(-1, ' ', false,
                                    nlohmann::json::error_handler_t::replace)
            << '\n';
}

void register_queue(CLI::App& app, const Globals& globals, Action& action)
{
  CLI::App* queue = app.add_subcommand("queue", "inspect and act on sync jobs");
  queue->require_subcommand(1);
  auto flags = std::make_shared<ListFlags>();
  CLI::App* list = queue->add_subcommand("list", "list live jobs in due order");
  list->add_option("--state", flags->state, "pending|in_flight|failed|all")
    ->check(CLI::IsMember({"pending", "in_flight", "failed", "all"}));
  list->add_option("--member", flags->member, "only this member's job (DID)");
  list
    ->add_option("--kind", flags->kind,
                 "publish|update|depart|delete|withdraw|retire")
    ->check(CLI::IsMember(
      {"publish", "update", "depart", "delete", "withdraw", "retire"}));
  list->add_option(
    "--after", flags->after,
    "continue after the row this token (from a previous page) names");
  list->add_option("--limit", flags->limit, "at most N rows (default 100)")
    ->check(CLI::Range(std::int64_t{1}, std::int64_t{100000}));
  list->add_flag("--json", flags->json, "NDJSON, one job per line");
  list->callback([&globals, &action, flags] {
    action = [&globals, flags] { return list_jobs(globals, *flags); };
  });

  auto show_id = std::make_shared<std::string>();
  auto show_json = std::make_shared<bool>(false);
  CLI::App* show = queue->add_subcommand(
    "show",
    "one job's full history: attempts, HTTP statuses, errors, outcomes");
  show->add_option("JOB_ID", *show_id, "job id")->required();
  show->add_flag("--json", *show_json, "one JSON document");
  show->callback([&globals, &action, show_id, show_json] {
    action = [&globals, show_id, show_json] {
      return show_job(globals, *show_id, *show_json);
    };
  });

  register_queue_changes(*queue, globals, action);
}

} // namespace vtc::cli
