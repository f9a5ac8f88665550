#include "audit/entry.hpp"

#include "audit/verifier.hpp"
#include "util/digest.hpp"

namespace vtc::audit {

void fill_entry(const Envelope& e, std::int64_t line, app::Entry& entry)
{
  entry.line = line;
  entry.event_id = e.event_id;
  entry.time = e.time;
  entry.legacy = e.schema_version == 1;
  entry.event_type = e.event_type;
  entry.membership = !entry.legacy && is_membership_event(e.event_type);
  entry.key_id = e.key_id;
  entry.target_hash = e.target_hash_text;
  entry.target_did = e.target_plain;
  entry.actor_hash = e.actor_hash_text;
  entry.actor_did = e.actor_plain;
  entry.self_request =
    e.target_hash && util::digests_equal(*e.target_hash, e.actor_hash);
  std::uint64_t nonce = 0;
  if (e.chained) {
    for (std::size_t i = 0; i < 8; ++i) {
      nonce = nonce << 8U | e.entry_hash[i];
    }
  }
  entry.nonce = static_cast<std::int64_t>(nonce);
  entry.role = e.event_type == "RoleChanged" ? e.new_role : e.role;
  entry.disposition = e.disposition;
  entry.consent_changed = e.consent_changed;
  entry.consent_new = e.consent_new;
  entry.old_did = e.old_did;
  entry.new_did = e.new_did;
  entry.rotation_hashes_differ = e.rotation_hashes_differ;
}

std::string legacy_fingerprint(std::string_view bytes)
{
  return util::base64url_encode(util::sha256(bytes));
}

} // namespace vtc::audit
