#pragma once

#include <optional>
#include <string_view>

namespace vtc::http {

// The value of header `name` (lower case, without the colon) in one raw
// header line as libcurl hands it over (CRLF included), with surrounding
// blanks and the line end trimmed; nullopt when the line is another header
// or a status line. The returned view points into `line`.
std::optional<std::string_view> header_value(std::string_view line,
                                             std::string_view name);

// True for a status line ("HTTP/…"): a new answer begins (after a 1xx), and
// headers seen before it no longer apply.
bool is_status_line(std::string_view line);

} // namespace vtc::http
