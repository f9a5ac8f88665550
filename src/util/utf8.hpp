#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace vtc::util {

// Decodes the UTF-8 sequence starting at text[at] (at < text.size()) into
// `c`. Strict RFC 3629: no overlong forms, no surrogates, nothing above
// U+10FFFF. Returns the sequence's length in bytes (1 to 4), or 0 when the
// bytes there are not valid UTF-8 or the sequence is cut off by the end of
// `text`; `c` is then unspecified.
std::size_t decode_utf8(std::string_view text, std::size_t at, char32_t& c);

// Appends the UTF-8 encoding of `c`, a Unicode scalar value (at most
// U+10FFFF, not a surrogate), to `out`.
void append_utf8(std::string& out, char32_t c);

} // namespace vtc::util
