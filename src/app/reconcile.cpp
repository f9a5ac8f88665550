#include "app/reconcile.hpp"

namespace vtc::app {

namespace {

std::optional<core::JobKind> needed(const MirroredMember& m,
                                    const RecordBuilder& records,
                                    const core::Policy& policy)
{
  const core::MemberState& state = m.member.state;
  switch (core::decide_send(state, m.mirror, policy.publication()).send) {
  case core::Send::none:
    return std::nullopt;
  case core::Send::erase:
    if (m.mirror == core::MirrorState::absent) {
      return std::nullopt; // a purged member the registry never had
    }
    return state.status == core::MemberStatus::purged ? core::JobKind::erase
                                                      : core::JobKind::withdraw;
  case core::Send::put:
    break;
  }
  if (m.mirror == core::MirrorState::present &&
      m.mirror_body == records.body(m.member)) {
    return std::nullopt;
  }
  if (state.status == core::MemberStatus::departed) {
    return core::JobKind::depart;
  }
  return m.mirror == core::MirrorState::present ? core::JobKind::update
                                                : core::JobKind::publish;
}

} // namespace

std::vector<ReconcileJob> plan_reconcile(MirrorStore& store,
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
