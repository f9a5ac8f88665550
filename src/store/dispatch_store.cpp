// SqliteStore: claiming due jobs and recording what the registry answered
// (recover_store.cpp puts back the jobs a pass that died left in flight).

#include "store/store_impl.hpp"

#include "core/policy.hpp"

#include <nlohmann/json.hpp>

#include <map>

namespace vtc::store {

using detail::guarded;
using detail::WriteTransaction;
using nlohmann::json;

namespace {

json health_to_json(const core::Health& h)
{
  auto opt = [](const std::optional<core::TimeNs>& t) {
    return t ? json(*t) : json(nullptr);
  };
  return {{"state", std::string(core::to_string(h.state))},
          {"since", h.since},
          {"last_success", opt(h.last_success)},
          {"last_failure", opt(h.last_failure)},
          {"last_error", h.last_error},
          {"consecutive_failures", h.consecutive_failures},
          {"breaker_trips", h.breaker_trips},
          {"breaker_open_until", opt(h.breaker_open_until)}};
}

core::Health health_from_json(const json& j)
{
  auto opt = [&](const char* key) -> std::optional<core::TimeNs> {
    return j.at(key).is_null() ? std::nullopt
                               : std::optional(j.at(key).get<core::TimeNs>());
  };
  core::Health h;
  h.state = core::health_state_from(j.at("state").get<std::string>())
              .value_or(core::HealthState::active);
  h.since = j.at("since").get<core::TimeNs>();
  h.last_success = opt("last_success");
  h.last_failure = opt("last_failure");
  h.last_error = j.at("last_error").get<std::string>();
  h.consecutive_failures = j.at("consecutive_failures").get<std::int64_t>();
  h.breaker_trips = j.value("breaker_trips", std::int64_t{0});
  if (j.contains("breaker_open_until")) {
    h.breaker_open_until = opt("breaker_open_until");
  }
  return h;
}

core::Health read_health(SQLite::Database& db)
{
  const auto text = detail::meta_get(db, "health");
  if (!text) {
    return {};
  }
  const auto j = json::parse(*text, nullptr, false);
  if (j.is_discarded()) {
    throw StoreError("meta value health is not valid JSON");
  }
  return health_from_json(j);
}

} // namespace

core::Health SqliteStore::health()
{
  return guarded(m_impl->path, [&] { return read_health(*m_impl->db); });
}

namespace {

std::string due_query(app::ClaimScope scope, std::string_view columns,
                      std::string_view joins = "")
{
  std::string sql =
    fmt::format("SELECT {} FROM jobs j JOIN members m ON m.id = j.member_id {}"
                "WHERE j.state = 'pending' AND j.due <= ? ",
                columns, joins);
  // A withdrawn consent's delete needs no policy; unknown consent under
  // require_consent does, and what it sends is decided at the claim.
  // Unknown consent is NULL: `IS`, so that NOT of this is true for it.
  constexpr const char* k_no_policy =
    "(m.status = 'purged' OR m.consent IS 'withdrawn')";
  switch (scope) {
  case app::ClaimScope::all:
    break;
  case app::ClaimScope::removals_only:
    sql += "AND (m.status = 'departed' OR m.status = 'purged' OR "
           "j.kind = 'withdraw') ";
    break;
  case app::ClaimScope::deletes_only:
    sql += fmt::format("AND {} ", k_no_policy);
    break;
  case app::ClaimScope::needing_policy:
    sql += fmt::format("AND NOT {} ", k_no_policy);
    break;
  }
  return sql + "ORDER BY j.due, j.rowid LIMIT ?";
}

} // namespace

bool SqliteStore::has_due(core::TimeNs now, app::ClaimScope scope)
{
  return guarded(m_impl->path, [&] {
    auto st = m_impl->prepare(due_query(scope, "1"));
    detail::bind(*st, now, std::int64_t{1});
    return st->executeStep();
  });
}

namespace {

// Whether a claim in `scope` may send what `send` decided: while the walk
// is incomplete only deletes and departures go out (a withdraw job whose
// member may be published again waits).
bool sendable(app::ClaimScope scope, const app::ClaimedJob& j)
{
  return scope != app::ClaimScope::removals_only ||
         j.send == core::Send::erase ||
         j.member.status == core::MemberStatus::departed;
}

} // namespace

namespace {

// A claimed job as the due-jobs query reads it (k_claim_columns), and
// what to send for it.
app::ClaimedJob claimed_from(SQLite::Statement& st,
                             const core::Publication& publication,
                             std::string_view& skip_reason)
{
  app::ClaimedJob j;
  j.id = detail::job_id_text(st.getColumn(0));
  j.kind = core::job_kind_from(st.getColumn(1).getString())
             .value_or(core::JobKind::publish);
  j.attempts = st.getColumn(2).getInt64() + 1;
  j.retries = st.getColumn(3).getInt64();
  j.key_id = detail::uuid_text(st.getColumn(4));
  j.target_hash = detail::hash_text(st.getColumn(5));
  j.nonce = st.getColumn(6).getInt64();
  app::Member m = detail::member_from(st, 7);
  j.member_id = m.id;
  j.did = std::move(m.did);
  j.member = m.state;
  j.mirror =
    detail::mirror_state(st.getColumn(7 + detail::k_member_column_count));
  const core::SendDecision d =
    core::decide_send(j.member, j.mirror, publication);
  j.send = d.send;
  skip_reason = d.skip_reason;
  return j;
}

// Removes the job `id` of `member_id` (its live job, if still that one);
// returns whether it was there.
int delete_job(SqliteStore::Impl& impl, std::int64_t member_id,
               std::string_view id)
{
  auto del = impl.prepare("DELETE FROM jobs WHERE member_id = ? AND id = ?");
  detail::bind(*del, member_id, detail::Blob{id});
  return del->exec();
}

// The due jobs that send nothing end as skipped.
void skip(SqliteStore::Impl& impl,
          const std::vector<std::pair<app::ClaimedJob, std::string_view>>& jobs)
{
  for (const auto& [j, reason] : jobs) {
    impl.moved("jobs.pending", "",
               delete_job(impl, j.member_id, detail::new_job_id_bytes(j.id)));
    impl.add_outcome({core::OutcomeKind::skipped, j.id, j.attempts - 1,
                      j.key_id, j.target_hash,
                      json{{"reason", reason}}.dump()});
  }
}

// The claimed jobs go in flight: attempt counted, attempt row started,
// mirror unknown until an answer says.
void start(SqliteStore::Impl& impl, const std::vector<app::ClaimedJob>& jobs,
           core::TimeNs now)
{
  auto claim = impl.prepare("UPDATE jobs SET state = 'in_flight', "
                            "attempts = ? WHERE member_id = ? AND id = ?");
  // n numbers every request ever sent for the job, across retries and
  // unspent attempts, so the history is never overwritten.
  auto attempt = impl.prepare(
    "INSERT INTO attempts(job_id, n, started, method, retry) "
    "VALUES (?1, (SELECT coalesce(max(n), 0) + 1 FROM attempts WHERE "
    "job_id = ?1), ?2, ?3, ?4)");
  auto mirror = impl.prepare(
    "INSERT INTO mirror(member_id, state, updated) VALUES (?, 'unknown', ?) "
    "ON CONFLICT(member_id) DO UPDATE SET state = 'unknown', "
    "updated = excluded.updated");
  for (const auto& j : jobs) {
    const std::string id = detail::new_job_id_bytes(j.id);
    detail::bind(*claim, j.attempts, j.member_id, detail::Blob{id});
    impl.moved("jobs.pending", "jobs.in_flight", claim->exec());
    claim->reset();
    detail::bind(*attempt, detail::Blob{id}, now, core::request_method(j.send),
                 j.retries);
    attempt->exec();
    attempt->reset();
    detail::bind(*mirror, j.member_id, now);
    mirror->exec();
    mirror->reset();
  }
}

} // namespace

std::vector<app::ClaimedJob> SqliteStore::Impl::claim(
  detail::WriteTransaction& /*tx*/, core::TimeNs now, std::int64_t limit,
  app::ClaimScope scope, const core::Publication& publication,
  std::int64_t& skipped)
{
  std::vector<app::ClaimedJob> jobs;
  std::vector<std::pair<app::ClaimedJob, std::string_view>> to_skip;
  {
    auto st = prepare(due_query(
      scope,
      fmt::format("j.id, j.kind, j.attempts, j.retries, a.key_id, {}, j.nonce, "
                  "{}, (SELECT state FROM mirror WHERE member_id = m.id)",
                  detail::k_job_target, detail::k_member_columns),
      detail::k_job_keys));
    detail::bind(*st, now, limit);
    while (st->executeStep()) {
      std::string_view reason;
      app::ClaimedJob j = claimed_from(*st, publication, reason);
      if (j.send == core::Send::none) {
        to_skip.emplace_back(std::move(j), reason);
      } else if (sendable(scope, j)) {
        jobs.push_back(std::move(j));
      }
    }
  }
  skip(*this, to_skip);
  skipped = static_cast<std::int64_t>(to_skip.size());
  start(*this, jobs, now);
  return jobs;
}

namespace {

// The attempt row of a request that ended: when, how, and its digest.
void end_attempt(SqliteStore::Impl& impl, const app::Finished& f,
                 std::string_view id, core::TimeNs now)
{
  auto attempt = impl.prepare(
    "UPDATE attempts SET finished = ?, http_status = ?, class = ?, "
    "error = ?, digest = ? WHERE job_id = ? AND finished IS NULL");
  detail::bind(*attempt, now,
               f.answer.status != 0 ? std::optional(f.answer.status)
                                    : std::nullopt,
               core::to_string(f.answer.cls), f.answer.error, f.sent.key_digest,
               detail::Blob{id});
  attempt->exec();
  attempt->reset();
}

// A job whose request succeeded ends, and the mirror follows.
void job_done(SqliteStore::Impl& impl, const app::Finished& f,
              std::string_view id, core::TimeNs now)
{
  const auto& j = f.job;
  impl.moved("jobs.in_flight", "", delete_job(impl, j.member_id, id));
  if (f.sent.method == "DELETE" &&
      j.member.status == core::MemberStatus::purged) {
    // Forget the member (or the retired DID): the mirror row and its
    // pairs go with it (ON DELETE CASCADE), and secure_delete overwrites
    // the DID.
    auto forget = impl.prepare("DELETE FROM members WHERE id = ?");
    detail::bind(*forget, j.member_id);
    impl.moved("members.purged", "", forget->exec());
  } else if (f.sent.method == "DELETE") {
    // A withdrawal: the member stays, the registry holds nothing.
    auto absent = impl.prepare("DELETE FROM mirror WHERE member_id = ?");
    detail::bind(*absent, j.member_id);
    absent->exec();
  } else {
    auto mirror = impl.prepare(
      "UPDATE mirror SET state = 'present', record_id = ?, body = ?, "
      "updated = ? WHERE member_id = ?");
    detail::bind(*mirror, f.sent.record_id, f.sent.body, now, j.member_id);
    mirror->exec();
  }
  impl.add_outcome({core::OutcomeKind::succeeded, j.id, j.attempts, j.key_id,
                    j.target_hash, ""});
}

// A job whose request failed waits for its next attempt (`retry`), or
// goes back without spending one (`unspent`).
void job_waits(SqliteStore::Impl& impl, const app::Finished& f,
               std::string_view id, core::TimeNs now)
{
  const auto& j = f.job;
  const bool spent = f.step == core::NextStep::retry;
  auto up =
    impl.prepare("UPDATE jobs SET state = 'pending', due = ?, attempts = ?, "
                 "last_error = ? WHERE member_id = ? AND id = ?");
  detail::bind(*up, spent ? f.due : now, spent ? j.attempts : j.attempts - 1,
               f.answer.error, j.member_id, detail::Blob{id});
  impl.moved("jobs.in_flight", "jobs.pending", up->exec());
}

void job_failed(SqliteStore::Impl& impl, const app::Finished& f,
                std::string_view id)
{
  const auto& j = f.job;
  auto up = impl.prepare("UPDATE jobs SET state = 'failed', last_error = ? "
                         "WHERE member_id = ? AND id = ?");
  detail::bind(*up, f.answer.error, j.member_id, detail::Blob{id});
  impl.moved("jobs.in_flight", "jobs.failed", up->exec());
  impl.add_outcome({core::OutcomeKind::failed, j.id, j.attempts, j.key_id,
                    j.target_hash,
                    json{{"http_status", f.answer.status},
                         {"class", std::string(core::to_string(f.answer.cls))},
                         {"error", f.answer.error}}
                      .dump(-1, ' ', false, json::error_handler_t::replace)});
}

// Adds the requests made, by answer class, to the counters.
void count_requests(SqliteStore::Impl& impl,
                    const std::map<std::string_view, std::int64_t>& requests)
{
  auto counter = impl.prepare(
    "INSERT INTO counters(name, value) VALUES (?, ?) ON CONFLICT(name) "
    "DO UPDATE SET value = value + excluded.value");
  for (const auto& [cls, n] : requests) {
    detail::bind(*counter, "requests." + std::string(cls), n);
    counter->exec();
    counter->reset();
  }
}

// Writes the registry's health when it changed; a change of state is an
// outcome.
void write_health(SqliteStore::Impl& impl, const core::Health& health)
{
  const core::Health before = read_health(*impl.db);
  if (before == health) {
    return;
  }
  detail::meta_set(*impl.db, "health", health_to_json(health).dump());
  if (before.state != health.state) {
    impl.add_outcome({core::OutcomeKind::status_changed, "", 0, "", "",
                      json{{"from", std::string(core::to_string(before.state))},
                           {"to", std::string(core::to_string(health.state))},
                           {"error", health.last_error}}
                        .dump(-1, ' ', false, json::error_handler_t::replace)});
  }
}

} // namespace

void SqliteStore::Impl::record_answers(detail::WriteTransaction& /*tx*/,
                                       const std::vector<app::Finished>& done,
                                       const core::Health& health,
                                       std::optional<core::AnswerClass> probe)
{
  const core::TimeNs now = clock.now();
  // Requests by class, each counter row updated once.
  std::map<std::string_view, std::int64_t> requests;
  if (probe) {
    ++requests[core::to_string(*probe)];
  }
  for (const auto& f : done) {
    const std::string id = detail::new_job_id_bytes(f.job.id);
    end_attempt(*this, f, id, now);
    ++requests[core::to_string(f.answer.cls)];
    switch (f.step) {
    case core::NextStep::done:
      job_done(*this, f, id, now);
      break;
    case core::NextStep::retry:
    case core::NextStep::unspent:
      job_waits(*this, f, id, now);
      break;
    case core::NextStep::fail:
      job_failed(*this, f, id);
      break;
    }
  }
  count_requests(*this, requests);
  write_health(*this, health);
}

void SqliteStore::Impl::put_back(detail::WriteTransaction& /*tx*/,
                                 const std::vector<app::ClaimedJob>& unsent)
{
  auto job = prepare("UPDATE jobs SET state = 'pending', attempts = ? "
                     "WHERE member_id = ? AND id = ?");
  auto attempt =
    prepare("DELETE FROM attempts WHERE job_id = ? AND finished IS NULL");
  auto absent = prepare("DELETE FROM mirror WHERE member_id = ?");
  auto present =
    prepare("UPDATE mirror SET state = 'present' WHERE member_id = ?");
  for (const auto& j : unsent) {
    const std::string id = detail::new_job_id_bytes(j.id);
    detail::bind(*job, j.attempts - 1, j.member_id, detail::Blob{id});
    moved("jobs.in_flight", "jobs.pending", job->exec());
    job->reset();
    detail::bind(*attempt, detail::Blob{id});
    attempt->exec();
    attempt->reset();
    if (j.mirror != app::MirrorState::unknown) {
      auto& mirror = j.mirror == app::MirrorState::absent ? absent : present;
      detail::bind(*mirror, j.member_id);
      mirror->exec();
      mirror->reset();
    }
  }
}

void SqliteStore::finish(const std::vector<app::Finished>& done,
                         const core::Health& health,
                         std::optional<core::AnswerClass> probe)
{
  guarded(m_impl->path, [&] {
    WriteTransaction tx(*m_impl->db);
    m_impl->record_answers(tx, done, health, probe);
    m_impl->commit(tx);
  });
}

std::vector<app::ClaimedJob> SqliteStore::dispatch_step(
  const app::DispatchStep& step, std::int64_t& skipped)
{
  return guarded(m_impl->path, [&] {
    skipped = 0;
    // The read and the claim share one write transaction with the
    // answers, so no other writer can claim the same rows in between.
    WriteTransaction tx(*m_impl->db);
    m_impl->record_answers(tx, step.done, step.health, std::nullopt);
    m_impl->put_back(tx, step.unsent);
    std::vector<app::ClaimedJob> jobs;
    if (step.claim > 0) {
      jobs = m_impl->claim(tx, step.now, step.claim, step.scope,
                           step.publication, skipped);
    }
    m_impl->commit(tx);
    return jobs;
  });
}

} // namespace vtc::store
