#pragma once

#include "core/timestamp.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace vtc::core {

enum class MemberStatus { unknown, active, departed, purged };

enum class Disposition { purge, tombstone, historical };

enum class JobKind { publish, update, depart, erase };

enum class EventType { member_added, role_changed, member_removed };

// The desired registry state of one member (SPEC §5.1). Unknown times (the
// member joined before the log begins) stay empty and are left out of the
// record.
struct MemberState
{
  MemberStatus status = MemberStatus::unknown;
  std::string role;
  std::optional<TimeNs> active_from;
  std::optional<TimeNs> active_to;

  bool operator==(const MemberState&) const = default;
};

// A verified membership event, reduced to what the state machine reads.
struct MembershipEvent
{
  EventType type = EventType::member_added;
  TimeNs time = 0;
  std::string role; // MemberAdded: role; RoleChanged: newRole
};

// What one event does to one member.
struct Transition
{
  MemberState after;
  std::optional<JobKind> job; // none: the event changes nothing to publish
  std::string skip_reason;    // set when no job: "not_active"
};

// Applies the §5.1 table. For removals `effective` is the disposition after
// policy (see effective_disposition); it is ignored for other events.
Transition apply_event(const MemberState& before, const MembershipEvent& event,
                       Disposition effective = Disposition::tombstone);

// Names used in the database, outcomes and output.
std::string_view to_string(MemberStatus status);
std::string_view to_string(Disposition disposition);
std::string_view to_string(JobKind kind);
std::optional<MemberStatus> member_status_from(std::string_view text);
std::optional<Disposition> disposition_from(std::string_view text);
std::optional<JobKind> job_kind_from(std::string_view text);

// True when `did` is a DID per DID Core ("did:" method ":" id), at most
// 2048 bytes, without control characters (SPEC §4.1).
bool is_valid_did(std::string_view did);

} // namespace vtc::core
