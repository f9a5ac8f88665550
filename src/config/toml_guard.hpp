// Keeps toml++ 3.3 away from the characters its whitespace test misjudges.
//
// toml++'s is_non_ascii_horizontal_whitespace() reaches
// __builtin_unreachable() for most code points in U+00A1–U+0499,
// U+2C5E–U+3057 and U+FB26–U+FEFE: undefined behaviour, for a character
// as ordinary as 'é'. The parser asks that question of characters in many
// places, valid and not. So toml++ never sees those code points: each one
// is moved to plane 15 (U+F0000 + c), which toml++ treats exactly as it
// should treat the original — neither whitespace nor a bare-key character,
// allowed in strings and comments — and moved back in what toml++ returns.
//
// These are toml++ issues #190 and #295, fixed upstream by pull request
// #305 (merged in July 2026, after the 3.4.0 release). This file can go
// once the toml++ vtc-sync builds with has that fix (Debian 12 ships 3.3);
// the config tests of characters toml++ misjudges then check the fix.

#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace vtc::config {

// True when toml++ 3.3's whitespace test has undefined behaviour for `c`.
bool toml_misjudges(char32_t c);

struct Sheltered
{
  std::string text;
  // The first code point of the input already in the range the shelter
  // uses, which cannot be told apart from a moved one; the text is then
  // unusable.
  std::optional<char32_t> clash;
  std::size_t clash_line = 0; // 1-based
};

// Returns `text` with every code point toml_misjudges() moved to plane 15.
// Invalid UTF-8 is left as it is, for toml++ to report.
Sheltered shelter(std::string_view text);

// Moves sheltered code points back: for strings toml++ returns.
std::string unshelter(std::string_view text);

} // namespace vtc::config
