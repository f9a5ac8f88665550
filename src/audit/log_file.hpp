#pragma once

#include "app/ports.hpp"
#include "audit/keys.hpp"
#include "audit/line_reader.hpp"
#include "audit/verifier.hpp"

#include <memory>
#include <optional>
#include <string>

namespace vtc::audit {

// Settings the audit adapter needs from the configuration.
struct LogOptions
{
  std::string path;
  std::size_t max_line_bytes = 1048576;
  std::optional<util::Digest> anchor;  // prev_hash of the first entry
  std::shared_ptr<const KeyRing> keys; // null = chain mode
};

// The audit log as a JSON Lines file (vtc-sync(1), THE AUDIT LOG) on top
// of LineReader and Verifier.
class LogFile final : public app::AuditLog
{
public:
  // Opens the file. Throws AuditError (74) when it cannot be read.
  explicit LogFile(LogOptions options);

  std::optional<app::AuditFailure> seek(
    const std::optional<app::Cursor>& cursor) override;
  app::ReadStatus next(app::Entry& entry, app::AuditFailure& failure) override;
  app::Cursor position() const override;
  std::uint64_t lag_bytes() const override;
  std::optional<app::SteppedOver> step_over() override;

private:
  util::Digest start_hash() const;
  bool matches_at_hint(const app::Cursor& c);
  bool reread_to(const app::Cursor& c);
  bool continues_after_rotation(const app::Cursor& c);

  LogOptions m_options;
  LineReader m_reader;
  Verifier m_verifier;
  Envelope m_envelope;
  // Position after the last entry next() returned (the reader may be
  // further on, past a line that failed).
  std::string m_last_hash;
  bool m_chained = false;
  std::string m_event_id;
  core::TimeNs m_time = 0;
  std::int64_t m_line = 0;
  std::uint64_t m_line_start = 0;
  std::uint64_t m_offset = 0;
};

} // namespace vtc::audit
