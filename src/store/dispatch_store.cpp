// SqliteStore: claiming due jobs, recording what the registry answered, and
// recovering the jobs a pass that died left in flight.

#include "store/store_impl.hpp"

#include "core/policy.hpp"

#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include <map>

namespace vtc::store {

using detail::guarded;
using detail::WriteTransaction;
using nlohmann::json;

namespace {

// A write transaction of its own, or a part of the one dispatch_step()
// opened, which then commits everything together.
class JoinedTransaction
{
public:
  explicit JoinedTransaction(SqliteStore::Impl& impl) : m_impl(impl)
  {
    if (sqlite3_get_autocommit(impl.db->getHandle()) != 0) {
      m_own.emplace(*impl.db);
    }
  }
  void commit()
  {
    if (m_own) {
      m_impl.commit(*m_own);
    }
  }

private:
  SqliteStore::Impl& m_impl;
  std::optional<WriteTransaction> m_own;
};

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
  std::string sql = fmt::format(
    "SELECT {} FROM jobs j JOIN members m ON m.id = j.member_id {}"
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
    st->bind(1, static_cast<std::int64_t>(now));
    st->bind(2, std::int64_t{1});
    return st->executeStep();
  });
}

namespace {

// Whether a claim in `scope` may send what `send` decided: while the walk
// is incomplete only deletes and departures go out (a withdraw job whose
// member may be published again waits).
bool sendable(app::ClaimScope scope, const app::ClaimedJob& j)
{
  return scope != app::ClaimScope::removals_only || j.send == core::Send::erase ||
         j.member.status == core::MemberStatus::departed;
}

} // namespace

std::vector<app::ClaimedJob> SqliteStore::claim_due(
  core::TimeNs now, std::int64_t limit, app::ClaimScope scope,
  const core::Publication& publication, std::int64_t& skipped)
{
  return guarded(m_impl->path, [&] {
    std::vector<app::ClaimedJob> jobs;
    std::vector<std::pair<app::ClaimedJob, std::string_view>> to_skip;
    skipped = 0;
    const std::string sql = due_query(
      scope,
      fmt::format("j.id, j.kind, j.attempts, j.retries, a.key_id, {}, j.nonce, "
                  "{}, (SELECT state FROM mirror WHERE member_id = m.id)",
                  detail::k_job_target, detail::k_member_columns),
      detail::k_job_keys);
    // The read and the claim share one write transaction, so no other
    // writer can claim the same rows in between.
    JoinedTransaction tx(*m_impl);
    auto st = m_impl->prepare(sql);
    st->bind(1, static_cast<std::int64_t>(now));
    st->bind(2, static_cast<std::int64_t>(limit));
    while (st->executeStep()) {
      app::ClaimedJob j;
      j.id = detail::job_id_text(st->getColumn(0));
      j.kind = core::job_kind_from(st->getColumn(1).getString())
                 .value_or(core::JobKind::publish);
      j.attempts = st->getColumn(2).getInt64() + 1;
      j.retries = st->getColumn(3).getInt64();
      j.key_id = detail::uuid_text(st->getColumn(4));
      j.target_hash = detail::hash_text(st->getColumn(5));
      j.nonce = st->getColumn(6).getInt64();
      app::Member m = detail::member_from(*st, 7);
      j.member_id = m.id;
      j.did = std::move(m.did);
      j.member = m.state;
      j.mirror =
        detail::mirror_state(st->getColumn(7 + detail::k_member_column_count));
      const core::SendDecision d = core::decide_send(j.member, j.mirror, publication);
      j.send = d.send;
      if (d.send == core::Send::none) {
        to_skip.emplace_back(std::move(j), d.skip_reason);
      } else if (sendable(scope, j)) {
        jobs.push_back(std::move(j));
      }
    }
    if (jobs.empty() && to_skip.empty()) {
      return jobs; // nothing due: the transaction rolls back, nothing written
    }
    for (const auto& [j, reason] : to_skip) {
      auto del = m_impl->prepare(
        "DELETE FROM jobs WHERE member_id = ? AND id = ?");
      del->bind(1, static_cast<std::int64_t>(j.member_id));
      detail::bind_bytes(*del, 2, detail::new_job_id_bytes(j.id));
      m_impl->moved("jobs.pending", "", del->exec());
      m_impl->add_outcome({core::OutcomeKind::skipped, j.id, j.attempts - 1,
                           j.key_id, j.target_hash,
                           json{{"reason", reason}}.dump()});
    }
    skipped = static_cast<std::int64_t>(to_skip.size());
    auto claim = m_impl->prepare("UPDATE jobs SET state = 'in_flight', "
                                "attempts = ? WHERE member_id = ? AND id = ?");
    // n numbers every request ever sent for the job, across retries and
    // unspent attempts, so the history is never overwritten.
    auto attempt = m_impl->prepare(
      "INSERT INTO attempts(job_id, n, started, method, retry) "
          "VALUES (?1, (SELECT coalesce(max(n), 0) + 1 FROM attempts WHERE "
          "job_id = ?1), ?2, ?3, ?4)");
    auto mirror = m_impl->prepare(
      "INSERT INTO mirror(member_id, state, updated) VALUES (?, "
          "'unknown', ?) ON CONFLICT(member_id) DO UPDATE SET state = "
          "'unknown', updated = excluded.updated");
    for (const auto& j : jobs) {
      const std::string id = detail::new_job_id_bytes(j.id);
      claim->bind(1, static_cast<std::int64_t>(j.attempts));
      claim->bind(2, static_cast<std::int64_t>(j.member_id));
      detail::bind_bytes(*claim, 3, id);
      m_impl->moved("jobs.pending", "jobs.in_flight", claim->exec());
      claim->reset();
      detail::bind_bytes(*attempt, 1, id);
      attempt->bind(2, static_cast<std::int64_t>(now));
      attempt->bind(3, std::string(core::request_method(j.send)));
      attempt->bind(4, static_cast<std::int64_t>(j.retries));
      attempt->exec();
      attempt->reset();
      mirror->bind(1, static_cast<std::int64_t>(j.member_id));
      mirror->bind(2, static_cast<std::int64_t>(now));
      mirror->exec();
      mirror->reset();
    }
    tx.commit();
    return jobs;
  });
}

void SqliteStore::finish(const std::vector<app::Finished>& done,
                         const core::Health& health,
                         std::optional<core::AnswerClass> probe)
{
  guarded(m_impl->path, [&] {
    auto& db = *m_impl->db;
    const auto now = static_cast<std::int64_t>(m_impl->clock.now());
    JoinedTransaction tx(*m_impl);
    auto attempt = m_impl->prepare(
      "UPDATE attempts SET finished = ?, http_status = ?, class = ?, "
          "error = ?, digest = ? WHERE job_id = ? AND finished IS NULL");
    // Requests by class, each counter row updated once.
    std::map<std::string_view, std::int64_t> requests;
    if (probe) {
      ++requests[core::to_string(*probe)];
    }
    for (const auto& f : done) {
      const auto& j = f.job;
      const std::string id = detail::new_job_id_bytes(j.id);
      const std::string cls(core::to_string(f.answer.cls));
      attempt->bind(1, now);
      if (f.answer.status != 0) {
        attempt->bind(2, f.answer.status);
      } else {
        attempt->bind(2);
      }
      attempt->bind(3, cls);
      attempt->bind(4, f.answer.error);
      attempt->bind(5, f.sent.key_digest);
      detail::bind_bytes(*attempt, 6, id);
      attempt->exec();
      attempt->reset();
      ++requests[core::to_string(f.answer.cls)];

      app::Outcome outcome{core::OutcomeKind::succeeded, j.id, j.attempts,
                           j.key_id, j.target_hash, ""};
      switch (f.step) {
      case core::NextStep::done: {
        auto del = m_impl->prepare(
          "DELETE FROM jobs WHERE member_id = ? AND id = ?");
        del->bind(1, static_cast<std::int64_t>(j.member_id));
        detail::bind_bytes(*del, 2, id);
        m_impl->moved("jobs.in_flight", "", del->exec());
        if (f.sent.method == "DELETE" &&
            j.member.status == core::MemberStatus::purged) {
          // Forget the member (or the retired DID): the mirror row and its
          // pairs go with it (ON DELETE CASCADE), and secure_delete
          // overwrites the DID.
          auto forget = m_impl->prepare("DELETE FROM members WHERE id = ?");
          forget->bind(1, static_cast<std::int64_t>(j.member_id));
          m_impl->moved("members.purged", "", forget->exec());
        } else if (f.sent.method == "DELETE") {
          // A withdrawal: the member stays, the registry holds nothing.
          auto absent = m_impl->prepare("DELETE FROM mirror WHERE member_id = ?");
          absent->bind(1, static_cast<std::int64_t>(j.member_id));
          absent->exec();
        } else {
          auto mirror = m_impl->prepare(
            "UPDATE mirror SET state = 'present', record_id = ?, body = "
                "?, updated = ? WHERE member_id = ?");
          mirror->bind(1, f.sent.record_id);
          mirror->bind(2, f.sent.body);
          mirror->bind(3, now);
          mirror->bind(4, static_cast<std::int64_t>(j.member_id));
          mirror->exec();
        }
        m_impl->add_outcome(outcome);
        break;
      }
      case core::NextStep::retry:
      case core::NextStep::unspent: {
        const bool spent = f.step == core::NextStep::retry;
        auto up = m_impl->prepare(
          "UPDATE jobs SET state = 'pending', due = ?, attempts = ?, "
              "last_error = ? WHERE member_id = ? AND id = ?");
        up->bind(1, static_cast<std::int64_t>(spent ? f.due : now));
        up->bind(2, static_cast<std::int64_t>(spent ? j.attempts : j.attempts - 1));
        up->bind(3, f.answer.error);
        up->bind(4, static_cast<std::int64_t>(j.member_id));
        detail::bind_bytes(*up, 5, id);
        m_impl->moved("jobs.in_flight", "jobs.pending", up->exec());
        break;
      }
      case core::NextStep::fail: {
        auto up = m_impl->prepare("UPDATE jobs SET state = 'failed', "
                                 "last_error = ? WHERE member_id = ? AND id = ?");
        up->bind(1, f.answer.error);
        up->bind(2, static_cast<std::int64_t>(j.member_id));
        detail::bind_bytes(*up, 3, id);
        m_impl->moved("jobs.in_flight", "jobs.failed", up->exec());
        outcome.kind = core::OutcomeKind::failed;
        outcome.detail = json{{"http_status", f.answer.status},
                              {"class", cls},
                              {"error", f.answer.error}}
                           .dump(-1, ' ', false, json::error_handler_t::replace);
        m_impl->add_outcome(outcome);
        break;
      }
      }
    }
    auto counter = m_impl->prepare(
      "INSERT INTO counters(name, value) VALUES (?, ?) ON CONFLICT(name) "
          "DO UPDATE SET value = value + excluded.value");
    for (const auto& [cls, n] : requests) {
      counter->bind(1, "requests." + std::string(cls));
      counter->bind(2, n);
      counter->exec();
      counter->reset();
    }
    const core::Health before = read_health(db);
    if (!(before == health)) {
      detail::meta_set(db, "health", health_to_json(health).dump());
      if (before.state != health.state) {
        m_impl->add_outcome(
          {core::OutcomeKind::status_changed, "", 0, "", "",
           json{{"from", std::string(core::to_string(before.state))},
                {"to", std::string(core::to_string(health.state))},
                {"error", health.last_error}}
             .dump(-1, ' ', false, json::error_handler_t::replace)});
      }
    }
    tx.commit();
  });
}

std::vector<app::ClaimedJob> SqliteStore::dispatch_step(
  const app::DispatchStep& step, std::int64_t& skipped)
{
  return guarded(m_impl->path, [&] {
    skipped = 0;
    // finish() and claim_due() join this transaction.
    WriteTransaction tx(*m_impl->db);
    finish(step.done, step.health, std::nullopt);
    auto job = m_impl->prepare(
      "UPDATE jobs SET state = 'pending', attempts = ? WHERE member_id = ? "
      "AND id = ?");
    auto attempt = m_impl->prepare(
      "DELETE FROM attempts WHERE job_id = ? AND finished IS NULL");
    auto absent = m_impl->prepare("DELETE FROM mirror WHERE member_id = ?");
    auto present = m_impl->prepare(
      "UPDATE mirror SET state = 'present' WHERE member_id = ?");
    for (const auto& j : step.unsent) {
      const std::string id = detail::new_job_id_bytes(j.id);
      job->bind(1, static_cast<std::int64_t>(j.attempts - 1));
      job->bind(2, static_cast<std::int64_t>(j.member_id));
      detail::bind_bytes(*job, 3, id);
      m_impl->moved("jobs.in_flight", "jobs.pending", job->exec());
      job->reset();
      detail::bind_bytes(*attempt, 1, id);
      attempt->exec();
      attempt->reset();
      if (j.mirror != app::MirrorState::unknown) {
        auto& mirror = j.mirror == app::MirrorState::absent ? absent : present;
        mirror->bind(1, static_cast<std::int64_t>(j.member_id));
        mirror->exec();
        mirror->reset();
      }
    }
    std::vector<app::ClaimedJob> jobs;
    if (step.claim > 0) {
      jobs = claim_due(step.now, step.claim, step.scope, step.publication,
                       skipped);
    }
    m_impl->commit(tx);
    return jobs;
  });
}

std::int64_t SqliteStore::recover_in_flight(
  std::int64_t max_attempts,
  const std::function<core::TimeNs(std::int64_t)>& due_after)
{
  return guarded(m_impl->path, [&] {
    auto& db = *m_impl->db;
    // Read first, without a write lock: an idle pass must write nothing.
    SQLite::Statement find(db, "SELECT 1 FROM jobs WHERE state = 'in_flight' "
                               "LIMIT 1");
    if (!find.executeStep()) {
      return std::int64_t{0};
    }
    WriteTransaction tx(db);
    SQLite::Statement st(db, fmt::format("SELECT j.id, j.attempts, a.key_id, "
                                         "{}, j.member_id FROM jobs "
                                         "j {} WHERE j.state = 'in_flight'",
                                         detail::k_job_target,
                                         detail::k_job_keys));
    std::int64_t n = 0;
    const auto now = static_cast<std::int64_t>(m_impl->clock.now());
    while (st.executeStep()) {
      const std::string id = detail::job_id_text(st.getColumn(0));
      const std::int64_t attempts = st.getColumn(1).getInt64();
      const bool exhausted = attempts >= max_attempts;
      SQLite::Statement up(db, "UPDATE jobs SET state = ?, due = ?, "
                               "last_error = 'interrupted' WHERE member_id = ?");
      up.bind(1, exhausted ? "failed" : "pending");
      up.bind(2, static_cast<std::int64_t>(exhausted ? now : due_after(attempts)));
      up.bind(3, st.getColumn(4).getInt64());
      m_impl->moved("jobs.in_flight", exhausted ? "jobs.failed" : "jobs.pending",
                   up.exec());
      SQLite::Statement att(db, "UPDATE attempts SET finished = ?, "
                                "class = 'interrupted' WHERE job_id = ? AND "
                                "finished IS NULL");
      att.bind(1, now);
      att.bind(2, st.getColumn(0).getBlob(), st.getColumn(0).getBytes());
      att.exec();
      if (exhausted) {
        m_impl->add_outcome({core::OutcomeKind::failed, id, attempts,
                             detail::uuid_text(st.getColumn(2)),
                             detail::hash_text(st.getColumn(3)),
                             R"({"reason":"interrupted"})"});
      }
      ++n;
    }
    m_impl->commit(tx);
    return n;
  });
}

} // namespace vtc::store
