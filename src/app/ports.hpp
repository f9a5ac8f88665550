#pragma once

// The interfaces the use cases need from the outside world, one per use:
// adapters (audit/, store/, registry/) implement them; tests replace them
// with the fakes in tests/support/.

#include "app/audit_log.hpp"
#include "app/clock.hpp"
#include "app/dispatch_ports.hpp"
#include "app/mirror_store.hpp"
#include "app/views.hpp"
#include "app/walk_store.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace vtc::app {

// Values kept across passes in the database, each written only when it
// changes. Throws StoreError (74).
class Settings
{
public:
  virtual ~Settings() = default;
  virtual std::optional<std::string> setting(const std::string& key) = 0;
  virtual void set_setting(const std::string& key,
                           const std::string& value) = 0;
};

// Everything one pass (app/tick.cpp) needs from the state database: the
// walk's, dispatch's and the mirror's ports, and the pass's own steps.
class PassStore
  : public WalkStore
  , public DispatchStore
  , public MirrorStore
  , public Settings
{
public:
  // Puts jobs a dead pass left in_flight back: each counts its attempt and
  // is due at `due_after(attempts)`, or fails after `max_attempts`.
  virtual std::int64_t recover_in_flight(
    std::int64_t max_attempts,
    const std::function<core::TimeNs(std::int64_t attempts)>& due_after) = 0;
  // True when a job is due at `now` within `scope` (reads only).
  virtual bool has_due(core::TimeNs now, ClaimScope scope) = 0;
  virtual void record_pass(const PassRecord& pass) = 0;
  // Truncates the WAL so deleted rows leave the files. False when
  // readers kept it busy (try again next pass).
  virtual bool checkpoint() = 0;
};

} // namespace vtc::app
