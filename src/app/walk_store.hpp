#pragma once

// What the walk (app/walk.cpp) and `audit skip` (app/skip.cpp) need from the
// state database: the cursor, where the walk stopped, and walk batches.

#include "app/audit_log.hpp"
#include "core/job.hpp"
#include "core/member.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace vtc::app {

// A member as stored: identity and desired registry state.
struct Member
{
  std::int64_t id = 0; // 0 = not stored yet
  std::string did;
  core::MemberState state;
};

// An outcome row. Never holds a plaintext DID.
struct Outcome
{
  core::OutcomeKind kind = core::OutcomeKind::skipped;
  std::string job_id;
  std::int64_t attempts = 0;
  std::string key_id;
  std::string target_hash;
  std::string detail; // JSON object text, "" for none
};

// A job the walk creates for a member.
struct NewJob
{
  std::string id; // event_id of the creating entry
  core::JobKind kind = core::JobKind::publish;
  // Not before. A job that replaces a pending job due no later keeps that
  // job's due time, its place in the queue, unless it is an RTBF delete.
  core::TimeNs due = 0;
  bool rtbf = false;
  std::int64_t event_line = 0;
  std::string key_id;
  std::string target_hash;
  // The creating entry's nonce (Entry::nonce), part of the Idempotency-Key.
  std::int64_t nonce = 0;
  // Stored with the job: its target hash is not the member's under key_id
  // (a rotation's jobs name the old DID's hash).
  bool own_target = false;
};

// A DidRotated entry's move of a member to a new DID: the member's row
// takes the new DID, its pairs become former ones, and when the registry
// may hold the old DID's record a row of the old DID keeps that record's
// mirror and gets the job that deletes it.
struct Rotation
{
  std::string old_did;
  std::optional<NewJob> retire;
};

// What one walked entry changes: a member's state and key pair, maybe a
// new job, and outcomes.
struct WalkChange
{
  Member member; // state after the event; empty DID: outcomes only
  // The status the store holds for member.id before the event (as read
  // in the batch's transaction); unset for a member not stored yet.
  std::optional<core::MemberStatus> stored_status;
  std::string key_id;
  std::string target_hash;
  std::optional<NewJob> job;
  std::vector<Outcome> outcomes; // recorded in order, after supersession
  // The member's hash under key_id is stored already: nothing to add.
  bool key_stored = false;
  // Set for a rotation: `member` is the member under its new DID, and
  // `key_id`/`target_hash` the new DID's pair. Its live job is superseded
  // whether or not `job` is set.
  std::optional<Rotation> rotation;
};

// What a walk batch did.
struct BatchResult
{
  std::int64_t jobs_created = 0;
  std::int64_t jobs_superseded = 0;
  // Rotations whose old DID the registry never had: overwritten at once.
  std::int64_t dids_forgotten = 0;
};

// One walk batch, written as it is walked in one write transaction
// (WalkStore::begin_walk): the store's reads in between (find_member…)
// see what it wrote, and nobody else sees anything until commit().
// Destroyed uncommitted (an error, a stop), it leaves nothing behind.
class WalkTransaction
{
public:
  virtual ~WalkTransaction() = default;
  // The member of `did` as stored, if any; `key_stored` tells whether its
  // target hash under `key_id` is stored too.
  virtual std::optional<Member> find_member(const std::string& did,
                                            const std::string& key_id,
                                            bool& key_stored) = 0;
  // What the mirror says of a stored member's record.
  virtual core::MirrorState mirror(std::int64_t member_id) = 0;
  // Writes one change: the member and its key pair; its job, which
  // supersedes the member's live one; its outcomes, in order.
  virtual void apply(const WalkChange& change, BatchResult& counts) = 0;
  // Stores `cursor`, the position after the batch's last entry, and
  // commits.
  virtual void commit(const Cursor& cursor) = 0;
};

// Throws StoreError (74).
class WalkStore
{
public:
  virtual ~WalkStore() = default;

  virtual std::optional<Cursor> cursor() = 0;
  // The member an (audit_key_id, target_did_hash) pair was seen with.
  virtual std::optional<Member> find_member_by_key(
    const std::string& key_id, const std::string& target_hash) = 0;
  // Opens a walk batch's write transaction (see WalkTransaction).
  virtual std::unique_ptr<WalkTransaction> begin_walk() = 0;
  // Remembers where the walk stopped (nullopt: it did not stop on a bad
  // entry). Writes only when the value changes.
  virtual void set_audit_failure(const std::optional<AuditFailure>& f) = 0;
  virtual std::optional<AuditFailure> audit_failure() = 0;
  // audit skip: moves the cursor from `from` to `to` past one
  // bad entry, forgets the failure and records `skipped`, in one
  // transaction. Throws Error (75) when the cursor is no longer `from`.
  virtual void skip_entry(const std::optional<Cursor>& from, const Cursor& to,
                          const Outcome& skipped) = 0;
};

} // namespace vtc::app
