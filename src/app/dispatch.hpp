#pragma once

#include "app/ports.hpp"
#include "util/exit_code.hpp"

#include <functional>
#include <memory>

namespace vtc::app {

// Draws a backoff's jitter in [0, k] (core::backoff_seconds).
using Jitter = std::function<std::int64_t(std::int64_t k)>;

struct DispatchOptions
{
  std::int64_t concurrency = 16;
  std::int64_t max_attempts = 16;
  std::int64_t max_backoff_seconds = 3600;
  std::int64_t max_jobs = 5000;
  ClaimScope scope = ClaimScope::all;
  core::Publication publication; // the policy's values
  std::int64_t breaker_failures = 5;
  // No request starts after `deadline`; running ones are abandoned (left
  // in flight for the next pass's recovery) after `hard_deadline`.
  Registry::Deadline deadline = Registry::Deadline::max();
  Registry::Deadline hard_deadline = Registry::Deadline::max();
  // Polled between requests: true stops starting new ones (signals).
  std::function<bool()> should_stop = [] { return false; };
  Jitter jitter; // none: no jitter
};

struct DispatchResult
{
  std::int64_t sent = 0;
  std::int64_t succeeded = 0;
  std::int64_t retried = 0;
  std::int64_t failed = 0;
  std::int64_t unspent = 0;
  std::int64_t skipped = 0;      // nothing to send (publish_on_join, consent)
  std::int64_t deletes_done = 0; // members forgotten in this pass
  bool auth_rejected = false;    // 401
  bool tls_failed = false;       // TLS or local certificate problem
  bool incompatible = false;     // 405/501
  bool paused = false;           // a 429 pause holds sending
  bool breaker_open = false;     // the breaker holds (or now held) sending
  bool rejecting = false;        // a run of identical permanent answers
  bool left_over = false;        // stopped with due jobs left (limits, signal)
  std::string first_error;       // for the one error line
  ExitCode code = ExitCode::ok;
};

// Opens the registry client, only when a job is due and may be sent
// (reading the token file); throws ConfigError (78) when it cannot.
using RegistryOpener = std::function<std::unique_ptr<Registry>()>;

// Sends due jobs to the registry and records what happened (docs/design.md,
// Store and dispatch; vtc-sync(1), THE REGISTRY): at most `concurrency`
// requests in flight; answers recorded several at a time (within 10 ms) in the
// transaction that claims the next jobs, some claimed ahead of free slots;
// never a transaction open across a network wait; on return every answer is
// recorded and every claimed job not sent is put back. The registry is opened
// only when a pause or an open breaker does not hold the pass back; `open`
// returns nullptr when it cannot be (having said why). Throws StoreError (74).
DispatchResult dispatch(DispatchStore& store, const RegistryOpener& open,
                        const Clock& clock, const DispatchOptions& options);

} // namespace vtc::app
