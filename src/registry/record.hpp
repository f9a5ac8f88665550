#pragma once

#include "app/ports.hpp"
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
// (vtc-sync(1), THE REGISTRY): member DIDs never appear in URLs. Throws
// ConfigError (78) when a field contains LF, which would make two records
// collide.
std::string record_id(const RecordKey& key, const std::string& entity_id);

// The JSON record for a member's state (active or departed), compact, fields in
// the documented order.
std::string record_body(const RecordKey& key, const std::string& entity_id,
                        const core::MemberState& state);

// The first 8 bytes of SHA-256 over the job's nonce (from the entry that
// made it) and the request (method, record id, body): what makes the
// Idempotency-Key of a request its own (core::idempotency_key).
std::int64_t request_digest(std::int64_t nonce, std::string_view method,
                            std::string_view record_id, std::string_view body);

// The request a claimed job calls for, decided at its claim from its
// member's current state (ClaimedJob::send): PUT with the record body, or
// DELETE; the Idempotency-Key names the job, its retry round and the
// request.
app::SentRequest request_for(const RecordKey& key, const app::ClaimedJob& job);

} // namespace vtc::registry

namespace vtc::registry {

// Record ids and bodies for one community's records.
class Records final : public app::RecordBuilder
{
public:
  explicit Records(RecordKey key) : m_key(std::move(key)) {}
  std::string id(const std::string& did) const override
  {
    return record_id(m_key, did);
  }
  std::string body(const app::Member& member) const override
  {
    return record_body(m_key, member.did, member.state);
  }
  std::string reconcile_job_id(const std::string& did,
                               core::TimeNs now) const override;
  std::string retire_job_id(const std::string& did) const override;

private:
  RecordKey m_key;
};

} // namespace vtc::registry
