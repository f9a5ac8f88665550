#pragma once

#include "app/ports.hpp"
#include "registry/record.hpp"

#include <string>
#include <vector>

namespace vtc::registry {

// A request a pass would send, as `tick --dry-run` shows it.
struct PlannedRequest
{
  std::string job_id; // "" for the breaker's probe
  std::string method;
  std::string url;
  std::string idempotency_key; // "" for a GET
};

// The registry of a dry run: sends nothing. It builds each request exactly
// as the HTTP registry would, records it in `planned`, and answers it with
// success at once, so the pass goes on as if every request had worked.
class DryRunRegistry final : public app::Registry
{
public:
  DryRunRegistry(RecordKey key, std::string base,
                 std::vector<PlannedRequest>& planned);
  app::SentRequest submit(std::uint64_t tag,
                          const app::ClaimedJob& job) override;
  std::vector<std::pair<std::uint64_t, app::Answer>> wait(
    Deadline until) override;
  std::size_t running() const override;
  void abandon() override;
  app::Answer probe() override;

private:
  RecordKey m_key;
  std::string m_base;
  std::vector<PlannedRequest>& m_planned;
  std::vector<std::pair<std::uint64_t, app::Answer>> m_answers;
};

} // namespace vtc::registry
