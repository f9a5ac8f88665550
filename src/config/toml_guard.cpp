#include "config/toml_guard.hpp"
#include "util/utf8.hpp"

#include <cstdint>

namespace vtc::config {

namespace {

constexpr char32_t k_plane15 = 0xF0000;

bool sheltered(char32_t c)
{
  return c > k_plane15 && toml_misjudges(c - k_plane15);
}

// Copies `text` to the result, re-encoding each code point through `map`.
// decode_utf8() accepts what toml++'s decoder accepts; other bytes are
// copied as they are, for toml++ to report.
template<typename Map>
std::string recode(std::string_view text, Map map)
{
  std::string out;
  out.reserve(text.size());
  for (std::size_t at = 0; at < text.size();) {
    char32_t c = 0;
    const auto n = util::decode_utf8(text, at, c);
    if (n == 0) {
      out += text[at++];
      continue;
    }
    util::append_utf8(out, map(c));
    at += n;
  }
  return out;
}

} // namespace

bool toml_misjudges(char32_t c)
{
  // toml++ splits U+00A0–U+FEFF into blocks of 0x3FA code points. The set
  // bits of `answered` are blocks it rejects at once; blocks 5 and 7 have
  // their own case. In the other blocks only U+00A0, U+3000 and U+FEFF
  // are answered; the rest fall through to __builtin_unreachable().
  constexpr std::uint64_t answered = 0x7FFFFFFFFFFFF75Eull;
  if (c <= 0xA0 || c >= 0xFEFF || c == 0x3000) {
    return false;
  }
  const auto block = (static_cast<std::uint64_t>(c) - 0xA0) / 0x3FA;
  return ((answered >> block) & 1) == 0 && block != 5 && block != 7;
}

Sheltered shelter(std::string_view text)
{
  Sheltered result;
  std::size_t line = 1;
  result.text = recode(text, [&](char32_t c) {
    if (sheltered(c) && !result.clash) {
      result.clash = c;
      result.clash_line = line;
    }
    line += c == U'\n' ? 1 : 0;
    return toml_misjudges(c) ? k_plane15 + c : c;
  });
  return result;
}

std::string unshelter(std::string_view text)
{
  return recode(text,
                [](char32_t c) { return sheltered(c) ? c - k_plane15 : c; });
}

} // namespace vtc::config
