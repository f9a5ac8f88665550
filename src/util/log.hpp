#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vtc::util::log {

enum class Level { debug = 0, info = 1, warn = 2, error = 3 };
enum class Format { text, json };

// A structured field (`job_id`, `member`, `http_status`…), rendered as
// key=value in text and as a JSON member in json.
using Fields = std::vector<std::pair<std::string, std::string>>;

// Sets where and how much is logged. Messages below `threshold` are dropped.
// Text lines get a coloured level when stderr is a terminal and NO_COLOR is
// unset or empty.
void configure(Format format, Level threshold);

// Whether text logs are coloured: on a terminal, unless NO_COLOR is set to
// a non-empty value (`no_color` is its value, nullptr when unset).
bool use_colour(bool terminal, const char* no_color);

// Writes one line to stderr: "vtc-sync: <level>: msg k=v…" or one JSON
// object with ts, level, msg and the fields.
void write(Level level, std::string_view msg, const Fields& fields = {});

inline void debug(std::string_view m, const Fields& f = {})
{
  write(Level::debug, m, f);
}
inline void info(std::string_view m, const Fields& f = {})
{
  write(Level::info, m, f);
}
inline void warn(std::string_view m, const Fields& f = {})
{
  write(Level::warn, m, f);
}
inline void error(std::string_view m, const Fields& f = {})
{
  write(Level::error, m, f);
}

} // namespace vtc::util::log
