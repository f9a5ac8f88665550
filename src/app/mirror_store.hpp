#pragma once

// The mirror of the registry and the records it should hold: what
// reconcile (app/reconcile.cpp) and drift (app/drift.cpp) compare.

#include "app/walk_store.hpp"
#include "core/job.hpp"
#include "core/member.hpp"
#include "core/timestamp.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace vtc::app {

// A member with what the mirror says of its record, for reconcile.
struct MirroredMember
{
  Member member;
  core::MirrorState mirror = core::MirrorState::absent;
  std::string mirror_body; // the confirmed body when present
  bool has_live_job = false;
};

// A job reconcile creates.
struct ReconcileJob
{
  std::string id; // "reconcile:<hash>"
  std::int64_t member_id = 0;
  core::JobKind kind = core::JobKind::publish;
};

// Throws StoreError (74).
class MirrorStore
{
public:
  virtual ~MirrorStore() = default;

  // Every member with its mirror state, in id order.
  virtual std::vector<MirroredMember> mirrored_members() = 0;
  // The one member of `did`, with its mirror: an index lookup.
  virtual std::optional<MirroredMember> mirrored_member(
    const std::string& did) = 0;
  // Inserts reconcile jobs, due now, in one transaction.
  virtual void add_jobs(const std::vector<ReconcileJob>& jobs) = 0;
};

// Builds registry records for members: the same ids and bodies dispatch sends,
// so reconcile can compare them with the mirror.
class RecordBuilder
{
public:
  virtual ~RecordBuilder() = default;
  virtual std::string id(const std::string& did) const = 0;
  virtual std::string body(const Member& member) const = 0;
  // "reconcile:<hash>", a new id (and so a new Idempotency-Key) for every
  // reconcile of a member, with the DID hashed, never shown.
  virtual std::string reconcile_job_id(const std::string& did,
                                       core::TimeNs now) const = 0;
  // "retire:<first 32 hex digits of SHA-256(the DID's record id)>": the job
  // that deletes the record of a DID a member rotated away from.
  virtual std::string retire_job_id(const std::string& did) const = 0;
};

// One record of the registry's listing for our authority.
struct ListedRecord
{
  std::string id;     // the record id of its key fields
  std::string record; // the record object as JSON text
};

// One page of the listing; `next_cursor` is "" on the last page.
struct ListingPage
{
  std::vector<ListedRecord> records;
  std::string next_cursor;
};

// The registry's own paged listing of our authority's records (drift).
class RegistryListing
{
public:
  virtual ~RegistryListing() = default;
  // The page after `cursor` ("" = the first). Throws Error: 69 when the
  // registry cannot be reached or answers 5xx/429, 78 on 401 or a TLS
  // failure, 76 on any other answer or a malformed page.
  virtual ListingPage page(const std::string& cursor) = 0;
};

} // namespace vtc::app
