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

// The value of one hexadecimal digit (either case), or -1.
int hex_digit_value(char c);

// Lowercase hexadecimal.
std::string hex(std::span<const std::uint8_t> bytes);

// Parses "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (either case) to its 16
// bytes in RFC 4122 order.
std::optional<Uuid> parse_uuid(std::string_view text);

// The lowercase "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" spelling of a UUID.
std::string format_uuid(std::span<const std::uint8_t, 16> bytes);

} // namespace vtc::util
