#pragma once

#include "core/timestamp.hpp"

#include <chrono>

namespace vtc::app {

// Time. Logic never reads the system clocks directly.
class Clock
{
public:
  using Instant = std::chrono::steady_clock::time_point;

  virtual ~Clock() = default;
  // Wall-clock time: due times, outcomes, what is stored.
  virtual core::TimeNs now() const = 0;
  // Monotonic time: deadlines and waits within a pass.
  virtual Instant monotonic() const = 0;
};

} // namespace vtc::app
