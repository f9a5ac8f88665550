#pragma once

// The interfaces the use cases need from the outside world. Adapters
// (audit/, store/, registry/) implement them; tests replace them.

#include "app/views.hpp"
#include "core/answer.hpp"
#include "core/health.hpp"
#include "core/job.hpp"
#include "core/member.hpp"
#include "core/policy.hpp"
#include "core/timestamp.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace vtc::app {

// Time. Logic never reads the system clocks directly.
class Clock
{
public:
  using Instant = std::chrono::steady_clock::time_point;

  virtual ~Clock() = default;
  // Wall-clock time: due times, outcomes, what is stored.
  virtual core::TimeNs now() const = 0;
  // Monotonic time: deadlines and waits within a pass.
  virtual Instant monotonic() const = 0;
};

// ---- audit log ------------------------------------------------------------

// Chain position of the last processed entry (vtc-sync(1), THE AUDIT LOG)
// plus hints. A source that is a running VTC has no lines: `line` counts
// the entries processed, and the file hints stay zero.
struct Cursor
{
  std::int64_t line = 0;       // 1-based line of the last processed entry
  std::string entry_hash;      // its entry_hash (base64url); for a
                               // version-1-only prefix, the line's SHA-256
  bool chained = false;        // a version-2 entry has been processed
  std::string event_id;        // that entry's event_id ("" before any)
  core::TimeNs time = 0;       // and its timestamp
  std::uint64_t line_start = 0; // byte offset where that line starts
  std::uint64_t offset = 0;     // byte offset after it
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
  std::uint64_t size = 0; // file size when the cursor was stored

  bool operator==(const Cursor&) const = default;
};

// One verified entry, reduced to what the walk reads.
struct Entry
{
  std::int64_t line = 0;
  std::string event_id;
  core::TimeNs time = 0;
  bool legacy = false;     // a version-1 row: counted, creates nothing
  std::string event_type;  // "MemberAdded", …
  bool membership = false; // one of the five types that drive member state
  std::string key_id;      // audit_key_id (canonical text)
  std::string target_hash; // base64url, "" when null
  std::optional<std::string> target_did; // plaintext, nullopt when redacted
  std::string actor_hash;                // base64url
  std::optional<std::string> actor_did;  // plaintext, nullopt when redacted
  bool self_request = false; // actor_did_hash == target_did_hash
  // The first 8 bytes of entry_hash, unique to the entry (0 for version 1).
  std::int64_t nonce = 0;
  std::optional<std::string> role;        // MemberAdded role / newRole
  std::optional<std::string> disposition; // MemberRemoved, as written
  // MemberUpdated: whether fieldsChanged names publishConsent, and the new
  // value its changes item gives (nullopt: none, or not a boolean).
  bool consent_changed = false;
  std::optional<bool> consent_new;
  // DidRotated: data.oldDid and data.newDid; `rotation_hashes_differ` when
  // the strict verifier found the entry's hashes are not theirs.
  std::optional<std::string> old_did;
  std::optional<std::string> new_did;
  bool rotation_hashes_differ = false;
};

// Why the walk stopped before an entry.
struct AuditFailure
{
  std::int64_t line = 0;
  std::string event_id; // "" when the line could not be parsed that far
  std::string reason;   // as vtc-sync(1), THE AUDIT LOG names it
  std::string detail;   // one human sentence
  std::string source;   // the audit file, for messages ("" when unknown)
};

// The entry `audit skip` steps over.
struct SteppedOver
{
  std::string event_id;
  std::string key_id;
  std::string target_hash;
};

enum class ReadStatus {
  entry,      // `entry` filled
  end,        // clean end of the log
  incomplete, // a final line without LF: wait for the writer
  failure,    // `failure` filled; the walk stops here
};

// A verified, sequential reader of the audit log.
class AuditLog
{
public:
  virtual ~AuditLog() = default;
  // Positions after `cursor` (vtc-sync(1), THE AUDIT LOG), or at the start
  // when none. Returns a failure (discontinuity or a bad entry found while
  // re-reading) instead of positioning. Throws AuditError (74) on I/O.
  virtual std::optional<AuditFailure> seek(const std::optional<Cursor>& cursor) = 0;
  // Reads and verifies the next entry.
  virtual ReadStatus next(Entry& entry, AuditFailure& failure) = 0;
  // The cursor after the last entry next() returned.
  virtual Cursor position() const = 0;
  // Bytes of the file not yet read as entries (incomplete tail included).
  virtual std::uint64_t lag_bytes() const = 0;
  // After next() returned a failure: moves past that line as if it had
  // been processed with the entry_hash it declares, so the next entry must
  // link to that hash (audit skip). Returns the entry's identity, or nullopt
  // when the line declares no entry_hash (unparseable, too long, version 1).
  virtual std::optional<SteppedOver> step_over() = 0;
};

// ---- state ----------------------------------------------------------------

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
// (StateStore::begin_walk): the store's reads in between (find_member…)
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

// Everything `status` shows from the database.
struct StatusView
{
  std::optional<Cursor> cursor;
  std::int64_t pending = 0;
  std::int64_t in_flight = 0;
  std::int64_t failed = 0;
  std::int64_t members_active = 0;
  std::int64_t members_departed = 0;
  std::int64_t invalid_events = 0;
  std::int64_t unattributable = 0;
  std::int64_t unattributable_removals = 0;
  std::optional<core::TimeNs> oldest_due; // among pending jobs due now
  std::optional<PassRecord> last_pass;
  // When the last recorded pass that exited 0 ended (idle passes record
  // nothing).
  std::optional<core::TimeNs> last_success;
  // Requests answered since the database was created, by answer class
  // ("success", "transient", ...), in name order.
  std::vector<std::pair<std::string, std::int64_t>> requests;
  std::optional<AuditFailure> audit_failure; // where the walk stopped
  std::string generation;
  core::Health health;
  std::optional<core::TimeNs> pause_until; // a 429 pause
};

using core::MirrorState;

// A due job claimed for sending, with its member's current state: the
// request is built from that state, not from the job kind.
struct ClaimedJob
{
  std::string id;
  core::JobKind kind = core::JobKind::publish;
  std::int64_t attempts = 0; // including the one being made
  std::int64_t retries = 0;  // `queue retry` rounds
  std::string key_id;
  std::string target_hash;
  std::int64_t member_id = 0;
  std::string did;
  core::MemberState member;
  MirrorState mirror = MirrorState::absent; // before the claim made it unknown
  // What to send, decided at the claim from the state, mirror and policy
  // (core::decide_send): put or erase.
  core::Send send = core::Send::put;
  std::int64_t nonce = 0; // the creating entry's (NewJob::nonce)
};

// What was sent for a job.
struct SentRequest
{
  std::string method; // PUT or DELETE
  std::string idempotency_key;
  std::string record_id;
  std::string body; // the record JSON for a PUT, "" for a DELETE
  std::int64_t key_digest = 0; // the key's request digest (core::idempotency_key)
};

// The registry's answer, classified (vtc-sync(1), THE REGISTRY).
struct Answer
{
  core::AnswerClass cls = core::AnswerClass::unreachable;
  int status = 0;                         // 0 when no HTTP answer came
  std::optional<std::string> retry_after; // raw header value
  std::string error;                      // "503", "connection refused"…
};

// The end of one request: what to do with its job.
struct Finished
{
  ClaimedJob job;
  SentRequest sent;
  Answer answer;
  core::NextStep step = core::NextStep::retry;
  core::TimeNs due = 0; // for retry
};

// Which due jobs a pass may claim.
enum class ClaimScope {
  all,
  removals_only, // the walk is incomplete: deletes and departures
  deletes_only,  // the policy is unreadable: only what needs no policy
  needing_policy, // (for has_due) publishes, updates and departures
};

// What one dispatch step writes (StateStore::dispatch_step).
struct DispatchStep
{
  std::vector<Finished> done;     // answers to record
  std::vector<ClaimedJob> unsent; // claimed jobs to put back, never sent
  core::Health health;            // the registry's health after `done`
  std::int64_t claim = 0;         // due jobs to claim at most
  core::TimeNs now = 0;           // due at this time
  ClaimScope scope = ClaimScope::all;
  core::Publication publication;
};

// A member with what the mirror says of its record, for reconcile.
struct MirroredMember
{
  Member member;
  MirrorState mirror = MirrorState::absent;
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

// The state database: cursor, members, jobs, outcomes. Each method that
// writes runs in a BEGIN IMMEDIATE transaction of its own, except where it
// says otherwise: a walk batch's writes share the batch's transaction
// (begin_walk), and dispatch_step() records answers and claims jobs in one.
// Throws StoreError (74).
class StateStore
{
public:
  virtual ~StateStore() = default;

  virtual std::optional<Cursor> cursor() = 0;
  virtual std::optional<Member> find_member(const std::string& did) = 0;
  // The member an (audit_key_id, target_did_hash) pair was seen with.
  virtual std::optional<Member> find_member_by_key(const std::string& key_id,
                                                   const std::string& target_hash) = 0;
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
  // Puts jobs a dead pass left in_flight back: each counts its attempt and
  // is due at `due_after(attempts)`, or fails after `max_attempts`.
  virtual std::int64_t recover_in_flight(
    std::int64_t max_attempts,
    const std::function<core::TimeNs(std::int64_t attempts)>& due_after) = 0;
  virtual void record_pass(const PassRecord& pass) = 0;

  // True when a job is due at `now` within `scope` (reads only).
  virtual bool has_due(core::TimeNs now, ClaimScope scope) = 0;
  // Records the ends of requests and the registry's health, in one
  // transaction: jobs removed/rescheduled/failed, attempt rows finished,
  // mirror and outcomes updated; a succeeded delete forgets the member.
  // Every answer, and `probe` (the class of a probe's answer) when set, is
  // counted by class (StatusView::requests).
  virtual void finish(const std::vector<Finished>& done,
                      const core::Health& health,
                      std::optional<core::AnswerClass> probe) = 0;
  // One step of a dispatch in one transaction, so that many requests share
  // its writes: records `done` as finish() does, puts `unsent` back as they
  // were before their claim (pending, no attempt spent, no attempt row, the
  // mirror as it was), then claims up to `claim` jobs due at `now` in due
  // order: in_flight, attempt counted, attempt row started, mirror set to
  // unknown. Jobs for which core::decide_send() sends nothing
  // (publish_on_join, consent) complete as `skipped` instead. Returns the
  // claimed jobs; `skipped` counts those skipped instead.
  virtual std::vector<ClaimedJob> dispatch_step(const DispatchStep& step,
                                                std::int64_t& skipped) = 0;
  virtual core::Health health() = 0;

  // A value kept across passes in the database (written only on change).
  virtual std::optional<std::string> setting(const std::string& key) = 0;
  virtual void set_setting(const std::string& key, const std::string& value) = 0;

  // Every member with its mirror state, in id order.
  virtual std::vector<MirroredMember> mirrored_members() = 0;
  // The one member of `did`, with its mirror: an index lookup.
  virtual std::optional<MirroredMember> mirrored_member(const std::string& did) = 0;
  // Inserts reconcile jobs, due now, in one transaction.
  virtual void add_jobs(const std::vector<ReconcileJob>& jobs) = 0;
  // Truncates the WAL so deleted rows leave the files. False when
  // readers kept it busy (try again next pass).
  virtual bool checkpoint() = 0;

  // Operator commands (docs/design.md, Job states). Both act on failed jobs
  // only, each id in its own row update, in transactions of at most 500 rows.
  virtual std::optional<JobDetail> job_detail(const std::string& id) = 0;
  // Ids of failed jobs, all or one member's (by DID).
  virtual std::vector<std::string> failed_jobs(
    const std::optional<std::string>& member_did) = 0;
  // Retry: attempts reset, due now, retries + 1, outcome `retried`.
  virtual std::vector<JobChange> retry(const std::vector<std::string>& ids) = 0;
  // Discard: job removed, outcome `discarded`.
  virtual std::vector<JobChange> discard(const std::vector<std::string>& ids) = 0;
  // Outcomes with seq > `since`, in seq order.
  virtual std::vector<OutcomeRow> outcomes(std::int64_t since,
                                           std::int64_t limit) = 0;
  // Removes outcomes with seq < `before`, in chunks; returns how many.
  virtual std::int64_t prune_outcomes(std::int64_t before) = 0;

  virtual StatusView status(core::TimeNs now) = 0;
  virtual std::vector<JobRow> jobs(const JobQuery& query) = 0;
};

} // namespace vtc::app

namespace vtc::app {

// The trust registry (vtc-sync(1), THE REGISTRY): requests run concurrently,
// identified by a caller-chosen tag.
class Registry
{
public:
  using Deadline = std::chrono::steady_clock::time_point;

  virtual ~Registry() = default;
  // Starts the request `job` calls for and returns what is sent.
  virtual SentRequest submit(std::uint64_t tag, const ClaimedJob& job) = 0;
  // Waits until at least one answer arrives or `until` passes.
  virtual std::vector<std::pair<std::uint64_t, Answer>> wait(Deadline until) = 0;
  // Requests submitted whose answers wait() has not returned yet.
  virtual std::size_t running() const = 0;
  // Abandons running requests (their jobs stay in_flight for recovery).
  virtual void abandon() = 0;
  // Asks the registry for one record of our authority (the breaker's and
  // incompatibility's probe); waits at most one request timeout.
  virtual Answer probe() = 0;
};

} // namespace vtc::app

namespace vtc::app {

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

} // namespace vtc::app

namespace vtc::app {

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
