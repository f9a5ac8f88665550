#pragma once

// A clock that moves only when the test moves it: wall and monotonic time
// together, so a test can step past a backoff, a pause or a deadline.

#include "app/clock.hpp"

#include <chrono>

namespace vtc::test {

class FakeClock final : public app::Clock
{
public:
  // 2026-03-01T00:00:00Z unless told otherwise.
  explicit FakeClock(core::TimeNs wall = 1'772'323'200LL *
                                         core::k_ns_per_second)
    : m_wall(wall)
  {
  }

  core::TimeNs now() const override { return m_wall; }
  Instant monotonic() const override { return m_monotonic; }

  void advance(std::chrono::nanoseconds d)
  {
    m_wall += d.count();
    m_monotonic += d;
  }
  // Moves the wall clock alone (as an operator setting the date would).
  void set_wall(core::TimeNs wall) { m_wall = wall; }

private:
  core::TimeNs m_wall;
  Instant m_monotonic{std::chrono::hours(1)};
};

} // namespace vtc::test
