#pragma once

// Reads and verifies the audit log on a second thread while the walk
// writes what it read before: on a first walk, reading and verifying is a
// sixth of the time, and a pass has a core to spare.

#include "app/ports.hpp"

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace vtc::app {

// Entries read in a row, with where the log stood after the last of them.
struct EntryChunk
{
  std::vector<Entry> entries;  // slots, reused: only the first `count` hold
  std::size_t count = 0;       // entries of this chunk
  Cursor position;             // AuditLog::position() after them
  std::uint64_t lag_bytes = 0; // AuditLog::lag_bytes() after them
  // How the log ended after them; `entry` when more may follow.
  ReadStatus end = ReadStatus::entry;
  AuditFailure failure;     // when end == failure
  std::exception_ptr error; // the log threw (I/O): rethrown by next()
};

class ReadAhead
{
public:
  // Reads the first chunk of `log`, which must be positioned (seek()),
  // then starts a thread for the rest unless the log ended there. The
  // caller does not touch `log` again until this object is gone. A chunk ends
  // at every multiple of `boundary` entries, so a caller committing every
  // `boundary` entries gets the log's position at each commit.
  ReadAhead(AuditLog& log, std::int64_t boundary);
  // Stops the reader (it may be a few chunks ahead) and waits for it.
  ~ReadAhead();
  ReadAhead(const ReadAhead&) = delete;
  ReadAhead& operator=(const ReadAhead&) = delete;

  // The next chunk in log order, waiting for it. Valid until the next
  // call. After a chunk whose `end` is not `entry`, there is none: do not
  // call again. Rethrows what the log threw, after the entries before it.
  const EntryChunk& next();

private:
  void run();
  void read_chunk(EntryChunk& chunk);

  AuditLog& m_log;
  std::int64_t m_boundary;     // at least 1
  std::size_t m_chunk_entries; // at most m_boundary
  std::int64_t m_read = 0;     // entries read, on the reader thread

  std::mutex m_mutex;
  std::condition_variable m_changed;
  std::vector<EntryChunk> m_ring; // filled in order, taken in order
  std::size_t m_filled = 0;       // chunks the reader has filled
  std::size_t m_taken = 0;        // chunks next() has handed out
  bool m_stop = false;
  std::thread m_thread; // last: started once the rest is ready; none when
                        // the first chunk ended the log
};

} // namespace vtc::app
