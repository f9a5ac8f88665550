#include "audit/keys.hpp"

#include "util/error.hpp"
#include "util/secret_file.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

namespace vtc::audit {

KeyRing KeyRing::parse(const std::string& text, const std::string& origin)
{
  const auto doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || doc.size() != 1 ||
      !doc.contains("keys") || !doc["keys"].is_array()) {
    throw ConfigError(fmt::format(
      "key file {}: expected {{\"keys\":[{{\"key_id\":…,\"key\":…}}]}}",
      origin));
  }
  KeyRing ring;
  std::size_t index = 0;
  for (const auto& k : doc["keys"]) {
    ++index;
    if (!k.is_object() || k.size() != 2 || !k.contains("key_id") ||
        !k.contains("key") || !k["key_id"].is_string() ||
        !k["key"].is_string()) {
      throw ConfigError(
        fmt::format("key file {}: key {} must be "
                    "{{\"key_id\":\"<uuid>\",\"key\":\"<base64url>\"}}",
                    origin, index));
    }
    const auto id = parse_uuid(k["key_id"].get<std::string>());
    if (!id) {
      throw ConfigError(fmt::format("key file {}: key {}: key_id is not a UUID",
                                    origin, index));
    }
    auto secret = util::decode_digest(k["key"].get<std::string>());
    if (!secret) {
      throw ConfigError(fmt::format(
        "key file {}: key {}: key is not canonical base64url of 32 bytes",
        origin, index));
    }
    if (ring.m_keys.count(*id) != 0) {
      throw ConfigError(
        fmt::format("key file {}: key {}: duplicate key_id", origin, index));
    }
    ring.m_keys.emplace(*id, util::HmacSha256(*secret));
    util::wipe(secret->data(), secret->size());
  }
  if (ring.m_keys.empty()) {
    throw ConfigError(fmt::format("key file {}: no keys", origin));
  }
  return ring;
}

KeyRing KeyRing::load(const std::string& path)
{
  std::string text = util::read_secret_file(path, "audit.key_file");
  KeyRing ring = parse(text, path);
  util::wipe(text);
  return ring;
}

const util::HmacSha256* KeyRing::find(const Uuid& key_id) const
{
  const auto it = m_keys.find(key_id);
  return it == m_keys.end() ? nullptr : &it->second;
}

} // namespace vtc::audit
