#include "util/exit_code.hpp"

#include <array>

namespace vtc {

namespace {

int rank(ExitCode code)
{
  // Earlier in this list wins.
  static constexpr std::array k_order{
    ExitCode::usage,    ExitCode::software,  ExitCode::io_err,
    ExitCode::config,   ExitCode::data_err,  ExitCode::unavailable,
    ExitCode::protocol, ExitCode::temp_fail, ExitCode::no_input,
    ExitCode::differ,
  };
  for (std::size_t i = 0; i < k_order.size(); ++i) {
    if (k_order[i] == code) {
      return static_cast<int>(i);
    }
  }
  return static_cast<int>(k_order.size());
}

} // namespace

ExitCode worst(ExitCode a, ExitCode b)
{
  return rank(a) <= rank(b) ? a : b;
}

} // namespace vtc
