#include "util/utf8.hpp"

#include <doctest/doctest.h>
#include <string>
#include <vector>

using namespace vtc::util;

TEST_CASE("utf8: decode_utf8 takes each well-formed sequence at the given "
          "offset")
{
  struct Case
  {
    std::string text;
    std::size_t at;
    std::size_t length;
    char32_t c;
  };
  const std::vector<Case> cases{
    {"A", 0, 1, U'A'},
    {std::string(1, '\0'), 0, 1, 0},
    {"\x7F", 0, 1, 0x7F},
    {"\xC2\x80", 0, 2, 0x80},
    {"\xC3\xA9", 0, 2, 0xE9},
    {"\xDF\xBF", 0, 2, 0x7FF},
    {"\xE0\xA0\x80", 0, 3, 0x800},
    {"\xED\x9F\xBF", 0, 3, 0xD7FF},
    {"\xEE\x80\x80", 0, 3, 0xE000},
    {"\xEF\xBB\xBF", 0, 3, 0xFEFF},
    {"\xEF\xBF\xBF", 0, 3, 0xFFFF},
    {"\xF0\x90\x80\x80", 0, 4, 0x10000},
    {"\xF0\x9F\x98\x80", 0, 4, 0x1F600},
    {"\xF4\x8F\xBF\xBF", 0, 4, 0x10FFFF},
    {"x\xC3\xA9y", 1, 2, 0xE9},
    {"x\xC3\xA9y", 3, 1, U'y'},
  };
  for (const auto& k : cases) {
    CAPTURE(k.text);
    char32_t c = 0;
    CHECK(decode_utf8(k.text, k.at, c) == k.length);
    CHECK(c == k.c);
  }
}

TEST_CASE("utf8: decode_utf8 refuses overlongs, surrogates, values past "
          "U+10FFFF, stray and cut-off bytes")
{
  const std::vector<std::string> cases{
    "\x80",                 // continuation byte without a lead
    "\xBF",                 //
    "\xC0\x80",             // overlong U+0000
    "\xC1\xBF",             // overlong U+007F
    "\xE0\x80\x80",         // overlong U+0000 in three bytes
    "\xE0\x9F\xBF",         // overlong U+07FF
    "\xF0\x80\x80\x80",     // overlong U+0000 in four bytes
    "\xF0\x8F\xBF\xBF",     // overlong U+FFFF
    "\xED\xA0\x80",         // U+D800, a high surrogate
    "\xED\xBF\xBF",         // U+DFFF, a low surrogate
    "\xF4\x90\x80\x80",     // U+110000
    "\xF5\x80\x80\x80",     // lead byte only for values past U+10FFFF
    "\xF8\x88\x80\x80\x80", // five-byte form
    "\xFF",                 //
    "\xC3",                 // cut off by the end of the text
    "\xE2\x82",             //
    "\xF0\x9F\x98",         //
    "\xC3(",                // continuation byte missing
    "\xE2(\xAC",            //
    "\xF0\x9F(\x80",        //
  };
  for (const auto& text : cases) {
    CAPTURE(text);
    char32_t c = 0;
    CHECK(decode_utf8(text, 0, c) == 0);
  }
}

TEST_CASE("utf8: append_utf8 writes the shortest form, which decodes back")
{
  const std::vector<std::pair<char32_t, std::string>> cases{
    {U'A', "A"},
    {0x7F, "\x7F"},
    {0x80, "\xC2\x80"},
    {0xE9, "\xC3\xA9"},
    {0x7FF, "\xDF\xBF"},
    {0x800, "\xE0\xA0\x80"},
    {0xFFFF, "\xEF\xBF\xBF"},
    {0x10000, "\xF0\x90\x80\x80"},
    {0x10FFFF, "\xF4\x8F\xBF\xBF"},
  };
  for (const auto& [c, bytes] : cases) {
    CAPTURE(bytes);
    std::string out = "<";
    append_utf8(out, c);
    CHECK(out == "<" + bytes);
    char32_t back = 0;
    CHECK(decode_utf8(out, 1, back) == bytes.size());
    CHECK(back == c);
  }
}
