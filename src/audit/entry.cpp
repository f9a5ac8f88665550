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
  entry.self_request =
    e.target_hash && util::digests_equal(*e.target_hash, e.actor_hash);
  entry.role = e.event_type == "RoleChanged" ? e.new_role : e.role;
  entry.disposition = e.disposition;
}

std::string legacy_fingerprint(std::string_view bytes)
{
  return util::base64url_encode(util::sha256(bytes));
}

} // namespace vtc::audit
