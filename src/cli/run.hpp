#pragma once

namespace vtc::cli {

// Parses the command line, runs the command and returns the process exit code
// (vtc-sync(1), EXIT STATUS). Every failure is reported here as one stderr
// line.
int run(int argc, char** argv);

} // namespace vtc::cli
