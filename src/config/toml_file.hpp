#pragma once

// Internal to config/: the file layer. toml++ stays behind this header.

#include "config/keys.hpp"

#include <string>

namespace vtc::config {

// Parses `text` as read from `origin` and stores every key it sets, checked,
// into `settings`; relative paths are resolved against origin's directory.
// Throws ConfigError "<origin>:<line>[:<col>]: …" for syntax errors, unknown
// sections and keys, wrong types and invalid values.
void read_toml(const std::string& text, const std::string& origin,
               Settings& settings);

} // namespace vtc::config
