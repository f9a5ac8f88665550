#pragma once

#include "core/member.hpp"
#include "core/timestamp.hpp"

#include <optional>
#include <string>
#include <vector>

namespace vtc::core {

// The policy keys dispatch reads, each time a job is sent.
struct Publication
{
  bool publish_on_join = true;
  bool require_consent = false;
};

// The evaluated registry policy (vtc-sync.toml(5), [policy]).
// Default-constructed = the defaults that apply when no policy is configured.
struct Policy
{
  bool publish_on_join = true;
  Disposition min_disposition = Disposition::purge;
  Disposition default_departure = Disposition::tombstone;
  std::vector<Disposition> departure_options{
    Disposition::purge, Disposition::tombstone, Disposition::historical};
  bool require_consent = false; // opt-in community: unknown consent blocks

  Publication publication() const { return {publish_on_join, require_consent}; }
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

// What a due job sends, decided from its member's state when it is sent
// (the job's kind only says why it was made).
enum class Send { put, erase, none };

struct SendDecision
{
  Send send = Send::put;
  // For none, why: "publish_on_join", "consent" or "not_a_member".
  std::string_view skip_reason;
};

// A purged member's (or a retired DID's) record is deleted, whatever the
// consent. While consent blocks publication the registry holds nothing:
// the record is deleted if it may hold one (mirror not absent), else
// nothing is sent. Otherwise an active or departed record is put, except
// that publish_on_join = false never sends an active record, nor a
// departed one the registry never had (mirror absent).
SendDecision decide_send(const MemberState& member, MirrorState mirror,
                         const Publication& publication);

// "PUT" or "DELETE" for a decision that sends.
std::string_view request_method(Send send);

// End of the UTC batch window holding `t`: windows of `window_hours` from the
// epoch, half-open [start, end). 0 hours = `t` itself (released at once).
TimeNs rtbf_release_time(TimeNs t, std::int64_t window_hours);

} // namespace vtc::core
