#include "config/keys.hpp"
#include "util/error.hpp"

#include <algorithm>
#include <fmt/core.h>

namespace vtc::config {

namespace {

constexpr std::size_t k_max_printable = 80;

bool is_control(char c)
{
  const auto u = static_cast<unsigned char>(c);
  return u < 0x20 || u == 0x7f;
}

void validate_integer(const Key& key, std::int64_t value,
                      const std::string& where)
{
  if (value < key.min || value > key.max) {
    const auto range = range_text(key);
    throw ConfigError(
      fmt::format("{}: '{}' must be {}{}, not {}", where, full_name(key),
                  range.starts_with('>') ? "" : "in ", range, value));
  }
}

// Every string may end up in a message, a log line, a C API or a record, so
// control bytes (NUL and LF among them) are refused everywhere.
void validate_string(const Key& key, const std::string& value,
                     const std::string& where)
{
  if (std::any_of(value.begin(), value.end(), is_control)) {
    throw ConfigError(fmt::format(
      "{}: '{}' must not contain control characters", where, full_name(key)));
  }
  if (key.check != nullptr) {
    if (const auto reason = key.check(value); !reason.empty()) {
      throw ConfigError(
        fmt::format("{}: '{}' {}", where, full_name(key), reason));
    }
  }
}

} // namespace

void validate(const Key& key, const Value& value, const std::string& where)
{
  if (const auto* i = std::get_if<std::int64_t>(&value)) {
    validate_integer(key, *i, where);
  } else {
    validate_string(key, std::get<std::string>(value), where);
  }
}

void assign(const Key& key, const Value& value, Config& config)
{
  if (const auto* s = std::get_if<std::string Config::*>(&key.field)) {
    config.*(*s) = std::get<std::string>(value);
  } else if (const auto* i = std::get_if<std::int64_t Config::*>(&key.field)) {
    config.*(*i) = std::get<std::int64_t>(value);
  } else {
    const auto& mode = std::get<std::string>(value);
    config.*std::get<VerifyMode Config::*>(key.field) =
      mode == "strict" ? VerifyMode::strict : VerifyMode::chain;
  }
}

std::string printable(std::string_view text)
{
  std::string out(text.substr(0, k_max_printable));
  std::replace_if(out.begin(), out.end(), is_control, '?');
  if (text.size() > k_max_printable) {
    out += "...";
  }
  return out;
}

} // namespace vtc::config
