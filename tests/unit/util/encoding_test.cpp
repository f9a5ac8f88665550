#include "util/encoding.hpp"

#include <cstdint>
#include <doctest/doctest.h>
#include <string>
#include <vector>

using namespace vtc::util;

namespace {

std::span<const std::uint8_t> bytes_of(const std::string& s)
{
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

} // namespace

TEST_CASE("util: base64url_encode matches RFC 4648 vectors, unpadded")
{
  struct Case
  {
    std::string plain;
    std::string encoded;
  };
  const std::vector<Case> cases{
    {"", ""},
    {"f", "Zg"},
    {"fo", "Zm8"},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg"},
    {"fooba", "Zm9vYmE"},
    {"foobar", "Zm9vYmFy"},
    {"\xfb\xff", "-_8"}, // the URL alphabet, not + and /
    {"\xff\xff\xff", "____"},
    {std::string("\0\0\0", 3), "AAAA"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.encoded);
    CHECK(base64url_encode(bytes_of(c.plain)) == c.encoded);
    const auto back = base64url_decode(c.encoded);
    REQUIRE(back.has_value());
    CHECK(*back == c.plain);
  }
}

TEST_CASE("util: base64url round-trips every length and byte value")
{
  for (std::size_t n = 0; n <= 67; ++n) {
    std::string raw;
    for (std::size_t i = 0; i < n; ++i) {
      raw += static_cast<char>((i * 37 + n * 11 + 255) % 256);
    }
    CAPTURE(n);
    const std::string text = base64url_encode(bytes_of(raw));
    CHECK(text.size() == (n * 4 + 2) / 3);
    CHECK(text.find('=') == std::string::npos);
    const auto back = base64url_decode(text);
    REQUIRE(back.has_value());
    CHECK(*back == raw);
  }
  std::string all;
  for (int b = 0; b < 256; ++b) {
    all += static_cast<char>(b);
  }
  CHECK(base64url_decode(base64url_encode(bytes_of(all))) == all);
}

TEST_CASE("util: base64url_decode refuses non-canonical and foreign spellings")
{
  const std::vector<std::string> bad{
    "Zh",   // "Zg" with a non-zero unused bit
    "Zm9=", // padding
    "Zg==",    "Zm8=",   "Zm9vYmE=", "Zm9vYg=",
    "Zm+v", // standard alphabet
    "Zm/v",
    "Z", // a length no encoding has
    "Zm9vY",   "Zm9v\n", "Zm 9v",    "Zm9v.",
    "-_9",     // "-_8" with a non-zero unused bit
    "Zm9vYmF", // unused bits set ("Zm9vYmE" is canonical)
  };
  for (const auto& text : bad) {
    CAPTURE(text);
    CHECK_FALSE(base64url_decode(text).has_value());
  }
}

TEST_CASE("util: decode_digest takes exactly the 43-character form")
{
  // SHA-256("abc").
  const std::string text = "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0";
  const auto d = decode_digest(text);
  REQUIRE(d.has_value());
  CHECK(hex(*d) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(base64url_encode(*d) == text);

  CHECK_FALSE(decode_digest(text.substr(0, 42)).has_value());
  CHECK_FALSE(decode_digest(text + "A").has_value());
  CHECK_FALSE(decode_digest(text + "=").has_value());
  CHECK_FALSE(decode_digest("").has_value());
  // Same 32 bytes + unused bits set: not canonical.
  CHECK_FALSE(decode_digest(text.substr(0, 42) + "1").has_value());
  // 44 characters of a 33-byte value.
  const std::string b33 = base64url_encode(std::vector<std::uint8_t>(33, 7));
  REQUIRE(b33.size() == 44);
  CHECK_FALSE(decode_digest(b33).has_value());
  // 43 characters but a wrong alphabet.
  CHECK_FALSE(
    decode_digest("ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0").has_value());
}

TEST_CASE("util: hex is lowercase, two digits per byte")
{
  CHECK(hex(std::vector<std::uint8_t>{}).empty());
  CHECK(hex(std::vector<std::uint8_t>{0x00, 0x0f, 0xa0, 0xff, 0x5c}) ==
        "000fa0ff5c");
}

TEST_CASE(
  "util: a UUID parses to its RFC 4122 bytes and formats back in lowercase")
{
  const auto id = parse_uuid("6BA7B810-9dad-11d1-80b4-00c04fd430c8");
  REQUIRE(id);
  CHECK((*id)[0] == 0x6b);
  CHECK((*id)[15] == 0xc8);
  CHECK(format_uuid(*id) == "6ba7b810-9dad-11d1-80b4-00c04fd430c8");
  CHECK_FALSE(parse_uuid("6ba7b8109dad-11d1-80b4-00c04fd430c8-"));
  CHECK_FALSE(parse_uuid("6ba7b810-9dad-11d1-80b4-00c04fd430c"));
  CHECK_FALSE(parse_uuid("6ba7b810-9dad-11d1-80b4-00c04fd430cg"));
}

TEST_CASE("util: parse_uuid refuses a UUID padded with hyphens")
{
  // Read as the 14 digits it has, this would be ...0123 0000: a second
  // spelling of an id that has one.
  CHECK_FALSE(parse_uuid("abcdef12-0123-4567-89ab-cdef0123----"));
  CHECK_FALSE(parse_uuid("abcdef12-0123-4567-89ab-cdef--------"));
  CHECK_FALSE(parse_uuid("abcdef12-0123-4567-89ab-------------"));
  CHECK_FALSE(parse_uuid("--cdef12-0123-4567-89ab-cdef01234567"));
  CHECK_FALSE(parse_uuid("abcdef12-01---4567-89ab-cdef01234567"));
  CHECK_FALSE(parse_uuid("------------------------------------"));
  // Controls: the digits that were replaced, and the id they would have
  // been read as.
  CHECK(parse_uuid("abcdef12-0123-4567-89ab-cdef01234567"));
  CHECK(parse_uuid("abcdef12-0123-4567-89ab-cdef01230000"));
}

TEST_CASE("util: parse_uuid refuses a hyphen anywhere but 8, 13, 18 and 23")
{
  const std::string good = "abcdef12-0123-4567-89ab-cdef01234567";
  REQUIRE(parse_uuid(good));
  for (std::size_t at = 0; at < good.size(); ++at) {
    if (good[at] == '-') {
      continue;
    }
    CAPTURE(at);
    std::string one = good;
    one[at] = '-';
    CHECK_FALSE(parse_uuid(one));
    // Two hyphens in place of a whole byte's digits.
    if (at + 1 < good.size() && good[at + 1] != '-') {
      std::string two = one;
      two[at + 1] = '-';
      CHECK_FALSE(parse_uuid(two));
    }
  }
  // A group boundary moved: the hyphen count is right, the places are not.
  CHECK_FALSE(parse_uuid("abcdef1-20123-4567-89ab-cdef01234567"));
  CHECK_FALSE(parse_uuid("abcdef12-01234-567-89ab-cdef01234567"));
  CHECK_FALSE(parse_uuid("abcdef12-0123-4567-89abc-def01234567"));
}

TEST_CASE("util: parse_uuid refuses 35 and 37 characters")
{
  const std::string good = "abcdef12-0123-4567-89ab-cdef01234567";
  REQUIRE(parse_uuid(good));
  CHECK_FALSE(parse_uuid(good.substr(0, 35)));
  CHECK_FALSE(parse_uuid(good.substr(1)));
  CHECK_FALSE(parse_uuid(good + "8"));
  CHECK_FALSE(parse_uuid(good + "-"));
  CHECK_FALSE(parse_uuid("0" + good));
  CHECK_FALSE(parse_uuid("-" + good));
  CHECK_FALSE(parse_uuid(""));
}

TEST_CASE("util: an upper-case UUID parses and formats in lower case")
{
  const auto upper = parse_uuid("ABCDEF12-0123-4567-89AB-CDEF01234567");
  REQUIRE(upper);
  CHECK(format_uuid(*upper) == "abcdef12-0123-4567-89ab-cdef01234567");
  CHECK(upper == parse_uuid("abcdef12-0123-4567-89ab-cdef01234567"));
  CHECK(upper == parse_uuid("AbCdEf12-0123-4567-89aB-cDeF01234567"));
}

TEST_CASE(
  "util: parse_uuid takes each byte value only where the one spelling has it")
{
  // Every byte value at every position: accepted exactly when it is a
  // hyphen at 8, 13, 18 or 23 or a hex digit elsewhere, and then the id
  // formats back as the text in lower case.
  const std::string good = "0123abcd-4567-89ef-0a1b-2c3d4e5f6a7b";
  for (std::size_t at = 0; at < good.size(); ++at) {
    const bool hyphen = at == 8 || at == 13 || at == 18 || at == 23;
    for (int c = 0; c < 256; ++c) {
      std::string text = good;
      text[at] = static_cast<char>(c);
      const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
                       (c >= 'A' && c <= 'F');
      const auto id = parse_uuid(text);
      if (id.has_value() != (hyphen ? c == '-' : hex)) {
        FAIL_CHECK("position " << at << ", byte " << c << ": "
                               << (id ? "accepted" : "refused"));
        continue;
      }
      if (id) {
        std::string lower = text;
        for (char& ch : lower) {
          if (ch >= 'A' && ch <= 'F') {
            ch = static_cast<char>(ch - 'A' + 'a');
          }
        }
        CHECK(format_uuid(*id) == lower);
      }
    }
  }
}
