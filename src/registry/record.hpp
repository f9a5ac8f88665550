#pragma once

#include "core/member.hpp"

#include <string>

namespace vtc::registry {

// The fields that identify a record in the registry.
struct RecordKey
{
  std::string authority_id; // vtc.did
  std::string action;
  std::string resource;
  std::string record_type;
};

// Lowercase hex SHA-256 of "authority \n entity \n action \n resource"
// (SPEC §6): member DIDs never appear in URLs. Throws ConfigError (78) when
// a field contains LF, which would make two records collide.
std::string record_id(const RecordKey& key, const std::string& entity_id);

// The JSON record of SPEC §6 for a member's state (active or departed),
// compact, fields in the documented order.
std::string record_body(const RecordKey& key, const std::string& entity_id,
                        const core::MemberState& state);

} // namespace vtc::registry

namespace vtc::registry {

// Checks the registry URL rule of SPEC §6 with libcurl's parser (https, or
// http only to localhost, 127.0.0.0/8 or ::1; no user information) and
// returns its origin. Throws ConfigError (78) naming `key` and the URL.
std::string checked_origin(const std::string& url, const std::string& key);

} // namespace vtc::registry
