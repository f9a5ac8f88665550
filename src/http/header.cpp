#include "http/header.hpp"

#include <algorithm>
#include <cctype>

namespace vtc::http {

std::optional<std::string_view> header_value(std::string_view line,
                                             std::string_view name)
{
  if (line.size() <= name.size() || line[name.size()] != ':' ||
      !std::equal(name.begin(), name.end(), line.begin(), [](char a, char b) {
        return a == std::tolower(static_cast<unsigned char>(b));
      })) {
    return std::nullopt;
  }
  std::string_view value = line.substr(name.size() + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
    value.remove_prefix(1);
  }
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' ||
                            value.back() == ' ' || value.back() == '\t')) {
    value.remove_suffix(1);
  }
  return value;
}

bool is_status_line(std::string_view line)
{
  return line.rfind("HTTP/", 0) == 0;
}

} // namespace vtc::http
