#include "util/exit_code.hpp"

#include <doctest/doctest.h>
#include <vector>

using vtc::ExitCode;
using vtc::worst;

TEST_CASE("util: worst lets 64 win, then 70, 74, 78, 65, 69, 76, 75")
{
  // 64 wins outright; then this order; ok loses to everything.
  const std::vector<ExitCode> order{ExitCode::usage,    ExitCode::software,
                                    ExitCode::io_err,   ExitCode::config,
                                    ExitCode::data_err, ExitCode::unavailable,
                                    ExitCode::protocol, ExitCode::temp_fail};
  for (std::size_t i = 0; i < order.size(); ++i) {
    for (std::size_t j = 0; j < order.size(); ++j) {
      CAPTURE(static_cast<int>(order[i]));
      CAPTURE(static_cast<int>(order[j]));
      const ExitCode want = order[i < j ? i : j];
      CHECK(worst(order[i], order[j]) == want);
    }
    CHECK(worst(order[i], ExitCode::ok) == order[i]);
    CHECK(worst(ExitCode::ok, order[i]) == order[i]);
  }
  CHECK(worst(ExitCode::ok, ExitCode::ok) == ExitCode::ok);
  CHECK(static_cast<int>(ExitCode::usage) == 64);
  CHECK(static_cast<int>(ExitCode::data_err) == 65);
  CHECK(static_cast<int>(ExitCode::no_input) == 66);
  CHECK(static_cast<int>(ExitCode::unavailable) == 69);
  CHECK(static_cast<int>(ExitCode::software) == 70);
  CHECK(static_cast<int>(ExitCode::io_err) == 74);
  CHECK(static_cast<int>(ExitCode::temp_fail) == 75);
  CHECK(static_cast<int>(ExitCode::protocol) == 76);
  CHECK(static_cast<int>(ExitCode::config) == 78);
}
