#include "registry/dry_run_registry.hpp"

#include "registry/urls.hpp"

#include <utility>

namespace vtc::registry {

namespace {

app::Answer ok()
{
  app::Answer a;
  a.cls = core::AnswerClass::success;
  a.status = 200;
  return a;
}

} // namespace

DryRunRegistry::DryRunRegistry(RecordKey key, std::string base,
                               std::vector<PlannedRequest>& planned)
  : m_key(std::move(key)), m_base(std::move(base)), m_planned(planned)
{
}

app::SentRequest DryRunRegistry::submit(std::uint64_t tag,
                                        const app::ClaimedJob& job)
{
  app::SentRequest sent = request_for(m_key, job);
  m_planned.push_back(PlannedRequest{job.id, sent.method,
                                     record_url(m_base, sent.record_id),
                                     sent.idempotency_key});
  m_answers.emplace_back(tag, ok());
  return sent;
}

std::vector<std::pair<std::uint64_t, app::Answer>> DryRunRegistry::wait(
  Deadline /*until*/)
{
  return std::exchange(m_answers, {});
}

std::size_t DryRunRegistry::running() const
{
  return m_answers.size();
}

void DryRunRegistry::abandon()
{
  m_answers.clear();
}

app::Answer DryRunRegistry::probe()
{
  m_planned.push_back(
    PlannedRequest{"", "GET", listing_url(m_base, m_key.authority_id, 1), ""});
  return ok();
}

} // namespace vtc::registry
