#include "app/skip.hpp"

#include "app/walk.hpp"
#include "util/error.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

namespace vtc::app {

namespace {

std::string where(std::int64_t line, const std::string& event_id)
{
  return event_id.empty() ? fmt::format("line {}", line)
                          : fmt::format("line {} (event {})", line, event_id);
}

} // namespace

AuditFailure skip_entry(AuditLog& log, WalkStore& store, std::int64_t line,
                        const std::string& event_id)
{
  const auto stored = store.audit_failure();
  if (!stored) {
    throw UsageError("audit skip: the walk has not stopped at a bad entry; "
                     "there is nothing to skip");
  }
  if (stored->reason == "discontinuity") {
    throw UsageError(fmt::format(
      "audit skip: the walk stopped at a discontinuity after line {}, not at "
      "an entry; a log replaced by a different chain needs a new state "
      "database",
      stored->line));
  }
  if (stored->line != line || stored->event_id != event_id) {
    throw UsageError(fmt::format(
      "audit skip: the walk stopped at {}, not at {}",
      where(stored->line, stored->event_id), where(line, event_id)));
  }
  const std::optional<Cursor> from = store.cursor();
  if (auto failure = log.seek(from)) {
    throw Error(ExitCode::data_err, describe(*failure));
  }
  Entry entry;
  AuditFailure failure;
  const ReadStatus status = log.next(entry, failure);
  if (status != ReadStatus::failure || failure.line != line ||
      failure.event_id != event_id) {
    throw UsageError(fmt::format(
      "audit skip: {} does not fail verification now; run vtc-sync tick",
      where(line, event_id)));
  }
  const auto stepped = log.step_over();
  if (!stepped) {
    throw Error(
      ExitCode::data_err,
      fmt::format("audit skip: {} declares no entry_hash for the next "
                  "entry to link to ({}); it cannot be skipped",
                  where(line, event_id), failure.reason));
  }
  Outcome o;
  o.kind = core::OutcomeKind::entry_skipped;
  o.key_id = stepped->key_id;
  o.target_hash = stepped->target_hash;
  o.detail = nlohmann::json{{"line", line},
                            {"event_id", event_id},
                            {"reason", failure.reason}}
               .dump();
  store.skip_entry(from, log.position(), o);
  return failure;
}

} // namespace vtc::app
