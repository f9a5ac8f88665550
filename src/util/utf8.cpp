#include "util/utf8.hpp"

#include <cstdint>

namespace vtc::util {

std::size_t decode_utf8(std::string_view text, std::size_t at, char32_t& c)
{
  const auto lead = static_cast<unsigned char>(text[at]);
  std::size_t n = 0;
  char32_t min = 0;
  if (lead < 0x80) {
    c = lead;
    return 1;
  }
  // 0xC0 and 0xC1 could only start overlong forms, 0xF5 and above only
  // values past U+10FFFF.
  if (lead >= 0xC2 && lead <= 0xDF) {
    n = 2, c = lead & 0x1FU, min = 0x80;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    n = 3, c = lead & 0x0FU, min = 0x800;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    n = 4, c = lead & 0x07U, min = 0x10000;
  } else {
    return 0;
  }
  if (text.size() - at < n) {
    return 0;
  }
  for (std::size_t i = 1; i < n; ++i) {
    const auto next = static_cast<unsigned char>(text[at + i]);
    if ((next & 0xC0U) != 0x80U) {
      return 0;
    }
    c = (c << 6U) | (next & 0x3FU);
  }
  if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
    return 0;
  }
  return n;
}

void append_utf8(std::string& out, char32_t c)
{
  const auto put = [&](std::uint32_t byte) { out += static_cast<char>(byte); };
  if (c < 0x80) {
    put(c);
  } else if (c < 0x800) {
    put(0xC0U | (c >> 6U));
    put(0x80U | (c & 0x3FU));
  } else if (c < 0x10000) {
    put(0xE0U | (c >> 12U));
    put(0x80U | ((c >> 6U) & 0x3FU));
    put(0x80U | (c & 0x3FU));
  } else {
    put(0xF0U | (c >> 18U));
    put(0x80U | ((c >> 12U) & 0x3FU));
    put(0x80U | ((c >> 6U) & 0x3FU));
    put(0x80U | (c & 0x3FU));
  }
}

} // namespace vtc::util
