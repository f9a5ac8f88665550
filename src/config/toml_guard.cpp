#include "config/toml_guard.hpp"

#include <cstdint>

namespace vtc::config {

namespace {

constexpr char32_t k_plane15 = 0xF0000;

// Decodes the strict UTF-8 sequence at text[at] (no overlong forms, no
// surrogates, nothing above U+10FFFF: what toml++'s decoder accepts).
// Returns its length, or 0 when it is not valid UTF-8 or not complete.
std::size_t decode(std::string_view text, std::size_t at, char32_t& c)
{
  const auto lead = static_cast<unsigned char>(text[at]);
  std::size_t n = 0;
  char32_t min = 0;
  if (lead < 0x80) {
    c = lead;
    return 1;
  }
  if (lead >= 0xC2 && lead <= 0xDF) {
    n = 2, c = lead & 0x1F, min = 0x80;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    n = 3, c = lead & 0x0F, min = 0x800;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    n = 4, c = lead & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (text.size() - at < n) {
    return 0;
  }
  for (std::size_t i = 1; i < n; ++i) {
    const auto next = static_cast<unsigned char>(text[at + i]);
    if ((next & 0xC0) != 0x80) {
      return 0;
    }
    c = (c << 6) | (next & 0x3F);
  }
  if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
    return 0;
  }
  return n;
}

void encode(char32_t c, std::string& out)
{
  const auto put = [&](std::uint32_t byte) {
    out += static_cast<char>(byte);
  };
  if (c < 0x80) {
    put(c);
  } else if (c < 0x800) {
    put(0xC0 | (c >> 6));
    put(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    put(0xE0 | (c >> 12));
    put(0x80 | ((c >> 6) & 0x3F));
    put(0x80 | (c & 0x3F));
  } else {
    put(0xF0 | (c >> 18));
    put(0x80 | ((c >> 12) & 0x3F));
    put(0x80 | ((c >> 6) & 0x3F));
    put(0x80 | (c & 0x3F));
  }
}

bool sheltered(char32_t c)
{
  return c > k_plane15 && toml_misjudges(c - k_plane15);
}

// Copies `text` to the result, re-encoding each code point through `map`.
template <typename Map>
std::string recode(std::string_view text, Map map)
{
  std::string out;
  out.reserve(text.size());
  for (std::size_t at = 0; at < text.size();) {
    char32_t c = 0;
    const auto n = decode(text, at, c);
    if (n == 0) {
      out += text[at++];
      continue;
    }
    encode(map(c), out);
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
  return recode(text, [](char32_t c) {
    return sheltered(c) ? c - k_plane15 : c;
  });
}

} // namespace vtc::config
