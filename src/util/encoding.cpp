#include "util/encoding.hpp"

#include <array>

namespace vtc::util {

namespace {

constexpr char k_alphabet[] =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// The value of each byte as a base64url digit, or -1: one table lookup per
// character instead of a chain of range tests.
constexpr std::array<std::int8_t, 256> k_sextet = [] {
  std::array<std::int8_t, 256> t{};
  t.fill(-1);
  for (int i = 0; i < 64; ++i) {
    t[static_cast<unsigned char>(k_alphabet[i])] = static_cast<std::int8_t>(i);
  }
  return t;
}();

int sextet(char c)
{
  return k_sextet[static_cast<unsigned char>(c)];
}

} // namespace

std::string base64url_encode(std::span<const std::uint8_t> bytes)
{
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v =
      (bytes[i] << 16U) | (bytes[i + 1] << 8U) | bytes[i + 2];
    out += k_alphabet[(v >> 18U) & 63U];
    out += k_alphabet[(v >> 12U) & 63U];
    out += k_alphabet[(v >> 6U) & 63U];
    out += k_alphabet[v & 63U];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest == 1) {
    const std::uint32_t v = bytes[i] << 16U;
    out += k_alphabet[(v >> 18U) & 63U];
    out += k_alphabet[(v >> 12U) & 63U];
  } else if (rest == 2) {
    const std::uint32_t v = (bytes[i] << 16U) | (bytes[i + 1] << 8U);
    out += k_alphabet[(v >> 18U) & 63U];
    out += k_alphabet[(v >> 12U) & 63U];
    out += k_alphabet[(v >> 6U) & 63U];
  }
  return out;
}

std::optional<std::string> base64url_decode(std::string_view text)
{
  if (text.size() % 4 == 1) {
    return std::nullopt;
  }
  std::string out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    const int v = sextet(c);
    if (v < 0) {
      return std::nullopt;
    }
    acc = (acc << 6U) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFFU);
    }
  }
  // Left-over bits must be zero, or two spellings would decode alike.
  if ((acc & ((1U << bits) - 1U)) != 0) {
    return std::nullopt;
  }
  return out;
}

std::optional<Digest> decode_digest(std::string_view text)
{
  if (text.size() != 43) {
    return std::nullopt;
  }
  // Ten groups of four characters give 30 bytes; the last three characters
  // carry 18 bits for the final 2 bytes, whose 2 unused bits must be zero.
  Digest d{};
  std::size_t o = 0;
  std::size_t i = 0;
  for (; i < 40; i += 4) {
    const int a = sextet(text[i]);
    const int b = sextet(text[i + 1]);
    const int c = sextet(text[i + 2]);
    const int e = sextet(text[i + 3]);
    if ((a | b | c | e) < 0) {
      return std::nullopt;
    }
    const auto v = static_cast<std::uint32_t>(a << 18 | b << 12 | c << 6 | e);
    d[o++] = static_cast<std::uint8_t>(v >> 16U);
    d[o++] = static_cast<std::uint8_t>(v >> 8U);
    d[o++] = static_cast<std::uint8_t>(v);
  }
  const int a = sextet(text[i]);
  const int b = sextet(text[i + 1]);
  const int c = sextet(text[i + 2]);
  if ((a | b | c) < 0 || (c & 3) != 0) {
    return std::nullopt;
  }
  const auto v = static_cast<std::uint32_t>(a << 12 | b << 6 | c);
  d[o++] = static_cast<std::uint8_t>(v >> 10U);
  d[o] = static_cast<std::uint8_t>(v >> 2U);
  return d;
}

std::string hex(std::span<const std::uint8_t> bytes)
{
  static constexpr char k_digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (auto b : bytes) {
    out += k_digits[b >> 4U];
    out += k_digits[b & 15U];
  }
  return out;
}

std::optional<Uuid> parse_uuid(std::string_view t)
{
  // Where each byte's two hex digits start. With the hyphens at 8, 13, 18
  // and 23 this gives every one of the 36 positions exactly one role, so a
  // hyphen anywhere else is a bad hex digit, and a text has one reading.
  static constexpr std::array<std::uint8_t, 16> k_digits_at{
    0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34};
  if (t.size() != 36 || t[8] != '-' || t[13] != '-' || t[18] != '-' ||
      t[23] != '-') {
    return std::nullopt;
  }
  Uuid out{};
  for (std::size_t k = 0; k < out.size(); ++k) {
    const int hi = hex_digit_value(t[k_digits_at[k]]);
    const int lo = hex_digit_value(t[k_digits_at[k] + 1U]);
    if (hi < 0 || lo < 0) {
      return std::nullopt;
    }
    out[k] = static_cast<std::uint8_t>(hi * 16 + lo);
  }
  return out;
}

std::string format_uuid(std::span<const std::uint8_t, 16> bytes)
{
  const std::string h = hex(bytes);
  return h.substr(0, 8) + '-' + h.substr(8, 4) + '-' + h.substr(12, 4) + '-' +
         h.substr(16, 4) + '-' + h.substr(20);
}

} // namespace vtc::util
