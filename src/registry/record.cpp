#include "registry/record.hpp"

#include "core/health.hpp"
#include "core/policy.hpp"
#include "util/digest.hpp"
#include "util/error.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

namespace vtc::registry {

std::string record_id(const RecordKey& key, const std::string& entity_id)
{
  for (const std::string* f :
       {&key.authority_id, &entity_id, &key.action, &key.resource}) {
    if (f->find('\n') != std::string::npos) {
      throw ConfigError("a record field contains a line feed");
    }
  }
  const std::string preimage = fmt::format("{}\n{}\n{}\n{}", key.authority_id,
                                           entity_id, key.action, key.resource);
  return util::hex(util::sha256(preimage));
}

std::string record_body(const RecordKey& key, const std::string& entity_id,
                        const core::MemberState& state)
{
  const bool active = state.status == core::MemberStatus::active;
  nlohmann::ordered_json context;
  context["status"] = active ? "active" : "departed";
  if (state.active_from) {
    context["activeFrom"] = core::format_rfc3339(*state.active_from);
  }
  if (active) {
    context["role"] = state.role;
  } else if (state.active_to) {
    context["activeTo"] = core::format_rfc3339(*state.active_to);
  }
  nlohmann::ordered_json record;
  record["entity_id"] = entity_id;
  record["authority_id"] = key.authority_id;
  record["action"] = key.action;
  record["resource"] = key.resource;
  record["record_type"] = key.record_type;
  record["recognized"] = active;
  record["context"] = context;
  return nlohmann::ordered_json{{"record", record}}.dump();
}

std::int64_t request_digest(std::int64_t nonce, std::string_view method,
                            std::string_view record_id, std::string_view body)
{
  util::Sha256 sha;
  std::uint8_t n[8];
  for (int i = 7; i >= 0; --i) {
    n[i] = static_cast<std::uint8_t>(static_cast<std::uint64_t>(nonce) >>
                                     (8U * static_cast<unsigned>(7 - i)));
  }
  sha.update(n);
  for (const std::string_view part : {method, record_id, body}) {
    sha.update(part);
    sha.update(std::string_view("\n"));
  }
  const util::Digest d = sha.finish();
  std::uint64_t digest = 0;
  for (std::size_t i = 0; i < 8; ++i) {
    digest = digest << 8U | d[i];
  }
  return static_cast<std::int64_t>(digest);
}

app::SentRequest request_for(const RecordKey& key, const app::ClaimedJob& job)
{
  app::SentRequest sent;
  sent.method = std::string(core::request_method(job.send));
  sent.record_id = record_id(key, job.did);
  if (job.send == core::Send::put) {
    sent.body = record_body(key, job.did, job.member);
  }
  sent.key_digest =
    request_digest(job.nonce, sent.method, sent.record_id, sent.body);
  sent.idempotency_key =
    core::idempotency_key(job.id, job.retries, sent.key_digest);
  return sent;
}

std::string Records::reconcile_job_id(const std::string& did,
                                      core::TimeNs now) const
{
  const std::string digest =
    util::hex(util::sha256(fmt::format("{}\n{}", record_id(m_key, did), now)));
  return "reconcile:" + digest.substr(0, 32);
}

std::string Records::retire_job_id(const std::string& did) const
{
  return "retire:" +
         util::hex(util::sha256(record_id(m_key, did))).substr(0, 32);
}

} // namespace vtc::registry
