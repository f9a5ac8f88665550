#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vtc::audit {

// A strict, allocation-light JSON scanner over one line (RFC 8259). The
// envelope has a fixed shape, so the parser walks it member by member instead
// of building a document. Every method returns false on malformed input and
// leaves the position unspecified.
class JsonScanner
{
public:
  explicit JsonScanner(std::string_view text) : m_text(text) {}

  std::size_t pos() const { return m_pos; }
  bool at_end() const { return m_pos == m_text.size(); }

  // Skips insignificant whitespace (space and tab only: a CR is an error).
  // Inline, like expect() and accept(): the parser calls them between every
  // two tokens.
  void skip_ws()
  {
    while (m_pos < m_text.size() &&
           (m_text[m_pos] == ' ' || m_text[m_pos] == '\t')) {
      ++m_pos;
    }
  }
  // Consumes `c` after optional whitespace.
  bool expect(char c) { return accept(c); }
  // True (and consumes it) when the next token is `c`.
  bool accept(char c)
  {
    skip_ws();
    if (m_pos < m_text.size() && m_text[m_pos] == c) {
      ++m_pos;
      return true;
    }
    return false;
  }
  // Reads a string, decoding escapes, rejecting control characters, invalid
  // UTF-8 and lone surrogates. `out` is a view into the text when the string
  // has no escapes, else into `scratch`, which holds the decoded value; it
  // is valid while both are.
  bool string(std::string_view& out, std::string& scratch);
  // The same, copied into `out` (whose capacity is reused).
  bool string(std::string& out);
  // Reads the member name and the colon: `"name":`.
  bool key(std::string_view name);
  // Reads a non-negative integer without sign, fraction or exponent that
  // fits in 32 bits.
  bool uint32(std::uint32_t& out);
  // True (and consumes it) when the next token is `null`.
  bool accept_null();
  // True (and consumes it) when the next token is `true` or `false`,
  // which it stores in `out`.
  bool accept_bool(bool& out);
  // Reads `null` (true, out = nullopt) or a string, reusing the capacity of
  // a string already in `out`.
  bool nullable_string(std::optional<std::string>& out);
  // Skips any JSON value, nesting at most `depth` levels.
  bool skip_value(int depth = 64);

private:
  bool decode_escaped(std::string& out);
  bool number();
  bool literal(std::string_view word);

  std::string_view m_text;
  std::size_t m_pos = 0;
};

} // namespace vtc::audit
