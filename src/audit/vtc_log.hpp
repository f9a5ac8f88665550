#pragma once

#include "app/ports.hpp"
#include "audit/log_file.hpp"
#include "audit/vtc_client.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace vtc::audit {

struct VtcLogOptions
{
  VtcOptions client;
  LogOptions verify; // its path is unused: entries come from the VTC
  std::int64_t page_size = 200;
  // Where the entries read ahead of the cursor wait, in an unlinked file:
  // the state database's directory.
  std::string stage_dir;
  // Unix seconds, for the login's id_token.
  std::function<std::int64_t()> now;
  // Polled between pages: true (SIGTERM) abandons the reading.
  std::function<bool()> interrupted = [] { return false; };
};

// The audit log as a running VTC serves it (see vtc-sync(1), "THE VTC AS
// THE SOURCE"): seek() logs in and pages newest-first back to the cursor's
// entry, staging the newer entries on disk; next() then verifies and hands
// them out oldest first, as LogFile does with lines.
//
// seek() throws SourceUnavailable when the VTC cannot be reached, and
// AuditError (78, 74, or 75 when interrupted) as VtcClient says.
class VtcLog final : public app::AuditLog
{
public:
  // Loads the identity (78); contacts nobody yet.
  explicit VtcLog(VtcLogOptions options);
  ~VtcLog() override;

  std::optional<app::AuditFailure> seek(
    const std::optional<app::Cursor>& cursor) override;
  app::ReadStatus next(app::Entry& entry, app::AuditFailure& failure) override;
  app::Cursor position() const override;
  std::uint64_t lag_bytes() const override;
  std::optional<app::SteppedOver> step_over() override;

  // The client, logged in once seek() ran (audit verify asks the VTC for
  // its own verdict with it).
  VtcClient& client();
  // Pages read by the last seek(), and how often it started again because
  // the VTC changed its audit key.
  std::int64_t pages() const;
  int restarts() const;

private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

} // namespace vtc::audit
