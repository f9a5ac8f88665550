// tick --dry-run: the real pass, run on a snapshot of the state database
// whose writes stay in memory (store::OpenMode::scratch) against a registry
// that sends nothing, so what it shows is what a pass would do, by the
// same code.

#include "app/tick.hpp"
#include "audit/log_file.hpp"
#include "cli/commands.hpp"
#include "cli/render.hpp"
#include "registry/dry_run_registry.hpp"
#include "registry/urls.hpp"
#include "store/pass_lock.hpp"
#include "util/log.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <iostream>
#include <limits>

#include <unistd.h>

namespace vtc::cli {

namespace {

struct PlannedJob
{
  std::string id;
  core::JobKind kind = core::JobKind::publish;
  std::string member; // target hash
  std::optional<core::TimeNs> due;
};

struct Plan
{
  bool pass_running = false;
  bool database_exists = true;
  std::vector<app::JobRow> in_flight;
  std::vector<PlannedJob> created;
  std::vector<PlannedJob> superseded;
  std::vector<registry::PlannedRequest> requests;
  // The DID the dry run logged in to the VTC as ("" for a file source).
  std::string vtc_login;
};

// The live job of the member a walk change makes a job for (one live job per
// member), as the store holds it: the batch's changes so far are written, in
// its transaction.
// The live job of the member of `did`, if any.
std::optional<app::JobRow> live_job(store::SqliteStore& store,
                                    const std::string& did)
{
  app::JobQuery q;
  q.member_did = did;
  q.limit = 1;
  auto rows = store.jobs(q);
  if (rows.empty()) {
    return std::nullopt;
  }
  return std::move(rows.front());
}

// The DIDs whose jobs a walk change supersedes (before it is written) or
// creates (after): a rotation's member is found under its old DID before,
// under its new one after, and its old DID's row gets the retire job.
std::vector<std::string> changed_dids(const app::WalkChange& change, bool after)
{
  std::vector<std::string> out;
  if (change.member.did.empty()) {
    return out;
  }
  if (!change.rotation) {
    if (change.job) {
      out.push_back(change.member.did);
    }
    return out;
  }
  if (!after) {
    return {change.rotation->old_did};
  }
  if (change.job) {
    out.push_back(change.member.did);
  }
  if (change.rotation->retire) {
    out.push_back(change.rotation->old_did);
  }
  return out;
}

// The code the walk gives (vtc-sync(1), EXIT STATUS): dispatch's own codes do
// not count, since nothing was sent.
ExitCode walk_code(ExitCode code)
{
  switch (code) {
  case ExitCode::unavailable:
  case ExitCode::protocol:
  case ExitCode::temp_fail:
    return ExitCode::ok;
  default:
    return code;
  }
}

// The jobs a pass would find in flight: a dead pass's, put back, or the
// running pass's own.
void print_recovery(const Plan& plan)
{
  if (plan.in_flight.empty()) {
    return;
  }
  if (plan.pass_running) {
    fmt::print("recover: {} job(s) in flight belong to the pass running now\n",
               plan.in_flight.size());
  } else {
    fmt::print(
      "recover: {} job(s) a dead pass left in flight would be put back\n",
      plan.in_flight.size());
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& j : plan.in_flight) {
    rows.push_back({"  " + j.id, std::string(core::to_string(j.kind)),
                    "member " + short_hash(j.target_hash),
                    fmt::format("attempt {}", j.attempts)});
  }
  fmt::print("{}", table(rows));
}

// Where the walk would stop, and why.
std::string walk_end(const app::TickResult& r)
{
  const app::WalkResult& w = r.walk;
  if (r.audit_unavailable) {
    return "the audit log cannot be read: " + r.audit_error;
  }
  if (w.policy_blocked) {
    return "blocked: the policy cannot be read";
  }
  if (w.failure) {
    return fmt::format("stops before line {}: {}", w.failure->line,
                       w.failure->reason);
  }
  if (w.stopped_early) {
    return "stops at the pass deadline";
  }
  return w.incomplete_tail
           ? "reaches the end (a last line is still being written)"
           : "reaches the end of the log";
}

void print_walk(const Plan& plan, const app::TickResult& r)
{
  fmt::print(
    "walk: {} entries would be read, {} jobs created, {} superseded; {}\n",
    r.walk.entries, plan.created.size(), plan.superseded.size(), walk_end(r));
  std::vector<std::vector<std::string>> rows;
  for (const auto& j : plan.superseded) {
    rows.push_back({"  supersede", j.id, std::string(core::to_string(j.kind)),
                    "member " + short_hash(j.member), ""});
  }
  for (const auto& j : plan.created) {
    rows.push_back({"  create", j.id, std::string(core::to_string(j.kind)),
                    "member " + short_hash(j.member),
                    j.due ? "due " + short_time(*j.due) : ""});
  }
  fmt::print("{}", table(rows));
}

void print_dispatch(const Plan& plan, const app::TickResult& r)
{
  fmt::print("dispatch: {} request(s) would be sent", plan.requests.size());
  if (r.dispatch.skipped > 0) {
    fmt::print(", {} job(s) skipped (nothing to send: publish_on_join is "
               "false, or consent blocks publication)",
               r.dispatch.skipped);
  }
  fmt::print("\n");
  std::vector<std::vector<std::string>> rows;
  for (const auto& q : plan.requests) {
    rows.push_back({"  " + q.method, q.url,
                    q.idempotency_key.empty()
                      ? "(probe)"
                      : "Idempotency-Key: " + q.idempotency_key});
  }
  fmt::print("{}", table(rows));
}

void print_text(const Plan& plan, const app::TickResult& r)
{
  fmt::print("dry run: nothing was sent and nothing was written\n");
  if (!plan.database_exists) {
    fmt::print("no state database yet: this is what the first pass would do\n");
  }
  if (!plan.vtc_login.empty()) {
    fmt::print("logged in to the VTC as {} to read its log: that ended the "
               "session of any pass running now, which logs in again\n",
               plan.vtc_login);
  }
  print_recovery(plan);
  print_walk(plan, r);
  if (r.reconciled > 0) {
    fmt::print("reconcile: {} job(s) for the changed publish_on_join or "
               "require_consent\n",
               r.reconciled);
  }
  print_dispatch(plan, r);
}

nlohmann::ordered_json job_json(const PlannedJob& j)
{
  nlohmann::ordered_json o{{"id", j.id},
                           {"kind", std::string(core::to_string(j.kind))},
                           {"member", short_hash(j.member)}};
  if (j.due) {
    o["due"] = core::format_rfc3339(*j.due);
  }
  return o;
}

void print_json(const Plan& plan, const app::TickResult& r, ExitCode code)
{
  nlohmann::ordered_json doc;
  doc["exit_code"] = static_cast<int>(code);
  doc["database_exists"] = plan.database_exists;
  doc["pass_running"] = plan.pass_running;
  doc["vtc_login"] = plan.vtc_login.empty()
                       ? nlohmann::ordered_json(nullptr)
                       : nlohmann::ordered_json(plan.vtc_login);
  auto& rec = doc["in_flight"] = nlohmann::ordered_json::array();
  for (const auto& j : plan.in_flight) {
    rec.push_back({{"id", j.id},
                   {"kind", std::string(core::to_string(j.kind))},
                   {"member", short_hash(j.target_hash)},
                   {"attempts", j.attempts},
                   {"action", plan.pass_running ? "running" : "recover"}});
  }
  const app::WalkResult& w = r.walk;
  nlohmann::ordered_json walk{{"entries", w.entries},
                              {"complete", w.complete && !w.failure},
                              {"incomplete_tail", w.incomplete_tail},
                              {"audit_unavailable", r.audit_unavailable},
                              {"policy_blocked", w.policy_blocked}};
  walk["failure"] = nullptr;
  if (w.failure) {
    walk["failure"] = {{"line", w.failure->line},
                       {"event_id", w.failure->event_id},
                       {"reason", w.failure->reason},
                       {"detail", w.failure->detail}};
  }
  doc["walk"] = walk;
  auto& created = doc["created"] = nlohmann::ordered_json::array();
  for (const auto& j : plan.created) {
    created.push_back(job_json(j));
  }
  auto& superseded = doc["superseded"] = nlohmann::ordered_json::array();
  for (const auto& j : plan.superseded) {
    superseded.push_back(job_json(j));
  }
  doc["reconciled"] = r.reconciled;
  doc["skipped"] = r.dispatch.skipped;
  auto& requests = doc["requests"] = nlohmann::ordered_json::array();
  for (const auto& q : plan.requests) {
    nlohmann::ordered_json o{{"method", q.method}, {"url", q.url}};
    o["job_id"] = nullptr;
    if (!q.job_id.empty()) {
      o["job_id"] = q.job_id;
    }
    o["idempotency_key"] = nullptr;
    if (!q.idempotency_key.empty()) {
      o["idempotency_key"] = q.idempotency_key;
    }
    requests.push_back(std::move(o));
  }
  std::cout << doc.dump() << '\n';
}

// Every job in flight, as the snapshot holds them.
std::vector<app::JobRow> in_flight_jobs(store::SqliteStore& db)
{
  app::JobQuery q;
  q.state = core::JobState::in_flight;
  q.limit = std::numeric_limits<std::int64_t>::max();
  return db.jobs(q);
}

// The pass's options, with the walk's hooks noting in `plan` the jobs each
// change supersedes and creates.
app::TickOptions dry_run_options(const config::Config& cfg,
                                 const TickFlags& flags, store::SqliteStore& db,
                                 Plan& plan)
{
  app::TickOptions options = tick_options(cfg);
  options.max_seconds = flags.max_seconds.value_or(options.max_seconds);
  options.dispatch.max_jobs =
    flags.max_jobs.value_or(options.dispatch.max_jobs);
  // The job a change replaces, before it is written; the job it creates,
  // after, with the due time the store gave it.
  options.walk.before_apply = [&db, &plan](const app::WalkChange& change) {
    for (const auto& did : changed_dids(change, false)) {
      if (const auto old = live_job(db, did)) {
        plan.superseded.push_back(
          {old->id, old->kind, old->target_hash, std::nullopt});
      }
    }
  };
  options.walk.after_apply = [&db, &plan](const app::WalkChange& change) {
    for (const auto& did : changed_dids(change, true)) {
      if (const auto made = live_job(db, did)) {
        plan.created.push_back(
          {made->id, made->kind, made->target_hash, made->due});
      }
    }
  };
  return options;
}

} // namespace

ExitCode run_dry_run(const Globals& globals, const TickFlags& flags)
{
  const config::Config cfg = load_config(globals);
  const store::Binding binding = binding_of(cfg);
  const audit::LogOptions log_opts = log_options(cfg);

  Plan plan;
  // The lock is only tried, never kept: a dry run runs beside a real pass.
  plan.pass_running = store::PassLock::held(cfg.state_db);
  plan.database_exists = ::access(cfg.state_db.c_str(), F_OK) == 0;
  SystemClock clock;
  store::SqliteStore db(cfg.state_db, store::OpenMode::scratch, binding, clock);
  plan.in_flight = in_flight_jobs(db);
  const app::TickOptions options = dry_run_options(cfg, flags, db, plan);

  const registry::Records records(record_key(cfg));
  const app::TickPorts ports{
    db,
    clock,
    [&]() -> std::unique_ptr<app::AuditLog> {
      if (!cfg.audit_source_is_url()) {
        return open_audit_log(cfg, log_opts);
      }
      audit::VtcLogOptions o =
        vtc_log_options(cfg, log_opts, [] { return false; });
      o.client.on_login = [&](const std::string& did) { plan.vtc_login = did; };
      return std::make_unique<audit::VtcLog>(std::move(o));
    },
    [&]() -> std::unique_ptr<app::Registry> {
      // The token and client key are checked as a pass would; nothing is sent.
      const registry::RegistryOptions r = registry_options(cfg);
      return std::make_unique<registry::DryRunRegistry>(
        r.key, registry::admin_base(r.url, r.admin_path), plan.requests);
    },
    [&] { return policy::load_policy(policy_options(cfg)); },
    [&] { return policy::file_stamp(policy_options(cfg)); },
    records,
    random_jitter,
  };
  // The pass's own log lines would tell of requests sent and jobs
  // recovered: only its errors are shown; stdout tells what would happen.
  util::log::configure(globals.log_format == "json" ? util::log::Format::json
                                                    : util::log::Format::text,
                       util::log::Level::error);
  const app::TickResult result = app::tick(ports, options);
  const ExitCode code = walk_code(result.code);
  if (flags.json) {
    print_json(plan, result, code);
  } else {
    print_text(plan, result);
  }
  return code;
}

} // namespace vtc::cli
