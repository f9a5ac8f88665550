#include "util/encoding.hpp"

#include <cstdint>
#include <doctest/doctest.h>
#include <string>
#include <vector>

using namespace vtc::util;

namespace {

std::span<const std::uint8_t> bytes_of(const std::string& s)
{
  return { reinterpret_cast<const std::uint8_t*>(s.data()), s.size() };
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
    { "", "" },
    { "f", "Zg" },
    { "fo", "Zm8" },
    { "foo", "Zm9v" },
    { "foob", "Zm9vYg" },
    { "fooba", "Zm9vYmE" },
    { "foobar", "Zm9vYmFy" },
    { "\xfb\xff", "-_8" }, // the URL alphabet, not + and /
    { "\xff\xff\xff", "____" },
    { std::string("\0\0\0", 3), "AAAA" },
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
  CHECK(hex(std::vector<std::uint8_t>{ 0x00, 0x0f, 0xa0, 0xff, 0x5c }) ==
        "000fa0ff5c");
}

TEST_CASE("util: a UUID parses to its RFC 4122 bytes and formats back in lowercase")
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
