#pragma once

// An in-memory fake of the audit log port (app/audit_log.hpp). Header-only.

#include "app/audit_log.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace vtc::test {

// An audit log of verified entries, handed out in order: the cursor's
// line is the number of entries read.
class FakeAuditLog final : public app::AuditLog
{
public:
  explicit FakeAuditLog(std::vector<app::Entry> entries)
    : m_entries(std::move(entries))
  {
  }
  std::optional<app::AuditFailure> seek(
    const std::optional<app::Cursor>& c) override
  {
    m_next = c ? static_cast<std::size_t>(c->line) : 0;
    return std::nullopt;
  }
  app::ReadStatus next(app::Entry& e, app::AuditFailure&) override
  {
    if (m_next >= m_entries.size()) {
      return app::ReadStatus::end;
    }
    e = m_entries[m_next++];
    return app::ReadStatus::entry;
  }
  app::Cursor position() const override
  {
    app::Cursor c;
    c.line = static_cast<std::int64_t>(m_next);
    c.entry_hash = "e" + std::to_string(m_next);
    c.chained = true;
    return c;
  }
  std::uint64_t lag_bytes() const override { return m_entries.size() - m_next; }
  std::optional<app::SteppedOver> step_over() override { return std::nullopt; }

private:
  std::vector<app::Entry> m_entries;
  std::size_t m_next = 0;
};

} // namespace vtc::test
