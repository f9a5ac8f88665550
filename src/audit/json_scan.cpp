#include "audit/json_scan.hpp"
#include "util/encoding.hpp"
#include "util/utf8.hpp"

#include <array>
#include <cstring>

namespace vtc::audit {

namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0.
std::size_t utf8_length(std::string_view s, std::size_t i)
{
  char32_t ignored = 0;
  return util::decode_utf8(s, i, ignored);
}

// Printable ASCII other than the quote and the backslash: the bytes a JSON
// string holds as they are.
constexpr std::array<bool, 256> k_plain = [] {
  std::array<bool, 256> t{};
  for (int c = 0x20; c < 0x80; ++c) {
    t[c] = c != '"' && c != '\\';
  }
  return t;
}();

// True when all 8 bytes at `p` are plain (see k_plain), tested at once
// with the SWAR tricks of "Bit Twiddling Hacks": a byte is flagged in the
// high bit of its lane when it is below 0x20, equals '"' or '\\', or has
// its own high bit set.
bool plain_word(const char* p)
{
  constexpr std::uint64_t k_ones = 0x0101010101010101ULL;
  constexpr std::uint64_t k_highs = 0x8080808080808080ULL;
  std::uint64_t w = 0;
  std::memcpy(&w, p, sizeof w);
  const auto below = [&](std::uint64_t v, std::uint8_t n) {
    return (v - k_ones * n) & ~v & k_highs;
  };
  const std::uint64_t special = below(w, 0x20) | below(w ^ (k_ones * '"'), 1) |
                                below(w ^ (k_ones * '\\'), 1) | (w & k_highs);
  return special == 0;
}

// Reads the 4 hex digits of a \u escape at `pos` into `v`.
bool read_hex4(std::string_view text, std::size_t& pos, std::uint32_t& v)
{
  if (pos + 4 > text.size()) {
    return false;
  }
  v = 0;
  for (int k = 0; k < 4; ++k) {
    const int h = util::hex_digit_value(text[pos++]);
    if (h < 0) {
      return false;
    }
    v = (v << 4U) | static_cast<std::uint32_t>(h);
  }
  return true;
}

// Decodes a \u escape whose "\u" is read, with the low half of a
// surrogate pair when it starts one; a lone half is an error.
bool decode_unicode_escape(std::string_view text, std::size_t& pos,
                           std::string& out)
{
  std::uint32_t cp = 0;
  if (!read_hex4(text, pos, cp)) {
    return false;
  }
  if (cp >= 0xD800 && cp <= 0xDBFF) {
    std::uint32_t low = 0;
    if (pos + 2 > text.size() || text[pos] != '\\' || text[pos + 1] != 'u') {
      return false;
    }
    pos += 2;
    if (!read_hex4(text, pos, low) || low < 0xDC00 || low > 0xDFFF) {
      return false;
    }
    cp = 0x10000 + ((cp - 0xD800) << 10U) + (low - 0xDC00);
  } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
    return false;
  }
  util::append_utf8(out, static_cast<char32_t>(cp));
  return true;
}

// The byte a one-letter escape stands for; 0 when `c` names none.
char simple_escape(char c)
{
  switch (c) {
  case '"':
    return '"';
  case '\\':
    return '\\';
  case '/':
    return '/';
  case 'b':
    return '\b';
  case 'f':
    return '\f';
  case 'n':
    return '\n';
  case 'r':
    return '\r';
  case 't':
    return '\t';
  default:
    return 0;
  }
}

} // namespace

bool JsonScanner::string(std::string_view& out, std::string& scratch)
{
  if (!expect('"')) {
    return false;
  }
  // Most strings have no escapes: they are validated in place and returned
  // as a view, and only an escape makes a decoded copy.
  const std::size_t start = m_pos;
  while (m_pos < m_text.size()) {
    if (m_pos + 8 <= m_text.size() && plain_word(m_text.data() + m_pos)) {
      m_pos += 8;
      continue;
    }
    const auto c = static_cast<unsigned char>(m_text[m_pos]);
    if (k_plain[c]) {
      ++m_pos;
    } else if (c >= 0x80) {
      const std::size_t n = utf8_length(m_text, m_pos);
      if (n == 0) {
        return false;
      }
      m_pos += n;
    } else {
      break;
    }
  }
  if (m_pos < m_text.size() && m_text[m_pos] == '"') {
    out = m_text.substr(start, m_pos - start);
    ++m_pos;
    return true;
  }
  scratch.assign(m_text.substr(start, m_pos - start));
  if (!decode_escaped(scratch)) {
    return false;
  }
  out = scratch;
  return true;
}

bool JsonScanner::string(std::string& out)
{
  std::string_view value;
  if (!string(value, out)) {
    return false;
  }
  if (value.data() != out.data()) {
    out.assign(value);
  }
  return true;
}

// Continues a string after its opening quote and any plain bytes already in
// `out`, decoding escapes, up to and including the closing quote.
bool JsonScanner::decode_escaped(std::string& out)
{
  while (m_pos < m_text.size()) {
    const char c = m_text[m_pos];
    if (c == '"') {
      ++m_pos;
      return true;
    }
    if (static_cast<unsigned char>(c) < 0x20) {
      return false;
    }
    if (c != '\\') {
      const std::size_t n = utf8_length(m_text, m_pos);
      if (n == 0) {
        return false;
      }
      out.append(m_text.substr(m_pos, n));
      m_pos += n;
      continue;
    }
    if (++m_pos >= m_text.size()) {
      return false;
    }
    const char letter = m_text[m_pos++];
    if (letter == 'u') {
      if (!decode_unicode_escape(m_text, m_pos, out)) {
        return false;
      }
    } else if (const char byte = simple_escape(letter); byte != 0) {
      out += byte;
    } else {
      return false;
    }
  }
  return false;
}

bool JsonScanner::key(std::string_view name)
{
  skip_ws();
  // Fast path: member names here never need escapes.
  if (m_pos + name.size() + 2 <= m_text.size() && m_text[m_pos] == '"' &&
      m_text.compare(m_pos + 1, name.size(), name) == 0 &&
      m_text[m_pos + 1 + name.size()] == '"') {
    m_pos += name.size() + 2;
    return expect(':');
  }
  return false;
}

bool JsonScanner::uint32(std::uint32_t& out)
{
  skip_ws();
  const std::size_t start = m_pos;
  std::uint64_t v = 0;
  while (m_pos < m_text.size() && m_text[m_pos] >= '0' &&
         m_text[m_pos] <= '9') {
    v = v * 10 + static_cast<std::uint64_t>(m_text[m_pos] - '0');
    if (v > 0xFFFFFFFFULL) {
      return false;
    }
    ++m_pos;
  }
  const std::size_t n = m_pos - start;
  if (n == 0 || (n > 1 && m_text[start] == '0')) {
    return false;
  }
  if (m_pos < m_text.size() &&
      (m_text[m_pos] == '.' || m_text[m_pos] == 'e' || m_text[m_pos] == 'E')) {
    return false;
  }
  out = static_cast<std::uint32_t>(v);
  return true;
}

bool JsonScanner::accept_null()
{
  skip_ws();
  return literal("null");
}

bool JsonScanner::accept_bool(bool& out)
{
  skip_ws();
  if (literal("true")) {
    out = true;
    return true;
  }
  if (literal("false")) {
    out = false;
    return true;
  }
  return false;
}

bool JsonScanner::nullable_string(std::optional<std::string>& out)
{
  skip_ws();
  if (m_pos < m_text.size() && m_text[m_pos] == 'n') {
    out.reset();
    return literal("null");
  }
  if (!out) {
    out.emplace();
  }
  return string(*out);
}

bool JsonScanner::literal(std::string_view word)
{
  if (m_text.compare(m_pos, word.size(), word) != 0) {
    return false;
  }
  m_pos += word.size();
  return true;
}

bool JsonScanner::number()
{
  auto digit = [&] {
    return m_pos < m_text.size() && m_text[m_pos] >= '0' &&
           m_text[m_pos] <= '9';
  };
  if (m_pos < m_text.size() && m_text[m_pos] == '-') {
    ++m_pos;
  }
  if (!digit()) {
    return false;
  }
  if (m_text[m_pos] == '0') {
    ++m_pos;
  } else {
    while (digit()) {
      ++m_pos;
    }
  }
  if (m_pos < m_text.size() && m_text[m_pos] == '.') {
    ++m_pos;
    if (!digit()) {
      return false;
    }
    while (digit()) {
      ++m_pos;
    }
  }
  if (m_pos < m_text.size() && (m_text[m_pos] == 'e' || m_text[m_pos] == 'E')) {
    ++m_pos;
    if (m_pos < m_text.size() &&
        (m_text[m_pos] == '+' || m_text[m_pos] == '-')) {
      ++m_pos;
    }
    if (!digit()) {
      return false;
    }
    while (digit()) {
      ++m_pos;
    }
  }
  return true;
}

bool JsonScanner::skip_value(int depth)
{
  if (depth <= 0) {
    return false;
  }
  skip_ws();
  if (m_pos >= m_text.size()) {
    return false;
  }
  std::string_view text;
  std::string scratch;
  switch (m_text[m_pos]) {
  case '"':
    return string(text, scratch);
  case '{':
    ++m_pos;
    if (accept('}')) {
      return true;
    }
    do {
      if (!string(text, scratch) || !expect(':') || !skip_value(depth - 1)) {
        return false;
      }
    } while (accept(','));
    return expect('}');
  case '[':
    ++m_pos;
    if (accept(']')) {
      return true;
    }
    do {
      if (!skip_value(depth - 1)) {
        return false;
      }
    } while (accept(','));
    return expect(']');
  case 't':
    return literal("true");
  case 'f':
    return literal("false");
  case 'n':
    return literal("null");
  default:
    return number();
  }
}

} // namespace vtc::audit
