#include "app/read_ahead.hpp"
#include "util/error.hpp"

#include <atomic>
#include <doctest/doctest.h>
#include <filesystem>
#include <fmt/core.h>
#include <string>
#include <vector>

using namespace vtc;

namespace {

// A log of `total` entries, line n holding event "e<n>"; a failure or a
// throw can replace one line. Counts what the reader asked of it.
class CountingLog : public app::AuditLog
{
public:
  explicit CountingLog(std::int64_t total) : m_total(total) {}

  std::int64_t fail_at = 0;  // this line reads as a failure
  std::int64_t throw_at = 0; // reading this line throws AuditError
  std::atomic<std::int64_t> reads{0};

  std::optional<app::AuditFailure> seek(
    const std::optional<app::Cursor>&) override
  {
    return std::nullopt;
  }
  app::ReadStatus next(app::Entry& entry, app::AuditFailure& failure) override
  {
    ++reads;
    const std::int64_t line = m_line + 1;
    if (line > m_total) {
      return app::ReadStatus::end;
    }
    if (line == throw_at) {
      throw AuditError(ExitCode::io_err,
                       "read failed at line " + std::to_string(line));
    }
    if (line == fail_at) {
      failure = {line, "", "bad_signature", "", ""};
      return app::ReadStatus::failure;
    }
    m_line = line;
    entry = app::Entry{};
    entry.line = line;
    entry.event_id = fmt::format("e{}", line);
    return app::ReadStatus::entry;
  }
  app::Cursor position() const override
  {
    app::Cursor c;
    c.line = m_line;
    return c;
  }
  std::uint64_t lag_bytes() const override
  {
    return static_cast<std::uint64_t>(m_total - m_line);
  }
  std::optional<app::SteppedOver> step_over() override { return std::nullopt; }
  std::int64_t total() const { return m_total; }

private:
  std::int64_t m_total;
  std::int64_t m_line = 0;
};

struct Seen
{
  std::vector<std::int64_t> lines;     // every entry, in order
  std::vector<std::int64_t> positions; // position().line after each chunk
  app::ReadStatus end = app::ReadStatus::entry;
};

Seen read_all(CountingLog& log, std::int64_t boundary)
{
  Seen seen;
  app::ReadAhead reader(log, boundary);
  for (;;) {
    const app::EntryChunk& chunk = reader.next();
    for (std::size_t i = 0; i < chunk.count; ++i) {
      CHECK(chunk.entries[i].event_id ==
            fmt::format("e{}", chunk.entries[i].line));
      seen.lines.push_back(chunk.entries[i].line);
    }
    seen.positions.push_back(chunk.position.line);
    // The lag measured with the chunk, not wherever the reader is now.
    CHECK(static_cast<std::int64_t>(chunk.lag_bytes) ==
          log.total() - chunk.position.line);
    if (chunk.end != app::ReadStatus::entry) {
      seen.end = chunk.end;
      return seen;
    }
  }
}

std::vector<std::int64_t> one_to(std::int64_t n)
{
  std::vector<std::int64_t> v;
  for (std::int64_t i = 1; i <= n; ++i) {
    v.push_back(i);
  }
  return v;
}

} // namespace

TEST_CASE(
  "app: read ahead: every entry once, in order, chunks ending at boundaries")
{
  CountingLog log(2500);
  const Seen seen = read_all(log, 1000);
  CHECK(seen.lines == one_to(2500));
  CHECK(seen.end == app::ReadStatus::end);
  // 512-entry chunks, cut again at 1000 and 2000; the last finds the end.
  CHECK(seen.positions ==
        std::vector<std::int64_t>{512, 1000, 1512, 2000, 2500});
}

TEST_CASE("app: read ahead: a boundary smaller than a chunk cuts every chunk")
{
  CountingLog log(7);
  const Seen seen = read_all(log, 3);
  CHECK(seen.lines == one_to(7));
  CHECK(seen.positions == std::vector<std::int64_t>{3, 6, 7});
}

TEST_CASE("app: read ahead: a failure ends the entries before it")
{
  CountingLog log(100);
  log.fail_at = 41;
  const Seen seen = read_all(log, 10);
  CHECK(seen.lines == one_to(40));
  CHECK(seen.end == app::ReadStatus::failure);
  CHECK(seen.positions.back() == 40);
}

TEST_CASE(
  "app: read ahead: what the log throws comes after the entries before it")
{
  CountingLog log(5000);
  log.throw_at = 1300;
  app::ReadAhead reader(log, 10000);
  std::vector<std::int64_t> lines;
  try {
    for (;;) {
      const app::EntryChunk& chunk = reader.next();
      for (std::size_t i = 0; i < chunk.count; ++i) {
        lines.push_back(chunk.entries[i].line);
      }
      REQUIRE(chunk.end == app::ReadStatus::entry);
    }
  } catch (const AuditError& e) {
    CHECK(std::string(e.what()) == "read failed at line 1300");
  }
  // The chunk that threw is dropped whole: 1024 entries came before it.
  CHECK(lines == one_to(1024));
}

TEST_CASE("app: read ahead: stopping early reads only a few chunks ahead")
{
  CountingLog log(1'000'000);
  {
    app::ReadAhead reader(log, 10000);
    const app::EntryChunk& chunk = reader.next();
    CHECK(chunk.count == 512);
    CHECK(chunk.position.line == 512);
    // Destroyed here while the reader waits for a free chunk.
  }
  // Three chunks at most are filled ahead of the one held.
  CHECK(log.reads.load() >= 512);
  CHECK(log.reads.load() <= 4 * 512);
}

TEST_CASE(
  "app: read ahead: a log that ends in the first chunk starts no thread")
{
  const auto threads = [] {
    return std::distance(std::filesystem::directory_iterator("/proc/self/task"),
                         std::filesystem::directory_iterator{});
  };
  const auto before = threads(); // a sanitizer may run one of its own
  {
    CountingLog log(300);
    app::ReadAhead reader(log, 10000);
    CHECK(threads() == before);
    CHECK(reader.next().count == 300);
  }
  {
    CountingLog log(3000);
    app::ReadAhead reader(log, 10000);
    CHECK(threads() == before + 1);
  }
  CHECK(threads() == before);
}
