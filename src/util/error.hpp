#pragma once

#include "util/exit_code.hpp"

#include <stdexcept>
#include <string>

namespace vtc {

// Base of every operation failure. The message is the one stderr line the
// user sees after "vtc-sync: error: "; it names the object (path, line, URL,
// job id) and says why, in lower case.
class Error : public std::runtime_error
{
public:
  Error(ExitCode code, const std::string& what)
    : std::runtime_error(what), m_code(code)
  {
  }
  ExitCode code() const { return m_code; }

private:
  ExitCode m_code;
};

// Bad command line or a job in the wrong state (64).
struct UsageError : Error
{
  explicit UsageError(const std::string& what) : Error(ExitCode::usage, what) {}
};

// Bad or missing configuration, unusable secret, policy error (78).
struct ConfigError : Error
{
  explicit ConfigError(const std::string& what) : Error(ExitCode::config, what)
  {
  }
};

// State database failures (74), or a missing one (66).
struct StoreError : Error
{
  explicit StoreError(const std::string& what, ExitCode code = ExitCode::io_err)
    : Error(code, what)
  {
  }
};

// Audit source I/O (74) or verification (65) failures.
struct AuditError : Error
{
  AuditError(ExitCode code, const std::string& what) : Error(code, what) {}
};

// The audit source, a running VTC, cannot be reached or is overloaded
// (connection failure, 429, 5xx): the walk waits for a later pass, which
// exits 69 only once this has lasted audit.degraded_after_seconds.
struct SourceUnavailable : AuditError
{
  explicit SourceUnavailable(const std::string& what)
    : AuditError(ExitCode::unavailable, what)
  {
  }
};

// I/O on a file other than the state database or the audit source: the
// metrics file, a backup (74).
struct IoError : Error
{
  explicit IoError(const std::string& what) : Error(ExitCode::io_err, what) {}
};

// Missing input: unknown job id, no database (66).
struct NoInputError : Error
{
  explicit NoInputError(const std::string& what)
    : Error(ExitCode::no_input, what)
  {
  }
};

// Another pass holds the lock (75).
struct LockBusy : Error
{
  explicit LockBusy(const std::string& what) : Error(ExitCode::temp_fail, what)
  {
  }
};

} // namespace vtc
