#pragma once

namespace vtc {

// Exit codes (vtc-sync(1), EXIT STATUS; sysexits.h values).
enum class ExitCode : int {
  ok = 0,
  differ = 1,
  usage = 64,
  data_err = 65,
  no_input = 66,
  unavailable = 69,
  software = 70,
  io_err = 74,
  temp_fail = 75,
  protocol = 76,
  config = 78,
};

// Returns the code that wins when a pass has several causes: 64 outright,
// then 70, 74, 78, 65, 69, 76, 75. `ok` loses to everything.
ExitCode worst(ExitCode a, ExitCode b);

} // namespace vtc
