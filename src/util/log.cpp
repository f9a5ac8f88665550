#include "util/log.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace vtc::util::log {

namespace {

Format g_format = Format::text;
Level g_threshold = Level::info;
bool g_colour = false;

// SGR sequences around the level word.
const char* colour(Level level)
{
  switch (level) {
  case Level::debug:
    return "\x1b[2m"; // dim
  case Level::info:
    return "\x1b[36m"; // cyan
  case Level::warn:
    return "\x1b[1;33m"; // bold yellow
  case Level::error:
    return "\x1b[1;31m"; // bold red
  }
  return "";
}

const char* name(Level level)
{
  switch (level) {
  case Level::debug:
    return "debug";
  case Level::info:
    return "info";
  case Level::warn:
    return "warning";
  case Level::error:
    return "error";
  }
  return "?";
}

std::string now_utc()
{
  using namespace std::chrono;
  const auto now = time_point_cast<milliseconds>(system_clock::now());
  const auto secs = time_point_cast<seconds>(now);
  const std::time_t t = system_clock::to_time_t(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03}Z", buf, (now - secs).count());
}

} // namespace

bool use_colour(bool terminal, const char* no_color)
{
  return terminal && (no_color == nullptr || *no_color == '\0');
}

void configure(Format format, Level level)
{
  g_format = format;
  g_threshold = level;
  g_colour = format == Format::text &&
             use_colour(isatty(STDERR_FILENO) != 0, std::getenv("NO_COLOR"));
}

void write(Level level, std::string_view msg, const Fields& fields)
{
  if (level < g_threshold) {
    return;
  }
  std::string line;
  if (g_format == Format::json) {
    nlohmann::ordered_json j;
    j["ts"] = now_utc();
    j["level"] = name(level);
    j["msg"] = msg;
    for (const auto& [k, v] : fields) {
      j[k] = v;
    }
    line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    line = g_colour ? fmt::format("vtc-sync: {}{}\x1b[0m: {}", colour(level),
                                  name(level), msg)
                    : fmt::format("vtc-sync: {}: {}", name(level), msg);
    for (const auto& [k, v] : fields) {
      line += fmt::format(" {}={}", k, v);
    }
  }
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stderr);
}

} // namespace vtc::util::log
