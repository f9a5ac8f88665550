#pragma once

// Internal to config/: the one table of configuration keys. TOML parsing, the
// environment overlay, validation and known_keys() all read it, so a key is
// added or changed in exactly one place.

#include "config/config.hpp"

#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace vtc::config {

enum class KeyType { string, path, url, integer, verify };

// Returns "" when `value` is acceptable, else the reason, phrased to follow
// the key's name ("must start with 'did:'").
using StringCheck = std::string (*)(std::string_view value);

// Where a key's value goes in Config.
using Field = std::variant<std::string Config::*, std::int64_t Config::*,
                           VerifyMode Config::*>;

// One configuration key. The default is Config's own initialiser unless
// `default_text` says otherwise.
struct Key
{
  std::string_view section;
  std::string_view name; // within the section
  KeyType type = KeyType::string;
  Field field;
  bool required = false;
  std::int64_t min = std::numeric_limits<std::int64_t>::min(); // integers
  std::int64_t max = std::numeric_limits<std::int64_t>::max(); // integers
  StringCheck check = nullptr;        // strings, after the common checks
  std::string_view range = {};        // documented constraint of a string key
  std::string_view default_text = {}; // when Config{} does not say it
};

// A value as read from the file, the environment or a flag, before it is
// stored in Config (audit.verify stays a string until then).
using Value = std::variant<std::string, std::int64_t>;

// A value and where it came from ("vtc.toml:12", "environment variable …",
// "--db"), kept so that checks made after merging can still name it.
struct Setting
{
  Value value;
  std::string where;
};

// One slot per key, in the order of keys(); a later layer overwrites.
using Settings = std::vector<std::optional<Setting>>;

// Returns every key, in the order of vtc-sync.toml(5), KEYS.
std::span<const Key> keys();

// Returns the position of `key` in keys().
std::size_t index_of(const Key& key);

// Returns the key `section`.`name`, or nullptr.
const Key* find_key(std::string_view section, std::string_view name);

// Returns the key whose environment variable is `variable`, or nullptr.
const Key* find_env(std::string_view variable);

// Returns true when `section` is one of the TOML tables ("registry", …).
bool is_section(std::string_view section);

// Returns "registry.url".
std::string full_name(const Key& key);

// Every environment variable vtc-sync reads starts so.
inline constexpr std::string_view k_env_prefix = "VTC_SYNC_";

// Returns "VTC_SYNC_REGISTRY_URL".
std::string env_name(const Key& key);

// Returns "1..300" or ">= 4096" for integers, else `key.range`.
std::string range_text(const Key& key);

// Checks `value` against the key's type and constraints. Throws ConfigError
// "<where>: '<key>' <reason>".
void validate(const Key& key, const Value& value, const std::string& where);

// Stores a validated value into `config`.
void assign(const Key& key, const Value& value, Config& config);

// Returns `text` fit for a one-line message: control bytes become '?' and
// long text is cut.
std::string printable(std::string_view text);

} // namespace vtc::config
