#include "core/member.hpp"

namespace vtc::core {

bool consent_blocks(Consent consent, bool require_consent)
{
  return consent == Consent::withdrawn ||
         (consent == Consent::unknown && require_consent);
}

namespace {

bool is_member(MemberStatus status)
{
  return status == MemberStatus::active || status == MemberStatus::departed;
}

// The job that brings the registry to a member's state when that state
// may be published.
JobKind publishing_job(const MemberState& m, JobKind active_kind)
{
  return m.status == MemberStatus::active ? active_kind : JobKind::depart;
}

void apply_removal(Transition& t, const MembershipEvent& event,
                   Disposition effective)
{
  switch (effective) {
  case Disposition::purge:
    // Forgotten: nothing of the member is kept, its consent included.
    t.after = MemberState{MemberStatus::purged, {}, {}, {}, {}};
    t.job = JobKind::erase;
    break;
  case Disposition::tombstone:
    t.after.status = MemberStatus::departed;
    t.after.role.clear();
    t.after.active_to.reset();
    t.job = JobKind::depart;
    break;
  case Disposition::historical:
    t.after.status = MemberStatus::departed;
    t.after.role.clear();
    t.after.active_to = event.time;
    t.job = JobKind::depart;
    break;
  }
}

void apply_consent(Transition& t, const MemberState& before,
                   const MembershipEvent& event, bool require_consent)
{
  if (!is_member(before.status)) {
    t.skip_reason = "not_a_member";
    return;
  }
  t.after.consent = event.consent;
  const bool blocked = consent_blocks(before.consent, require_consent);
  const bool blocks = consent_blocks(event.consent, require_consent);
  if (blocked == blocks) {
    t.skip_reason = "consent_unchanged";
    return;
  }
  // A withdrawal deletes what the registry may hold; a grant publishes
  // again from the member's current state.
  t.job = blocks ? JobKind::withdraw : publishing_job(before, JobKind::publish);
}

} // namespace

Transition apply_event(const MemberState& before, const MembershipEvent& event,
                       Disposition effective, bool require_consent)
{
  Transition t{before, std::nullopt, {}};
  switch (event.type) {
  case EventType::member_added:
    t.after.role = event.role;
    if (before.status == MemberStatus::active) {
      // A duplicate admission keeps the original active_from.
      t.job = JobKind::update;
    } else {
      t.after.status = MemberStatus::active;
      t.after.active_from = event.time;
      t.after.active_to.reset();
      t.job = JobKind::publish;
    }
    break;
  case EventType::role_changed:
    if (before.status != MemberStatus::active) {
      t.skip_reason = "not_active";
      break;
    }
    t.after.role = event.role;
    t.job = JobKind::update;
    break;
  case EventType::member_removed:
    apply_removal(t, event, effective);
    break;
  case EventType::consent_changed:
    apply_consent(t, before, event, require_consent);
    break;
  case EventType::did_rotated:
    if (!is_member(before.status)) {
      t.skip_reason = "not_a_member";
      break;
    }
    // The new DID is published when the member is active and may be; a
    // departure never discloses a membership the registry did not have
    // under that DID.
    if (before.status == MemberStatus::active &&
        !consent_blocks(before.consent, require_consent)) {
      t.job = JobKind::publish;
    }
    break;
  }
  return t;
}

std::string_view to_string(MemberStatus status)
{
  switch (status) {
  case MemberStatus::unknown:
    return "unknown";
  case MemberStatus::active:
    return "active";
  case MemberStatus::departed:
    return "departed";
  case MemberStatus::purged:
    return "purged";
  }
  return "unknown";
}

std::string_view to_string(Disposition disposition)
{
  switch (disposition) {
  case Disposition::purge:
    return "purge";
  case Disposition::tombstone:
    return "tombstone";
  case Disposition::historical:
    return "historical";
  }
  return "tombstone";
}

std::string_view to_string(JobKind kind)
{
  switch (kind) {
  case JobKind::publish:
    return "publish";
  case JobKind::update:
    return "update";
  case JobKind::depart:
    return "depart";
  case JobKind::erase:
    return "delete";
  case JobKind::withdraw:
    return "withdraw";
  case JobKind::retire:
    return "retire";
  }
  return "publish";
}

std::string_view to_string(Consent consent)
{
  switch (consent) {
  case Consent::unknown:
    return "unknown";
  case Consent::granted:
    return "granted";
  case Consent::withdrawn:
    return "withdrawn";
  }
  return "unknown";
}

std::string_view to_string(MirrorState mirror)
{
  switch (mirror) {
  case MirrorState::absent:
    return "absent";
  case MirrorState::present:
    return "present";
  case MirrorState::unknown:
    return "unknown";
  }
  return "unknown";
}

std::optional<Consent> consent_from(std::string_view text)
{
  for (auto c : {Consent::unknown, Consent::granted, Consent::withdrawn}) {
    if (to_string(c) == text) {
      return c;
    }
  }
  return std::nullopt;
}

std::optional<MemberStatus> member_status_from(std::string_view text)
{
  for (auto s : {MemberStatus::unknown, MemberStatus::active,
                 MemberStatus::departed, MemberStatus::purged}) {
    if (to_string(s) == text) {
      return s;
    }
  }
  return std::nullopt;
}

std::optional<Disposition> disposition_from(std::string_view text)
{
  for (auto d :
       {Disposition::purge, Disposition::tombstone, Disposition::historical}) {
    if (to_string(d) == text) {
      return d;
    }
  }
  return std::nullopt;
}

std::optional<JobKind> job_kind_from(std::string_view text)
{
  for (auto k : {JobKind::publish, JobKind::update, JobKind::depart,
                 JobKind::erase, JobKind::withdraw, JobKind::retire}) {
    if (to_string(k) == text) {
      return k;
    }
  }
  return std::nullopt;
}

namespace {

bool is_alnum(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9');
}

bool is_hex(char c)
{
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
         (c >= 'A' && c <= 'F');
}

} // namespace

bool is_valid_did(std::string_view did)
{
  if (did.size() > 2048 || did.substr(0, 4) != "did:") {
    return false;
  }
  std::size_t i = 4;
  // method-name = 1*( %x61-7A / DIGIT )
  const std::size_t method_start = i;
  while (i < did.size() && ((did[i] >= 'a' && did[i] <= 'z') ||
                            (did[i] >= '0' && did[i] <= '9'))) {
    ++i;
  }
  if (i == method_start || i >= did.size() || did[i] != ':') {
    return false;
  }
  ++i;
  // method-specific-id = *( *idchar ":" ) 1*idchar
  std::size_t segment = 0;
  for (; i < did.size(); ++i) {
    const char c = did[i];
    if (c == ':') {
      segment = 0;
    } else if (is_alnum(c) || c == '.' || c == '-' || c == '_') {
      ++segment;
    } else if (c == '%' && i + 2 < did.size() && is_hex(did[i + 1]) &&
               is_hex(did[i + 2])) {
      i += 2;
      ++segment;
    } else {
      return false;
    }
  }
  return segment > 0;
}

} // namespace vtc::core
