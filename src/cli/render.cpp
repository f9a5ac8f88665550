#include "cli/render.hpp"

#include <fmt/core.h>

#include <algorithm>

namespace vtc::cli {

std::string short_time(core::TimeNs t)
{
  return core::format_rfc3339(t - t % core::k_ns_per_second);
}

std::string human_duration(core::TimeNs ns)
{
  const bool negative = ns < 0;
  std::int64_t s = (negative ? -ns : ns) / core::k_ns_per_second;
  std::string out;
  if (s < 60) {
    out = fmt::format("{}s", s);
  } else if (s < 3600) {
    out = fmt::format("{}m{}s", s / 60, s % 60);
  } else if (s < 86400) {
    out = fmt::format("{}h{}m", s / 3600, s % 3600 / 60);
  } else {
    out = fmt::format("{}d{}h", s / 86400, s % 86400 / 3600);
  }
  return negative ? "-" + out : out;
}

std::string short_hash(const std::string& hash)
{
  return hash.substr(0, 10);
}

std::string table(const std::vector<std::vector<std::string>>& rows)
{
  std::vector<std::size_t> width;
  for (const auto& row : rows) {
    width.resize(std::max(width.size(), row.size()));
    for (std::size_t i = 0; i < row.size(); ++i) {
      width[i] = std::max(width[i], row[i].size());
    }
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) {
        line.append(width[i] - row[i].size() + 2, ' ');
      }
    }
    out += line + '\n';
  }
  return out;
}

} // namespace vtc::cli
