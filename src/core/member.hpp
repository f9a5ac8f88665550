#pragma once

#include "core/timestamp.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace vtc::core {

enum class MemberStatus { unknown, active, departed, purged };

enum class Disposition { purge, tombstone, historical };

// erase is named "delete"; withdraw deletes the record of a member whose
// consent blocks publication; retire deletes the record of a DID a member
// rotated away from.
enum class JobKind { publish, update, depart, erase, withdraw, retire };

// True for the kinds made to remove a record: a purge's delete, a
// withdrawal of consent, a retired DID.
constexpr bool deletes_a_record(JobKind kind)
{
  return kind == JobKind::erase || kind == JobKind::withdraw ||
         kind == JobKind::retire;
}

enum class EventType {
  member_added,
  role_changed,
  member_removed,
  consent_changed, // MemberUpdated naming publishConsent
  did_rotated,
};

// A member's consent to being published: no event has said, or the last
// MemberUpdated of publishConsent granted or withdrew it.
enum class Consent { unknown, granted, withdrawn };

// What the mirror says of a record: absent, present (the body sent was
// confirmed) or unknown (a write was started, not confirmed).
enum class MirrorState { absent, present, unknown };

// The desired registry state of one member. Unknown times (the member
// joined before the log begins) stay empty and are left out of the record.
struct MemberState
{
  MemberStatus status = MemberStatus::unknown;
  std::string role;
  std::optional<TimeNs> active_from;
  std::optional<TimeNs> active_to;
  Consent consent = Consent::unknown;

  bool operator==(const MemberState&) const = default;
};

// A verified membership event, reduced to what the state machine reads.
struct MembershipEvent
{
  EventType type = EventType::member_added;
  TimeNs time = 0;
  std::string role;                   // MemberAdded: role; RoleChanged: newRole
  Consent consent = Consent::unknown; // consent_changed: the new value
};

// What one event does to one member.
struct Transition
{
  MemberState after;
  std::optional<JobKind> job; // none: the event changes nothing to publish
  // Set when no job: "not_active", "not_a_member", "consent_unchanged".
  std::string skip_reason;
};

// True when the member's consent keeps it out of the registry: withdrawn,
// or unknown where the policy requires consent.
bool consent_blocks(Consent consent, bool require_consent);

// Applies an event to a member (vtc-sync(1), MEMBERS AND JOBS). For removals
// `effective` is the disposition after policy (see effective_disposition);
// it is ignored for other events. `require_consent` is the policy's: it
// tells which consent changes change what the registry may hold. For a
// rotation the result is the member's under its new DID; the old DID's
// record is the store's to retire.
Transition apply_event(const MemberState& before, const MembershipEvent& event,
                       Disposition effective = Disposition::tombstone,
                       bool require_consent = false);

// Names used in the database, outcomes and output.
std::string_view to_string(MemberStatus status);
std::string_view to_string(Disposition disposition);
std::string_view to_string(JobKind kind);
std::string_view to_string(Consent consent);
std::string_view to_string(MirrorState mirror);
std::optional<Consent> consent_from(std::string_view text);
std::optional<MemberStatus> member_status_from(std::string_view text);
std::optional<Disposition> disposition_from(std::string_view text);
std::optional<JobKind> job_kind_from(std::string_view text);

// True when `did` is a DID per DID Core ("did:" method ":" id), at most
// 2048 bytes, without control characters.
bool is_valid_did(std::string_view did);

} // namespace vtc::core
