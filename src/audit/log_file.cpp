#include "audit/log_file.hpp"

#include "audit/entry.hpp"

#include <fmt/core.h>

namespace vtc::audit {

namespace {

app::AuditFailure failure_at(std::int64_t line, const Envelope& e,
                             std::string reason, std::string detail)
{
  return {line, e.event_id, std::move(reason), std::move(detail), ""};
}

} // namespace

LogFile::LogFile(LogOptions options)
  : m_options(std::move(options)),
    m_reader(m_options.path, m_options.max_line_bytes),
    m_verifier(m_options.keys.get(), start_hash(), false,
               m_options.max_line_bytes)
{
}

util::Digest LogFile::start_hash() const
{
  return m_options.anchor.value_or(util::Digest{});
}

app::Cursor LogFile::position() const
{
  app::Cursor c;
  c.line = m_line;
  c.entry_hash = m_last_hash;
  c.chained = m_chained;
  c.event_id = m_event_id;
  c.time = m_time;
  c.line_start = m_line_start;
  c.offset = m_offset;
  c.device = m_reader.device();
  c.inode = m_reader.inode();
  c.size = m_reader.size();
  return c;
}

std::uint64_t LogFile::lag_bytes() const
{
  const std::uint64_t size = m_reader.size();
  return size > m_offset ? size - m_offset : 0;
}

bool LogFile::matches_at_hint(const app::Cursor& c)
{
  if (c.offset <= c.line_start) {
    return false;
  }
  std::string bytes;
  if (!m_reader.read_range(c.line_start, c.offset, bytes) ||
      bytes.back() != '\n') {
    return false;
  }
  bytes.pop_back();
  if (!c.chained) {
    return legacy_fingerprint(bytes) == c.entry_hash;
  }
  Envelope e;
  std::string why;
  return parse_envelope(bytes, e, why) && e.chained &&
         e.entry_hash_text == c.entry_hash;
}

bool LogFile::reread_to(const app::Cursor& c)
{
  m_reader.seek(0, 0);
  m_verifier.reset(start_hash(), false);
  app::Entry entry;
  app::AuditFailure failure;
  while (m_reader.line() < c.line) {
    // A failure before line N means this is not the same chain from line 1
    // (a rotated file starts from our hash, not from zeros): the caller
    // tries the other rules.
    if (next(entry, failure) != app::ReadStatus::entry) {
      return false;
    }
  }
  return m_last_hash == c.entry_hash && m_chained == c.chained;
}

bool LogFile::continues_after_rotation(const app::Cursor& c)
{
  if (!c.chained) {
    return false;
  }
  m_reader.seek(0, 0);
  std::string_view line;
  if (m_reader.next(line) != LineReader::Result::line) {
    return false;
  }
  Envelope e;
  std::string why;
  return parse_envelope(line, e, why) && e.chained &&
         util::base64url_encode(e.prev_hash) == c.entry_hash;
}

std::optional<app::AuditFailure> LogFile::seek(
  const std::optional<app::Cursor>& cursor)
{
  m_last_hash.clear();
  m_chained = false;
  m_event_id.clear();
  m_time = 0;
  m_line = 0;
  m_line_start = 0;
  m_offset = 0;
  if (!cursor) {
    m_reader.seek(0, 0);
    m_verifier.reset(start_hash(), false);
    return std::nullopt;
  }
  const app::Cursor& c = *cursor;
  const bool new_file =
    c.device != m_reader.device() || c.inode != m_reader.inode();
  // 1. The file grew in place: the line before the offset is ours.
  if (new_file && m_reader.size() == 0) {
    // Rotated by renaming, the new file not written yet: nothing to walk
    // until it is (an emptied old file is still a discontinuity).
    m_reader.seek(0, 0);
    m_last_hash = c.entry_hash;
    m_chained = c.chained;
    m_event_id = c.event_id;
    m_time = c.time;
    return std::nullopt;
  }
  if (matches_at_hint(c)) {
    m_reader.seek(c.offset, c.line);
    m_line_start = c.line_start;
  } else if (reread_to(c)) {
    // 2. Rewritten or copied: line N found again, verifying from line 1.
    m_line_start = m_reader.line_start();
  } else if (continues_after_rotation(c)) {
    // 3. Rotated by renaming: the new file continues the chain.
    m_reader.seek(0, 0);
    m_line_start = 0;
  } else {
    return app::AuditFailure{
      c.line, "", "discontinuity",
      fmt::format("the log no longer holds line {} with entry_hash {}, and "
                  "does not continue it",
                  c.line, c.entry_hash),
      m_options.path};
  }
  m_last_hash = c.entry_hash;
  m_chained = c.chained;
  m_event_id = c.event_id;
  m_time = c.time;
  m_line = m_reader.line();
  m_offset = m_reader.offset();
  if (c.chained) {
    m_verifier.reset(*util::decode_digest(c.entry_hash), true);
  } else {
    m_verifier.reset(start_hash(), false);
  }
  return std::nullopt;
}

app::ReadStatus LogFile::next(app::Entry& entry, app::AuditFailure& failure)
{
  std::string_view line;
  switch (m_reader.next(line)) {
  case LineReader::Result::end:
    return app::ReadStatus::end;
  case LineReader::Result::incomplete:
    return app::ReadStatus::incomplete;
  case LineReader::Result::too_long:
    failure = {m_reader.line(), "", "too-long",
               fmt::format("line exceeds audit.max_line_bytes {}",
                           m_options.max_line_bytes),
               m_options.path};
    return app::ReadStatus::failure;
  case LineReader::Result::line:
    break;
  }
  Envelope& e = m_envelope;
  std::string detail;
  if (auto reason = m_verifier.check(line, e, detail)) {
    failure = failure_at(m_reader.line(), e, *reason, detail);
    if (*reason == "unparseable") {
      failure.event_id.clear();
    }
    failure.source = m_options.path;
    return app::ReadStatus::failure;
  }
  fill_entry(e, m_reader.line(), entry);
  if (entry.legacy) {
    if (!m_chained) {
      m_last_hash = legacy_fingerprint(line);
    }
  } else {
    m_last_hash = e.entry_hash_text;
    m_chained = true;
  }
  m_event_id = e.event_id;
  m_time = e.time;
  m_line = m_reader.line();
  m_line_start = m_reader.line_start();
  m_offset = m_reader.offset();
  return app::ReadStatus::entry;
}

std::optional<app::SteppedOver> LogFile::step_over()
{
  if (m_reader.offset() - m_reader.line_start() >
      m_options.max_line_bytes + 1) {
    return std::nullopt; // too long to be an entry
  }
  std::string bytes;
  if (!m_reader.read_range(m_reader.line_start(), m_reader.offset(), bytes) ||
      bytes.empty() || bytes.back() != '\n') {
    return std::nullopt;
  }
  bytes.pop_back();
  Envelope e;
  std::string why;
  if (!parse_envelope(bytes, e, why) || !e.chained) {
    return std::nullopt;
  }
  m_last_hash = e.entry_hash_text;
  m_chained = true;
  m_event_id = e.event_id;
  m_time = e.time;
  m_line = m_reader.line();
  m_line_start = m_reader.line_start();
  m_offset = m_reader.offset();
  m_verifier.reset(e.entry_hash, true);
  return app::SteppedOver{e.event_id, e.key_id, e.target_hash_text};
}

} // namespace vtc::audit
