#pragma once

// The audit log as the walk reads it: verified entries, one after another.

#include "core/timestamp.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace vtc::app {

// Chain position of the last processed entry (vtc-sync(1), THE AUDIT LOG)
// plus hints. A source that is a running VTC has no lines: `line` counts
// the entries processed, and the file hints stay zero.
struct Cursor
{
  std::int64_t line = 0;        // 1-based line of the last processed entry
  std::string entry_hash;       // its entry_hash (base64url); for a
                                // version-1-only prefix, the line's SHA-256
  bool chained = false;         // a version-2 entry has been processed
  std::string event_id;         // that entry's event_id ("" before any)
  core::TimeNs time = 0;        // and its timestamp
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
  bool self_request = false;             // actor_did_hash == target_did_hash
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
  virtual std::optional<AuditFailure> seek(
    const std::optional<Cursor>& cursor) = 0;
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

} // namespace vtc::app
