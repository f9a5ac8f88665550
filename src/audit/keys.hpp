#pragma once

#include "audit/envelope.hpp"
#include "util/digest.hpp"

#include <map>
#include <string>

namespace vtc::audit {

// The HMAC keys of a strict-mode community, by key id.
class KeyRing
{
public:
  // Parses `{"keys":[{"key_id":"<uuid>","key":"<base64url 32 bytes>"},…]}`.
  // Throws ConfigError (78) naming `origin` on any other shape.
  static KeyRing parse(const std::string& json_text, const std::string& origin);

  // Reads the key file under the secret-file rule (vtc-sync.toml(5),
  // SECRET FILES).
  static KeyRing load(const std::string& path);

  // Returns the key with that id, or nullptr.
  const util::HmacSha256* find(const Uuid& key_id) const;

  std::size_t size() const { return m_keys.size(); }

private:
  std::map<Uuid, util::HmacSha256> m_keys;
};

} // namespace vtc::audit
