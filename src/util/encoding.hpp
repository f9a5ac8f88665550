#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace vtc::util {

using Digest = std::array<std::uint8_t, 32>;
using Uuid = std::array<std::uint8_t, 16>;

// Unpadded base64url (RFC 4648 §5) of `bytes`.
std::string base64url_encode(std::span<const std::uint8_t> bytes);

// Decodes unpadded, canonical base64url: the unused low bits of the last
// character must be zero, so every value has exactly one spelling. Returns
// nullopt on any other input.
std::optional<std::string> base64url_decode(std::string_view text);

// Decodes the 43-character canonical spelling of 32 bytes.
std::optional<Digest> decode_digest(std::string_view text);

namespace detail {
constexpr std::array<std::int8_t, 256> k_hex_values = [] {
  std::array<std::int8_t, 256> t{};
  t.fill(-1);
  for (int i = 0; i < 10; ++i) {
    t['0' + i] = static_cast<std::int8_t>(i);
  }
  for (int i = 0; i < 6; ++i) {
    t['a' + i] = static_cast<std::int8_t>(10 + i);
    t['A' + i] = static_cast<std::int8_t>(10 + i);
  }
  return t;
}();
} // namespace detail

// The value of one hexadecimal digit (either case), or -1. Inline: UUID
// parsing calls it 32 times per audit entry.
inline int hex_digit_value(char c)
{
  return detail::k_hex_values[static_cast<unsigned char>(c)];
}

// Lowercase hexadecimal.
std::string hex(std::span<const std::uint8_t> bytes);

// Parses "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (either case) to its 16
// bytes in RFC 4122 order: 36 characters, hyphens at 8, 13, 18 and 23 and
// hex digits everywhere else. So format_uuid of the result is the text in
// lower case: two texts name one id only when they differ in case alone.
std::optional<Uuid> parse_uuid(std::string_view text);

// The lowercase "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" spelling of a UUID.
std::string format_uuid(std::span<const std::uint8_t, 16> bytes);

} // namespace vtc::util
