#include "audit/verifier.hpp"

#include <fmt/core.h>

namespace vtc::audit {

namespace {

void put_u32(std::uint8_t* p, std::uint32_t v)
{
  p[0] = static_cast<std::uint8_t>(v >> 24U);
  p[1] = static_cast<std::uint8_t>(v >> 16U);
  p[2] = static_cast<std::uint8_t>(v >> 8U);
  p[3] = static_cast<std::uint8_t>(v);
}

void put_u64(std::uint8_t* p, std::uint64_t v)
{
  for (int i = 7; i >= 0; --i) {
    p[i] = static_cast<std::uint8_t>(v);
    v >>= 8U;
  }
}

// `time_text` is scratch space for the rendered timestamp.
util::Digest digest_with(util::Sha256& sha, std::string& time_text,
                         const Envelope& e)
{
  static constexpr char k_domain[] = "vtc-audit-chain/v1"; // + its NUL
  sha.update(std::string_view(k_domain, sizeof k_domain));
  sha.update(e.prev_hash);
  sha.update(e.event_id_bytes);
  std::uint8_t versions[8];
  put_u32(versions, e.event_version);
  put_u32(versions + 4, e.schema_version);
  sha.update(versions);
  core::format_rfc3339(e.time, "+00:00", time_text);
  sha.update(time_text);
  sha.update(e.key_id_bytes);
  sha.update(e.actor_hash);
  const std::uint8_t has_target = e.target_hash ? 1 : 0;
  sha.update(std::span(&has_target, 1));
  if (e.target_hash) {
    sha.update(*e.target_hash);
  }
  std::uint8_t length[8];
  put_u64(length, e.event_raw.size());
  sha.update(length);
  sha.update(e.event_raw);
  return sha.finish();
}

// The entry's schema version against where the chain stands; `e.chained`
// is cleared for a version-1 entry with all-zero hashes when those count
// as absent. Returns the failing reason, or null.
const char* check_schema(Envelope& e, bool chained, bool zero_hashes_legacy,
                         std::string& detail)
{
  if (zero_hashes_legacy && e.schema_version == 1 && e.chained &&
      e.prev_hash == util::Digest{} && e.entry_hash == util::Digest{}) {
    e.chained = false;
  }
  if (e.schema_version == 1 && chained) {
    detail = "version-1 entry after the hash chain began";
    return "legacy";
  }
  if (e.schema_version != 1 && e.schema_version != 2) {
    detail = fmt::format("schema_version {}", e.schema_version);
    return "unsupported-schema";
  }
  if ((e.schema_version == 2) != e.chained) {
    detail = e.chained ? "version-1 entry carries chain fields"
                       : "version-2 entry lacks prev_hash and entry_hash";
    return "unparseable";
  }
  return nullptr;
}

// A version-2 entry's link to `prev` and its own entry_hash. Returns the
// failing reason, or null.
const char* check_link(const Envelope& e, const util::Digest& prev,
                       util::Sha256& sha, std::string& time_text,
                       std::string& detail)
{
  if (!util::digests_equal(e.prev_hash, prev)) {
    detail = "prev_hash does not match the previous entry's entry_hash";
    return "broken-link";
  }
  if (!util::digests_equal(digest_with(sha, time_text, e), e.entry_hash)) {
    detail = "entry_hash does not match the entry's content";
    return "tampered";
  }
  return nullptr;
}

} // namespace

bool is_membership_event(std::string_view type)
{
  return type == "MemberAdded" || type == "RoleChanged" ||
         type == "MemberRemoved" || type == "MemberUpdated" ||
         type == "DidRotated";
}

util::Digest chain_digest(const Envelope& e)
{
  util::Sha256 sha;
  std::string time_text;
  return digest_with(sha, time_text, e);
}

Verifier::Verifier(const KeyRing* keys, util::Digest prev, bool chained,
                   std::size_t max_line_bytes)
  : m_keys(keys),
    m_prev(prev),
    m_chained(chained),
    m_max_line_bytes(max_line_bytes)
{
}

void Verifier::reset(util::Digest prev, bool chained)
{
  m_prev = prev;
  m_chained = chained;
}

const util::Digest& Verifier::actor_mac(const util::HmacSha256& key,
                                        std::string_view did)
{
  if (&key != m_actor_key || did != m_actor_did) {
    m_actor_mac = key.mac(did);
    m_actor_key = &key;
    m_actor_did.assign(did);
  }
  return m_actor_mac;
}

const char* Verifier::check_keys(Envelope& e, std::string& detail)
{
  const util::HmacSha256* key = m_keys->find(e.key_id_bytes);
  if (key == nullptr) {
    detail = fmt::format("audit_key_id {} is not in the key file", e.key_id);
    return "unknown-key";
  }
  if (e.actor_plain &&
      !util::digests_equal(actor_mac(*key, *e.actor_plain), e.actor_hash)) {
    detail = "actor_did_plain does not match actor_did_hash";
    return "hmac";
  }
  if (e.target_plain &&
      (!e.target_hash ||
       !util::digests_equal(key->mac(*e.target_plain), *e.target_hash))) {
    detail = "target_did_plain does not match target_did_hash";
    return "hmac";
  }
  // A rotation names its DIDs in `data` too: the hashes must be theirs,
  // or the walk cannot tell which member moved (an invalid event, not a
  // verification failure: the entry is authentic).
  e.rotation_hashes_differ =
    e.event_type == "DidRotated" && e.old_did && e.new_did &&
    (!e.target_hash ||
     !util::digests_equal(key->mac(*e.old_did), *e.target_hash) ||
     !util::digests_equal(actor_mac(*key, *e.new_did), e.actor_hash));
  return nullptr;
}

std::optional<std::string> Verifier::check(std::string_view line, Envelope& e,
                                           std::string& detail)
{
  // The limit counts the line with its LF.
  if (line.size() + 1 > m_max_line_bytes) {
    detail = fmt::format("line of {} bytes exceeds audit.max_line_bytes {}",
                         line.size() + 1, m_max_line_bytes);
    return "too-long";
  }
  if (!parse_envelope(line, e, detail)) {
    return "unparseable";
  }
  if (const char* reason =
        check_schema(e, m_chained, m_zero_hashes_legacy, detail)) {
    return reason;
  }
  if (e.schema_version == 2) {
    if (const char* reason =
          check_link(e, m_prev, m_sha, m_time_text, detail)) {
      return reason;
    }
  }
  if (m_keys != nullptr) {
    if (const char* reason = check_keys(e, detail)) {
      return reason;
    }
  }
  if (is_membership_event(e.event_type) && e.event_version != 1) {
    detail = fmt::format("{} event_version {}", e.event_type, e.event_version);
    return "unsupported-version";
  }
  if (e.schema_version == 2) {
    m_prev = e.entry_hash;
    m_chained = true;
  }
  return std::nullopt;
}

} // namespace vtc::audit
