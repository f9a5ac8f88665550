#include "core/answer.hpp"

#include <array>
#include <cstdio>
#include <limits>

namespace vtc::core {

AnswerClass classify(bool is_delete, int status, Transport transport)
{
  if (transport == Transport::unreachable) {
    return AnswerClass::unreachable;
  }
  if (transport == Transport::tls) {
    return AnswerClass::config;
  }
  if (status >= 200 && status <= 299) {
    return AnswerClass::success;
  }
  if (is_delete && (status == 404 || status == 410)) {
    return AnswerClass::success;
  }
  if (status == 401) {
    return AnswerClass::auth;
  }
  if (status == 405 || status == 501) {
    return AnswerClass::incompatible;
  }
  if (status == 408 || status == 425 || status == 429 ||
      (status >= 500 && status <= 599)) {
    return AnswerClass::transient;
  }
  if (status >= 300 && status <= 499) {
    return AnswerClass::permanent;
  }
  return AnswerClass::transient; // 1xx, ≥ 600: not listed
}

bool counts_for_breaker(AnswerClass cls, int status)
{
  return cls == AnswerClass::unreachable || (status >= 500 && status <= 599) ||
         status == 408;
}

std::string_view to_string(AnswerClass cls)
{
  switch (cls) {
  case AnswerClass::success:
    return "success";
  case AnswerClass::transient:
    return "transient";
  case AnswerClass::unreachable:
    return "unreachable";
  case AnswerClass::auth:
    return "auth";
  case AnswerClass::permanent:
    return "permanent";
  case AnswerClass::incompatible:
    return "incompatible";
  case AnswerClass::config:
    return "config";
  }
  return "transient";
}

NextStep next_step(AnswerClass cls, std::int64_t attempts,
                   std::int64_t max_attempts)
{
  switch (cls) {
  case AnswerClass::success:
    return NextStep::done;
  case AnswerClass::permanent:
    return NextStep::fail;
  case AnswerClass::auth:
  case AnswerClass::config:
  case AnswerClass::incompatible:
    return NextStep::unspent;
  case AnswerClass::transient:
  case AnswerClass::unreachable:
    return attempts >= max_attempts ? NextStep::fail : NextStep::retry;
  }
  return NextStep::retry;
}

namespace {

bool two_digits(std::string_view s, std::size_t at, int& out)
{
  if (at + 2 > s.size() || s[at] < '0' || s[at] > '9' || s[at + 1] < '0' ||
      s[at + 1] > '9') {
    return false;
  }
  out = (s[at] - '0') * 10 + (s[at + 1] - '0');
  return true;
}

} // namespace

std::optional<std::int64_t> parse_retry_after(std::string_view v, TimeNs now)
{
  if (v.empty()) {
    return std::nullopt;
  }
  if (v.find_first_not_of("0123456789") == std::string_view::npos) {
    std::int64_t n = 0;
    for (char c : v) {
      if (n > std::numeric_limits<std::int64_t>::max() / 10 - 10) {
        return std::numeric_limits<std::int64_t>::max(); // saturate
      }
      n = n * 10 + (c - '0');
    }
    return n;
  }
  // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 9110 §5.6.7).
  static constexpr std::array<std::string_view, 12> k_months{
    "Jan", "Feb", "Mar", "Apr", "May", "Jun",
    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (v.size() != 29 || v[3] != ',' || v[4] != ' ' || v[7] != ' ' ||
      v[11] != ' ' || v[16] != ' ' || v.substr(25) != " GMT") {
    return std::nullopt;
  }
  int day = 0;
  int hh = 0;
  int mm = 0;
  int ss = 0;
  int y1 = 0;
  int y2 = 0;
  if (!two_digits(v, 5, day) || !two_digits(v, 12, y1) ||
      !two_digits(v, 14, y2) || !two_digits(v, 17, hh) || v[19] != ':' ||
      !two_digits(v, 20, mm) || v[22] != ':' || !two_digits(v, 23, ss)) {
    return std::nullopt;
  }
  std::size_t month = 0;
  while (month < k_months.size() && k_months[month] != v.substr(8, 3)) {
    ++month;
  }
  if (month == k_months.size()) {
    return std::nullopt;
  }
  char iso[32];
  std::snprintf(iso, sizeof iso, "%02d%02d-%02zu-%02dT%02d:%02d:%02dZ", y1, y2,
                month + 1, day, hh, mm, ss);
  const auto at = parse_rfc3339(iso);
  if (!at) {
    return std::nullopt;
  }
  if (*at <= now) {
    return 0;
  }
  // *at > now: the difference fits in 64 unsigned bits whatever the clock.
  const std::uint64_t delta =
    static_cast<std::uint64_t>(*at) - static_cast<std::uint64_t>(now);
  const std::uint64_t ns = k_ns_per_second;
  return static_cast<std::int64_t>(delta / ns + (delta % ns != 0 ? 1 : 0));
}

} // namespace vtc::core
