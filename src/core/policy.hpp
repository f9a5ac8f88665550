#pragma once

#include "core/member.hpp"
#include "core/timestamp.hpp"

#include <optional>
#include <string>
#include <vector>

namespace vtc::core {

// The evaluated registry policy (SPEC §5.3). Default-constructed = the
// defaults that apply when no policy is configured.
struct Policy
{
  bool publish_on_join = true;
  Disposition min_disposition = Disposition::purge;
  Disposition default_departure = Disposition::tombstone;
  std::vector<Disposition> departure_options{
    Disposition::purge, Disposition::tombstone, Disposition::historical};
};

// The disposition a removal gets, and why it differs from the request.
struct DispositionDecision
{
  Disposition effective = Disposition::tombstone;
  bool rtbf = false; // a right-to-be-forgotten request (stays purge)
  // Set when a rule changed the request, or would have changed an RTBF
  // request: "not_offered", "unknown_disposition", "floor" or "rtbf".
  std::string override_reason;
  // What the rules alone would have given (differs from effective for RTBF).
  Disposition would_be = Disposition::tombstone;
};

// Resolves a removal's disposition: the requested one if offered, else the
// default; missing or unknown → the default; then the floor. A request of
// exactly "purge" by the member itself (actor hash == target hash) bypasses
// all of it. `requested` is the raw `disposition` text, if any.
DispositionDecision effective_disposition(
  const Policy& policy, const std::optional<std::string>& requested,
  bool self_request);

// True when publish_on_join = false turns a due job into `skipped` without
// a request (SPEC §5.3): an active member is never sent; a departed one
// only when the registry may have its record (mirror not absent). Deletes
// are always sent.
bool skipped_by_publish_on_join(bool publish_on_join, MemberStatus status,
                                bool mirror_absent);

// End of the UTC batch window holding `t`: windows of `window_hours` from the
// epoch, half-open [start, end). 0 hours = `t` itself (released at once).
TimeNs rtbf_release_time(TimeNs t, std::int64_t window_hours);

} // namespace vtc::core
