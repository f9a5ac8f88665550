#include "app/reconcile.hpp"

namespace vtc::app {

namespace {

std::optional<core::JobKind> needed(const MirroredMember& m,
                                    const RecordBuilder& records,
                                    const core::Policy& policy)
{
  const core::MemberStatus status = m.member.state.status;
  const bool absent = !m.mirror_present && !m.mirror_unknown;
  if (status == core::MemberStatus::purged) {
    return absent ? std::nullopt : std::optional(core::JobKind::erase);
  }
  if (status != core::MemberStatus::active &&
      status != core::MemberStatus::departed) {
    return std::nullopt;
  }
  if (core::skipped_by_publish_on_join(policy.publish_on_join, status, absent)) {
    return std::nullopt;
  }
  if (m.mirror_present && m.mirror_body == records.body(m.member)) {
    return std::nullopt;
  }
  if (status == core::MemberStatus::departed) {
    return core::JobKind::depart;
  }
  return m.mirror_present ? core::JobKind::update : core::JobKind::publish;
}

} // namespace

std::vector<ReconcileJob> plan_reconcile(StateStore& store,
                                         const RecordBuilder& records,
                                         const core::Policy& policy,
                                         core::TimeNs now)
{
  std::vector<ReconcileJob> jobs;
  for (const auto& m : store.mirrored_members()) {
    if (m.has_live_job) {
      continue; // that job already brings the record up to date
    }
    if (const auto kind = needed(m, records, policy)) {
      jobs.push_back(
        {records.reconcile_job_id(m.member.did, now), m.member.id, *kind});
    }
  }
  return jobs;
}

} // namespace vtc::app
