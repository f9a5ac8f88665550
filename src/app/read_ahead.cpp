#include "app/read_ahead.hpp"

#include <algorithm>
#include <csignal>
#include <pthread.h>

namespace vtc::app {

namespace {

// Entries per chunk: enough that handing a chunk over costs nothing next
// to reading it, few enough that the chunks ahead stay small in memory.
constexpr std::size_t k_chunk_entries = 512;
// Chunks in the ring: the walk holds one, the reader fills the others.
constexpr std::size_t k_ring = 4;

// Starts `body` on a thread that takes no signals: SIGTERM and SIGINT stay
// with the main thread, which turns them into the pass deadline.
template<typename F>
std::thread start_without_signals(F&& body)
{
  sigset_t all;
  sigset_t old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  std::thread t(std::forward<F>(body));
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return t;
}

} // namespace

ReadAhead::ReadAhead(AuditLog& log, std::int64_t boundary)
  : m_log(log),
    m_boundary(std::max<std::int64_t>(boundary, 1)),
    m_chunk_entries(
      std::min(k_chunk_entries, static_cast<std::size_t>(m_boundary))),
    m_ring(k_ring)
{
  // The first chunk is read here: a pass with a few new entries starts no
  // thread, and what the log sets up on its first read (libcrypto, loaded
  // on the first digest) is set up on the main thread; glibc's dlopen from
  // a thread that then exits leaves a block valgrind calls lost.
  read_chunk(m_ring[0]);
  m_filled = 1;
  if (m_ring[0].end == ReadStatus::entry && !m_ring[0].error) {
    m_thread = start_without_signals([this] {
      pthread_setname_np(pthread_self(), "vtc-sync-read"); // for top -H, perf
      run();
    });
  }
}

ReadAhead::~ReadAhead()
{
  if (!m_thread.joinable()) {
    return;
  }
  {
    std::lock_guard lock(m_mutex);
    m_stop = true;
  }
  m_changed.notify_all();
  m_thread.join();
}

const EntryChunk& ReadAhead::next()
{
  std::unique_lock lock(m_mutex);
  m_changed.wait(lock, [&] { return m_filled > m_taken; });
  EntryChunk& chunk = m_ring[m_taken % m_ring.size()];
  ++m_taken;
  lock.unlock();
  m_changed.notify_all(); // the slot held before is free again
  if (chunk.error) {
    std::rethrow_exception(chunk.error);
  }
  return chunk;
}

void ReadAhead::run()
{
  for (;;) {
    std::unique_lock lock(m_mutex);
    // One slot stays with the chunk the walk holds.
    m_changed.wait(
      lock, [&] { return m_stop || m_filled + 1 < m_taken + m_ring.size(); });
    if (m_stop) {
      return;
    }
    EntryChunk& chunk = m_ring[m_filled % m_ring.size()];
    lock.unlock();

    read_chunk(chunk);

    lock.lock();
    ++m_filled;
    lock.unlock();
    m_changed.notify_all();
    if (chunk.end != ReadStatus::entry || chunk.error) {
      return;
    }
  }
}

void ReadAhead::read_chunk(EntryChunk& chunk)
{
  chunk.count = 0;
  chunk.end = ReadStatus::entry;
  chunk.error = nullptr;
  try {
    while (chunk.count < m_chunk_entries) {
      if (chunk.entries.size() == chunk.count) {
        chunk.entries.emplace_back();
      }
      const ReadStatus status =
        m_log.next(chunk.entries[chunk.count], chunk.failure);
      if (status != ReadStatus::entry) {
        chunk.end = status;
        break;
      }
      ++chunk.count;
      if (++m_read % m_boundary == 0) {
        break;
      }
    }
    chunk.position = m_log.position();
    chunk.lag_bytes = m_log.lag_bytes();
  } catch (...) {
    chunk.error = std::current_exception();
  }
}

} // namespace vtc::app
