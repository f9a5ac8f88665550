#pragma once

#include <string>

namespace vtc::store {

// The exclusive, non-blocking flock on "<db>.lock" a pass holds for its whole
// duration (vtc-sync(1), FILES). Released when destroyed or when the process
// dies, so a killed pass never leaves a stale lock behind.
class PassLock
{
public:
  // Takes the lock. Throws LockBusy (75) when another pass holds it,
  // StoreError (74) when the lock file cannot be opened.
  explicit PassLock(const std::string& db_path);
  ~PassLock();
  PassLock(const PassLock&) = delete;
  PassLock& operator=(const PassLock&) = delete;

  // True when some process holds the lock right now (taken and released at
  // once when free). Used by read-only commands to tell "running" from
  // "crashed". Never creates the lock file.
  static bool held(const std::string& db_path);

private:
  int m_fd = -1;
};

} // namespace vtc::store
