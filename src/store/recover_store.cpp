// SqliteStore: recovery of the jobs a pass that died left in flight.

#include "store/store_impl.hpp"

namespace vtc::store {

using detail::guarded;
using detail::WriteTransaction;

std::int64_t SqliteStore::recover_in_flight(
  std::int64_t max_attempts,
  const std::function<core::TimeNs(std::int64_t)>& due_after)
{
  return guarded(m_impl->path, [&] {
    auto& impl = *m_impl;
    // Read first, without a write lock: an idle pass must write nothing.
    if (!impl.prepare("SELECT 1 FROM jobs WHERE state = 'in_flight' LIMIT 1")
           ->executeStep()) {
      return std::int64_t{0};
    }
    WriteTransaction tx(*impl.db);
    auto st = impl.prepare(fmt::format(
      "SELECT j.id, j.attempts, a.key_id, {}, j.member_id FROM jobs j {} "
      "WHERE j.state = 'in_flight'",
      detail::k_job_target, detail::k_job_keys));
    auto job = impl.prepare("UPDATE jobs SET state = ?, due = ?, "
                            "last_error = 'interrupted' WHERE member_id = ?");
    auto attempt =
      impl.prepare("UPDATE attempts SET finished = ?, class = 'interrupted' "
                   "WHERE job_id = ? AND finished IS NULL");
    std::int64_t n = 0;
    const core::TimeNs now = impl.clock.now();
    while (st->executeStep()) {
      const std::int64_t attempts = st->getColumn(1).getInt64();
      const bool exhausted = attempts >= max_attempts;
      detail::bind(*job, exhausted ? "failed" : "pending",
                   exhausted ? now : due_after(attempts),
                   st->getColumn(4).getInt64());
      impl.moved("jobs.in_flight", exhausted ? "jobs.failed" : "jobs.pending",
                 job->exec());
      job->reset();
      const std::string id(
        static_cast<const char*>(st->getColumn(0).getBlob()),
        static_cast<std::size_t>(st->getColumn(0).getBytes()));
      detail::bind(*attempt, now, detail::Blob{id});
      attempt->exec();
      attempt->reset();
      if (exhausted) {
        impl.add_outcome({core::OutcomeKind::failed, detail::job_id_text(id),
                          attempts, detail::uuid_text(st->getColumn(2)),
                          detail::hash_text(st->getColumn(3)),
                          R"({"reason":"interrupted"})"});
      }
      ++n;
    }
    impl.commit(tx);
    return n;
  });
}

} // namespace vtc::store
