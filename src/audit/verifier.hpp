#pragma once

#include "audit/envelope.hpp"
#include "audit/keys.hpp"
#include "util/digest.hpp"

#include <optional>
#include <string>

namespace vtc::audit {

// The chain digest (docs/design.md, Audit hash chain) of a parsed
// version-2 envelope.
util::Digest chain_digest(const Envelope& e);

// Verifies entries one after another (vtc-sync(1), THE AUDIT LOG): chain links,
// digests, key ids and HMACs in strict mode, the version-1 prefix rule.
class Verifier
{
public:
  // `keys` null = chain mode. `prev` is the hash the next entry must link
  // to; `chained` whether a version-2 entry came before.
  Verifier(const KeyRing* keys, util::Digest prev, bool chained,
           std::size_t max_line_bytes);

  // Checks one line (without LF). Returns the failing reason name, or
  // nullopt with `out` filled and the chain advanced. `detail` gets a short
  // human explanation on failure.
  std::optional<std::string> check(std::string_view line, Envelope& out,
                                   std::string& detail);

  const util::Digest& prev() const { return m_prev; }
  bool chained() const { return m_chained; }
  // Restarts the chain at `prev` (after a rotation or a skipped entry).
  void reset(util::Digest prev, bool chained);
  // A VTC serves a version-1 row with all-zero prev_hash and entry_hash
  // added: with this set, such an entry is legacy as if they were absent.
  void accept_zero_hashes_on_legacy() { m_zero_hashes_legacy = true; }

private:
  // HMAC of an actor DID. The last one is remembered: in a community's log
  // most entries are written by the same administrator.
  const util::Digest& actor_mac(const util::HmacSha256& key,
                                std::string_view did);
  // The key id and the HMACs of the plain DIDs (strict mode); sets
  // `e.rotation_hashes_differ`. Returns the failing reason, or null.
  const char* check_keys(Envelope& e, std::string& detail);

  const KeyRing* m_keys;
  util::Digest m_prev;
  bool m_chained;
  std::size_t m_max_line_bytes;
  bool m_zero_hashes_legacy = false;
  util::Sha256 m_sha;
  std::string m_time_text;
  const util::HmacSha256* m_actor_key = nullptr;
  std::string m_actor_did;
  util::Digest m_actor_mac{};
};

// True for the five event types that drive member state.
bool is_membership_event(std::string_view type);

} // namespace vtc::audit
