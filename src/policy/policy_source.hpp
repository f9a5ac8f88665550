#pragma once

#include "core/policy.hpp"

#include <string>

namespace vtc::policy {

// Where the evaluated registry policy comes from.
struct PolicyOptions
{
  std::string file;    // policy.file
  std::string opa_url; // policy.opa_url: OPA data API
  std::string ca_file; // registry.ca_file, also used for OPA
  long connect_timeout_seconds = 5;
  long timeout_seconds = 15;
};

// True when a policy is configured at all (else the defaults apply).
bool configured(const PolicyOptions& options);

// Parses and validates a policy document strictly: only the keys of
// vtc-sync.toml(5), [policy], each of its type, values among
// purge/tombstone/historical, `departure_options` non-empty without repeats.
// Throws ConfigError (78) naming `origin` and the key.
core::Policy parse_policy(const std::string& json_text,
                          const std::string& origin);

// A short text that changes when the policy file changes (its inode, size
// and modification time), so a pass can notice an edited policy without
// reading it; "" for OPA or no policy.
std::string file_stamp(const PolicyOptions& options);

// Reads the policy from the file, or asks OPA (`POST {opa_url}` with
// `{"input":{}}`, answer `{"result":{…}}`), or returns the defaults when
// neither is configured. Throws ConfigError (78) when it cannot be read or
// is invalid: the caller must then hold back what depends on it.
core::Policy load_policy(const PolicyOptions& options);

} // namespace vtc::policy
