#pragma once

#include <cstddef>
#include <string>

namespace vtc::util {

// Reads a secret file (token, HMAC keys, client key) after checking the rule of
// vtc-sync.toml(5), SECRET FILES: owned by the effective user or root, no
// permission bits for others, group read only when the file's group is the
// process's group. `what` names the config key in messages. Throws ConfigError
// (78) naming the path.
std::string read_secret_file(const std::string& path, const std::string& what);

// Overwrites a secret with zeros, in a way the compiler keeps even when the
// memory is not read again.
void wipe(void* data, std::size_t size);
void wipe(std::string& secret);

// Checks the same rule without reading (for files a library opens itself).
void check_secret_file(const std::string& path, const std::string& what);

} // namespace vtc::util
