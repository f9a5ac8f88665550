#pragma once

#include "core/timestamp.hpp"
#include "util/encoding.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vtc::audit {

using util::Uuid;

// One audit log line decoded (vtc-sync(1), THE AUDIT LOG). `event_raw` points
// into the line it was parsed from: it is hashed as is, never re-serialised.
struct Envelope
{
  std::string event_id;
  Uuid event_id_bytes{};
  std::uint32_t event_version = 0;
  std::uint32_t schema_version = 0;
  core::TimeNs time = 0;
  std::string key_id;
  Uuid key_id_bytes{};
  std::string actor_hash_text;
  util::Digest actor_hash{};
  std::optional<std::string> actor_plain;
  std::string target_hash_text; // "" when null
  std::optional<util::Digest> target_hash;
  std::optional<std::string> target_plain;
  bool chained = false; // carries prev_hash and entry_hash
  util::Digest prev_hash{};
  util::Digest entry_hash{};
  std::string entry_hash_text;
  std::string_view event_raw;
  std::string event_type;
  // The `data` members the state machine reads; nullopt when absent or not
  // a string.
  std::optional<std::string> role;        // MemberAdded
  std::optional<std::string> new_role;    // RoleChanged
  std::optional<std::string> disposition; // MemberRemoved
  // MemberUpdated: `fieldsChanged` names publishConsent; the `new` value
  // of its `changes` item when that is a boolean (nullopt otherwise).
  bool consent_changed = false;
  std::optional<bool> consent_new;
  std::optional<std::string> old_did; // DidRotated
  std::optional<std::string> new_did; // DidRotated
  // Set by the strict verifier: a DidRotated entry whose hashes are not
  // the HMACs of oldDid (target) and newDid (actor).
  bool rotation_hashes_differ = false;
};

// Parses one line (without its LF) of exactly the envelope's shape: the twelve
// members in order (ten for a version-1 row), canonical base64url hashes, UUIDs
// and an RFC 3339 `Z` timestamp. Returns false and sets `why` to a short
// description for anything else (the `unparseable` reason).
bool parse_envelope(std::string_view line, Envelope& out, std::string& why);

using util::parse_uuid;

} // namespace vtc::audit
