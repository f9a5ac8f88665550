#include "core/timestamp.hpp"

#include <array>

namespace vtc::core {

namespace {

// Howard Hinnant's days_from_civil / civil_from_days: proleptic Gregorian
// calendar without the C library's time zone machinery.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d)
{
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct Civil
{
  std::int64_t y;
  unsigned m;
  unsigned d;
};

Civil civil_from_days(std::int64_t z)
{
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {y + (m <= 2 ? 1 : 0), m, d};
}

bool is_leap(std::int64_t y)
{
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

unsigned days_in_month(std::int64_t y, unsigned m)
{
  static constexpr std::array<unsigned, 12> k_days{31, 28, 31, 30, 31, 30,
                                                   31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : k_days[m - 1];
}

// Reads exactly `n` digits at `pos`.
bool digits(std::string_view s, std::size_t pos, std::size_t n, unsigned& out)
{
  if (pos + n > s.size()) {
    return false;
  }
  out = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') {
      return false;
    }
    out = out * 10 + static_cast<unsigned>(s[i] - '0');
  }
  return true;
}

// Writes `v` as exactly `width` decimal digits, zero-padded; returns the end.
char* put_digits(char* p, std::uint64_t v, int width)
{
  for (int i = width - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  return p + width;
}

} // namespace

std::optional<TimeNs> parse_rfc3339(std::string_view s)
{
  unsigned year = 0;
  unsigned month = 0;
  unsigned day = 0;
  unsigned hour = 0;
  unsigned minute = 0;
  unsigned second = 0;
  if (s.size() < 20 || !digits(s, 0, 4, year) || s[4] != '-' ||
      !digits(s, 5, 2, month) || s[7] != '-' || !digits(s, 8, 2, day) ||
      s[10] != 'T' || !digits(s, 11, 2, hour) || s[13] != ':' ||
      !digits(s, 14, 2, minute) || s[16] != ':' || !digits(s, 17, 2, second)) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) ||
      hour > 23 || minute > 59 || second > 59) {
    return std::nullopt;
  }
  std::size_t pos = 19;
  std::int64_t frac = 0;
  if (s[pos] == '.') {
    ++pos;
    std::size_t n = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (++n > 9) {
        return std::nullopt;
      }
      frac = frac * 10 + (s[pos] - '0');
      ++pos;
    }
    if (n == 0) {
      return std::nullopt;
    }
    for (; n < 9; ++n) {
      frac *= 10;
    }
  }
  if (pos + 1 != s.size() || s[pos] != 'Z') {
    return std::nullopt;
  }
  const std::int64_t days = days_from_civil(year, month, day);
  std::int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second;
  if (secs < 0 && frac > 0) {
    // Borrow a second so the product stays in range down to INT64_MIN.
    ++secs;
    frac -= k_ns_per_second;
  }
  TimeNs t = 0;
  if (__builtin_mul_overflow(secs, k_ns_per_second, &t) ||
      __builtin_add_overflow(t, frac, &t)) {
    return std::nullopt; // years 0000-1677 and 2262-9999
  }
  return t;
}

void format_rfc3339(TimeNs t, std::string_view suffix, std::string& out)
{
  std::int64_t secs = t / k_ns_per_second;
  std::int64_t nanos = t % k_ns_per_second;
  if (nanos < 0) {
    nanos += k_ns_per_second;
    --secs;
  }
  std::int64_t days = secs / 86400;
  std::int64_t rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  const Civil c = civil_from_days(days);
  // Written digit by digit: the hash chain renders one time per entry, and
  // snprintf costs more than the rest of the rendering. A TimeNs always
  // falls in years 1677-2262, so the year has four digits.
  char buf[40];
  char* p = buf;
  p = put_digits(p, static_cast<std::uint64_t>(c.y), 4);
  *p++ = '-';
  p = put_digits(p, c.m, 2);
  *p++ = '-';
  p = put_digits(p, c.d, 2);
  *p++ = 'T';
  p = put_digits(p, static_cast<std::uint64_t>(rem / 3600), 2);
  *p++ = ':';
  p = put_digits(p, static_cast<std::uint64_t>(rem / 60 % 60), 2);
  *p++ = ':';
  p = put_digits(p, static_cast<std::uint64_t>(rem % 60), 2);
  if (nanos != 0) {
    const auto n = static_cast<std::uint64_t>(nanos);
    *p++ = '.';
    if (n % 1'000'000 == 0) {
      p = put_digits(p, n / 1'000'000, 3);
    } else if (n % 1'000 == 0) {
      p = put_digits(p, n / 1'000, 6);
    } else {
      p = put_digits(p, n, 9);
    }
  }
  out.assign(buf, static_cast<std::size_t>(p - buf));
  out += suffix;
}

std::string format_rfc3339(TimeNs t, std::string_view suffix)
{
  std::string out;
  format_rfc3339(t, suffix, out);
  return out;
}

} // namespace vtc::core
