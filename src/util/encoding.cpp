#include "util/encoding.hpp"

#include <cstring>

namespace vtc::util {

namespace {

constexpr char k_alphabet[] =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int sextet(char c)
{
  if (c >= 'A' && c <= 'Z') {
    return c - 'A';
  }
  if (c >= 'a' && c <= 'z') {
    return c - 'a' + 26;
  }
  if (c >= '0' && c <= '9') {
    return c - '0' + 52;
  }
  if (c == '-') {
    return 62;
  }
  if (c == '_') {
    return 63;
  }
  return -1;
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
  const auto bytes = base64url_decode(text);
  if (!bytes || bytes->size() != 32) {
    return std::nullopt;
  }
  Digest d{};
  std::memcpy(d.data(), bytes->data(), d.size());
  return d;
}

int hex_digit_value(char c)
{
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
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
  if (t.size() != 36 || t[8] != '-' || t[13] != '-' || t[18] != '-' ||
      t[23] != '-') {
    return std::nullopt;
  }
  Uuid out{};
  std::size_t k = 0;
  for (std::size_t i = 0; i < t.size();) {
    if (t[i] == '-') {
      ++i;
      continue;
    }
    const int hi = hex_digit_value(t[i]);
    const int lo = hex_digit_value(t[i + 1]);
    if (hi < 0 || lo < 0) {
      return std::nullopt;
    }
    out[k++] = static_cast<std::uint8_t>(hi * 16 + lo);
    i += 2;
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
