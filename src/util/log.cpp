#include "util/log.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>

namespace vtc::util::log {

namespace {

Format g_format = Format::text;
Level g_threshold = Level::info;

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

void configure(Format format, Level level)
{
  g_format = format;
  g_threshold = level;
}

Level threshold()
{
  return g_threshold;
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
    line = fmt::format("vtc-sync: {}: {}", name(level), msg);
    for (const auto& [k, v] : fields) {
      line += fmt::format(" {}={}", k, v);
    }
  }
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stderr);
}

} // namespace vtc::util::log
