#include "audit/vtc_log.hpp"

#include "audit/entry.hpp"
#include "audit/verifier.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

#include <fmt/core.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

namespace vtc::audit {

namespace {

// The VTC gives up its paging cursors when its audit key changes; a pass
// starts reading again this many times at most.
constexpr int k_max_restarts = 3;

// The entries newer than the cursor, in an unlinked file: they arrive
// newest first and can only be applied once the cursor's entry is found,
// which after a long outage may be many pages later. Each page is one
// block, its items written oldest first, each as a 32-bit length and the
// item's bytes; blocks are read back last page first.
class StageFile
{
public:
  explicit StageFile(const std::string& dir)
  {
    const std::string where = dir.empty() ? "." : dir;
    m_fd = ::open(where.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (m_fd < 0 &&
        (errno == EOPNOTSUPP || errno == EISDIR || errno == ENOENT)) {
      std::string name = where + "/.vtc-sync-stage.XXXXXX";
      m_fd = ::mkostemp(name.data(), O_CLOEXEC);
      if (m_fd >= 0) {
        ::unlink(name.c_str());
      }
    }
    if (m_fd < 0) {
      throw AuditError(ExitCode::io_err,
                       fmt::format("cannot stage audit entries in {}: {}",
                                   where, std::strerror(errno)));
    }
  }
  ~StageFile() { ::close(m_fd); }
  StageFile(const StageFile&) = delete;
  StageFile& operator=(const StageFile&) = delete;

  void clear()
  {
    m_blocks.clear();
    m_size = 0;
    if (::ftruncate(m_fd, 0) != 0) {
      fail("truncate");
    }
  }

  // Stages the first `count` items of `page` (the newest).
  void add(const AuditPage& page, std::size_t count)
  {
    if (count == 0) {
      return;
    }
    m_block.clear();
    for (std::size_t i = count; i-- > 0;) {
      const std::string_view item = page.item(i);
      const auto n = static_cast<std::uint32_t>(item.size());
      m_block.append(reinterpret_cast<const char*>(&n), sizeof n);
      m_block.append(item);
    }
    write_at(m_size, m_block);
    m_blocks.push_back({m_size, m_block.size()});
    m_size += m_block.size();
  }

  std::size_t blocks() const { return m_blocks.size(); }
  std::uint64_t size() const { return m_size; }

  void read(std::size_t block, std::string& out) const
  {
    const auto [offset, size] = m_blocks[block];
    out.resize(size);
    std::size_t done = 0;
    while (done < size) {
      const ssize_t n = ::pread(m_fd, out.data() + done, size - done,
                                static_cast<off_t>(offset + done));
      if (n <= 0) {
        if (n < 0 && errno == EINTR) {
          continue;
        }
        fail("read");
      }
      done += static_cast<std::size_t>(n);
    }
  }

private:
  void write_at(std::uint64_t offset, std::string_view bytes)
  {
    std::size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::pwrite(m_fd, bytes.data() + done, bytes.size() - done,
                                 static_cast<off_t>(offset + done));
      if (n < 0) {
        if (errno == EINTR) {
          continue;
        }
        fail("write");
      }
      done += static_cast<std::size_t>(n);
    }
  }

  [[noreturn]] void fail(const char* what) const
  {
    throw AuditError(ExitCode::io_err,
                     fmt::format("cannot {} the staged audit entries: {}", what,
                                 std::strerror(errno)));
  }

  struct Block
  {
    std::uint64_t offset;
    std::size_t size;
  };
  int m_fd = -1;
  std::vector<Block> m_blocks;
  std::uint64_t m_size = 0;
  std::string m_block;
};

// The VTC's storage key of an entry, which orders its pages.
std::string storage_key(core::TimeNs time, std::string_view event_id)
{
  std::string key = core::format_rfc3339(time, "+00:00");
  key += ':';
  for (const char c : event_id) {
    key += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return key;
}

// UUID texts compared as the VTC's keys spell them, in lower case.
bool same_uuid(std::string_view a, std::string_view b)
{
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

} // namespace

struct VtcLog::Impl
{
  VtcLogOptions options;
  VtcClient client;
  StageFile stage;
  Verifier verifier;
  Envelope envelope;
  std::string source; // the audit URL, for messages
  std::int64_t pages = 0;
  int restarts = 0;

  // Reading the staged entries: the block in `buffer`, the next item at
  // `pos` in it, the item that failed at `failed`.
  std::size_t next_block = 0; // blocks left to read (read last first)
  std::string buffer;
  std::size_t pos = 0;
  std::size_t failed = 0;
  std::uint64_t consumed = 0;

  // Position after the last entry next() returned.
  app::Cursor at;

  explicit Impl(VtcLogOptions o)
    : options(std::move(o)),
      client(options.client, options.now),
      stage(options.stage_dir),
      verifier(options.verify.keys.get(), start_hash(), false,
               options.verify.max_line_bytes),
      source(client.audit_url())
  {
    verifier.accept_zero_hashes_on_legacy();
  }

  util::Digest start_hash() const
  {
    return options.verify.anchor.value_or(util::Digest{});
  }

  static bool is_cursor_entry(const app::Cursor& c, const Envelope& e,
                              std::string_view item)
  {
    if (!c.chained) {
      return e.schema_version == 1 && legacy_fingerprint(item) == c.entry_hash;
    }
    return e.schema_version == 2 && e.entry_hash_text == c.entry_hash &&
           (c.event_id.empty() || same_uuid(e.event_id, c.event_id));
  }

  app::AuditFailure discontinuity(const app::Cursor& c, const std::string& how)
  {
    return {c.line, "", "discontinuity",
            fmt::format("the VTC's log no longer holds entry {} (event {}, "
                        "entry_hash {}): {}",
                        c.line, c.event_id, c.entry_hash, how),
            source};
  }

  enum class Collected { done, restart, failure };

  // The idle check: one item. Returns done when the newest entry is the
  // cursor's, nullopt when there is more to read.
  std::optional<Collected> check_newest(const app::Cursor& cursor,
                                        app::AuditFailure& failure)
  {
    const auto newest = client.audit_page(1, "");
    ++pages;
    if (newest->items.empty()) {
      failure = discontinuity(cursor, "the VTC serves an empty log");
      return Collected::failure;
    }
    std::string why;
    if (parse_envelope(newest->item(0), envelope, why) &&
        is_cursor_entry(cursor, envelope, newest->item(0))) {
      return Collected::done;
    }
    return std::nullopt;
  }

  // Counts in `fresh` the items of `page` (newest first) newer than the
  // cursor's entry. Returns done when that entry is on the page, failure
  // when an entry older than it comes first, nullopt otherwise.
  std::optional<Collected> scan_page(const AuditPage& page,
                                     const std::optional<app::Cursor>& cursor,
                                     const std::string& cursor_key,
                                     std::size_t& fresh,
                                     app::AuditFailure& failure)
  {
    std::string why;
    for (fresh = 0; fresh < page.items.size(); ++fresh) {
      const std::string_view item = page.item(fresh);
      // An item that does not parse is staged: the verifier names it
      // when the walk reaches it.
      if (!cursor || !parse_envelope(item, envelope, why)) {
        continue;
      }
      if (is_cursor_entry(*cursor, envelope, item)) {
        return Collected::done;
      }
      if (!cursor_key.empty() &&
          storage_key(envelope.time, envelope.event_id) < cursor_key) {
        failure = discontinuity(
          *cursor, fmt::format("event {}, older than it, came first",
                               envelope.event_id));
        return Collected::failure;
      }
    }
    return std::nullopt;
  }

  // Pages from the newest entry back to the cursor's, staging what is
  // newer than it.
  Collected collect(const std::optional<app::Cursor>& cursor,
                    app::AuditFailure& failure)
  {
    if (cursor) {
      if (const auto idle = check_newest(*cursor, failure)) {
        return *idle;
      }
    }
    const std::string cursor_key =
      cursor && !cursor->event_id.empty()
        ? storage_key(cursor->time, cursor->event_id)
        : std::string();
    std::string page_cursor;
    for (;;) {
      if (options.interrupted()) {
        throw AuditError(ExitCode::temp_fail,
                         fmt::format("interrupted while reading {}", source));
      }
      const auto page = client.audit_page(options.page_size, page_cursor);
      if (!page) {
        return Collected::restart;
      }
      ++pages;
      std::size_t fresh = 0;
      const auto scanned = scan_page(*page, cursor, cursor_key, fresh, failure);
      if (scanned == Collected::failure) {
        return Collected::failure;
      }
      stage.add(*page, fresh);
      if (scanned == Collected::done) {
        return Collected::done;
      }
      if (!page->next_cursor) {
        if (cursor) {
          failure = discontinuity(*cursor, "its oldest entry came first");
          return Collected::failure;
        }
        return Collected::done;
      }
      page_cursor = *page->next_cursor;
    }
  }
};

VtcLog::VtcLog(VtcLogOptions options)
  : m_impl(std::make_unique<Impl>(std::move(options)))
{
}

VtcLog::~VtcLog() = default;

VtcClient& VtcLog::client()
{
  return m_impl->client;
}

std::int64_t VtcLog::pages() const
{
  return m_impl->pages;
}

int VtcLog::restarts() const
{
  return m_impl->restarts;
}

std::optional<app::AuditFailure> VtcLog::seek(
  const std::optional<app::Cursor>& cursor)
{
  Impl& m = *m_impl;
  m.at = cursor.value_or(app::Cursor{});
  // A VTC has no file to hint at (a cursor a file source left has some).
  m.at.line_start = m.at.offset = m.at.device = m.at.inode = m.at.size = 0;
  m.buffer.clear();
  m.pos = 0;
  m.consumed = 0;
  m.pages = 0;
  m.restarts = 0;
  if (cursor && cursor->chained) {
    m.verifier.reset(*util::decode_digest(cursor->entry_hash), true);
  } else {
    m.verifier.reset(m.start_hash(), false);
  }
  for (;;) {
    m.stage.clear();
    app::AuditFailure failure;
    switch (m.collect(cursor, failure)) {
    case Impl::Collected::done:
      m.next_block = m.stage.blocks();
      return std::nullopt;
    case Impl::Collected::failure:
      m.stage.clear();
      m.next_block = 0;
      return failure;
    case Impl::Collected::restart:
      break;
    }
    if (m.restarts == k_max_restarts) {
      throw SourceUnavailable(fmt::format(
        "the VTC at {} changed its audit key {} times while vtc-sync read "
        "its log; trying again next pass",
        m.source, k_max_restarts + 1));
    }
    ++m.restarts;
    util::log::info(fmt::format("the VTC at {} changed its audit key while "
                                "vtc-sync read its log: reading again",
                                m.source));
  }
}

app::ReadStatus VtcLog::next(app::Entry& entry, app::AuditFailure& failure)
{
  Impl& m = *m_impl;
  if (m.pos >= m.buffer.size()) {
    if (m.next_block == 0) {
      return app::ReadStatus::end;
    }
    m.stage.read(--m.next_block, m.buffer);
    m.pos = 0;
  }
  std::uint32_t size = 0;
  std::memcpy(&size, m.buffer.data() + m.pos, sizeof size);
  const std::string_view item =
    std::string_view(m.buffer).substr(m.pos + sizeof size, size);
  m.failed = m.pos;
  m.pos += sizeof size + size;
  m.consumed += sizeof size + size;
  const std::int64_t line = m.at.line + 1;
  Envelope& e = m.envelope;
  std::string detail;
  if (auto reason = m.verifier.check(item, e, detail)) {
    failure = {line, *reason == "unparseable" ? "" : e.event_id, *reason,
               detail, m.source};
    return app::ReadStatus::failure;
  }
  fill_entry(e, line, entry);
  if (!entry.legacy) {
    m.at.entry_hash = e.entry_hash_text;
    m.at.chained = true;
  } else if (!m.at.chained) {
    m.at.entry_hash = legacy_fingerprint(item);
  }
  m.at.line = line;
  m.at.event_id = e.event_id;
  m.at.time = e.time;
  return app::ReadStatus::entry;
}

app::Cursor VtcLog::position() const
{
  return m_impl->at;
}

std::uint64_t VtcLog::lag_bytes() const
{
  return m_impl->stage.size() - m_impl->consumed;
}

std::optional<app::SteppedOver> VtcLog::step_over()
{
  Impl& m = *m_impl;
  if (m.failed >= m.buffer.size()) {
    return std::nullopt;
  }
  std::uint32_t size = 0;
  std::memcpy(&size, m.buffer.data() + m.failed, sizeof size);
  const std::string_view item =
    std::string_view(m.buffer).substr(m.failed + sizeof size, size);
  Envelope e;
  std::string why;
  if (!parse_envelope(item, e, why) || e.schema_version != 2) {
    return std::nullopt;
  }
  m.at.line += 1;
  m.at.entry_hash = e.entry_hash_text;
  m.at.chained = true;
  m.at.event_id = e.event_id;
  m.at.time = e.time;
  m.verifier.reset(e.entry_hash, true);
  return app::SteppedOver{e.event_id, e.key_id, e.target_hash_text};
}

} // namespace vtc::audit
