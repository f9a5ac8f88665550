#include "core/policy.hpp"

#include <algorithm>

namespace vtc::core {

namespace {

// How much of the record a disposition preserves.
int preservation(Disposition d)
{
  switch (d) {
  case Disposition::purge:
    return 0;
  case Disposition::tombstone:
    return 1;
  case Disposition::historical:
    return 2;
  }
  return 0;
}

} // namespace

DispositionDecision effective_disposition(
  const Policy& policy, const std::optional<std::string>& requested,
  bool self_request)
{
  DispositionDecision out;
  std::optional<Disposition> parsed;
  if (requested) {
    parsed = disposition_from(*requested);
  }
  Disposition d = policy.default_departure;
  std::string reason;
  if (!parsed) {
    reason = "unknown_disposition";
  } else if (std::find(policy.departure_options.begin(),
                       policy.departure_options.end(),
                       *parsed) == policy.departure_options.end()) {
    reason = "not_offered";
  } else {
    d = *parsed;
  }
  if (preservation(d) < preservation(policy.min_disposition)) {
    d = policy.min_disposition;
    reason = "floor";
  }
  out.would_be = d;

  if (self_request && parsed.has_value() && *parsed == Disposition::purge) {
    out.rtbf = true;
    out.effective = Disposition::purge;
    out.override_reason = d != Disposition::purge ? "rtbf" : "";
    return out;
  }
  out.effective = d;
  if (parsed && *parsed == d) {
    // Options or floor may have run, but the request stands.
    reason.clear();
  }
  out.override_reason = reason;
  return out;
}

SendDecision decide_send(const MemberState& member, MirrorState mirror,
                         const Publication& publication)
{
  const bool absent = mirror == MirrorState::absent;
  switch (member.status) {
  case MemberStatus::purged:
    return {Send::erase, {}};
  case MemberStatus::unknown:
    return {Send::none, "not_a_member"};
  case MemberStatus::active:
  case MemberStatus::departed:
    break;
  }
  if (consent_blocks(member.consent, publication.require_consent)) {
    return absent ? SendDecision{Send::none, "consent"}
                  : SendDecision{Send::erase, {}};
  }
  if (!publication.publish_on_join &&
      (member.status == MemberStatus::active || absent)) {
    return {Send::none, "publish_on_join"};
  }
  return {Send::put, {}};
}

std::string_view request_method(Send send)
{
  return send == Send::erase ? "DELETE" : "PUT";
}

TimeNs rtbf_release_time(TimeNs t, std::int64_t window_hours)
{
  if (window_hours <= 0) {
    return t;
  }
  const TimeNs window = window_hours * 3600 * k_ns_per_second;
  TimeNs start = t / window * window;
  if (t < 0 && start != t) {
    start -= window;
  }
  return start + window;
}

} // namespace vtc::core
