#include "audit/json_scan.hpp"

#include <doctest/doctest.h>
#include <string>
#include <vector>

using vtc::audit::JsonScanner;

namespace {

// Reads `text` as one JSON string; nullopt when the scanner refuses it.
std::optional<std::string> read_string(const std::string& text)
{
  JsonScanner s(text);
  std::string_view value;
  std::string scratch;
  if (!s.string(value, scratch) || !s.at_end()) {
    return std::nullopt;
  }
  return std::string(value);
}

} // namespace

TEST_CASE("audit: JsonScanner::string judges each byte alike wherever it lies")
{
  // Strings are scanned eight bytes at a time; put each kind of byte at
  // every offset of such a word, in strings of several lengths.
  struct Case
  {
    const char* what;
    std::string bytes;                  // as written inside the quotes
    std::optional<std::string> decoded; // nullopt = refused
  };
  const std::vector<Case> cases{
    {"space", " ", " "},
    {"DEL", "\x7f", "\x7f"},
    {"tilde", "~", "~"},
    {"unit separator", "\x1f", std::nullopt},
    {"NUL", std::string(1, '\0'), std::nullopt},
    {"tab", "\t", std::nullopt},
    {"CR", "\r", std::nullopt},
    {"escaped quote", "\\\"", "\""},
    {"escaped backslash", "\\\\", "\\"},
    {"escaped LF", "\\n", "\n"},
    {"unicode escape", "\\u00e9", "\xC3\xA9"},
    {"bad escape", "\\x", std::nullopt},
    {"two-byte UTF-8", "\xC3\xA9", "\xC3\xA9"},
    {"four-byte UTF-8", "\xF0\x9F\x8C\xB1", "\xF0\x9F\x8C\xB1"},
    {"lone continuation byte", "\x80", std::nullopt},
    {"overlong", "\xC0\xAF", std::nullopt},
    {"0xFF", "\xFF", std::nullopt},
    {"truncated sequence", "\xE2\x82", std::nullopt},
  };
  for (const auto& c : cases) {
    for (std::size_t length : {0U, 7U, 8U, 9U, 16U, 23U}) {
      for (std::size_t at = 0; at <= length; ++at) {
        CAPTURE(c.what);
        CAPTURE(length);
        CAPTURE(at);
        const std::string before(at, 'a');
        const std::string after(length - at, 'b');
        const auto got = read_string('"' + before + c.bytes + after + '"');
        if (c.decoded) {
          CHECK(got == before + *c.decoded + after);
        } else {
          CHECK_FALSE(got.has_value());
        }
      }
    }
  }
}

TEST_CASE("audit: JsonScanner::string stops at the first unescaped quote")
{
  for (std::size_t at = 0; at < 20; ++at) {
    CAPTURE(at);
    const std::string text =
      '"' + std::string(at, 'a') + "\"x" + std::string(20, 'b') + '"';
    JsonScanner s(text);
    std::string_view value;
    std::string scratch;
    REQUIRE(s.string(value, scratch));
    CHECK(value == std::string(at, 'a'));
    CHECK(s.pos() == at + 2);
  }
  // Unterminated, at any length.
  for (std::size_t n = 0; n < 20; ++n) {
    CAPTURE(n);
    CHECK_FALSE(read_string('"' + std::string(n, 'a')).has_value());
  }
}
