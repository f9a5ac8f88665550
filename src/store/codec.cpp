#include "store/codec.hpp"

#include "util/encoding.hpp"
#include "util/error.hpp"

#include <fmt/core.h>

#include <span>

namespace vtc::store::detail {

namespace {

// Job ids that are not event ids: a prefix and 32 lowercase hex digits,
// stored as a tag byte and the 16 bytes they spell.
struct Prefixed
{
  std::string_view prefix;
  char tag;
};
constexpr Prefixed k_prefixed[] = {{"reconcile:", '\x01'}, {"retire:", '\x02'}};

std::span<const std::uint8_t> bytes_of(const SQLite::Column& c)
{
  if (c.isNull()) {
    return {};
  }
  return {static_cast<const std::uint8_t*>(c.getBlob()),
          static_cast<std::size_t>(c.getBytes())};
}

std::string to_string(std::span<const std::uint8_t> b)
{
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

} // namespace

std::string job_id_bytes(std::string_view id)
{
  for (const auto& p : k_prefixed) {
    if (!id.starts_with(p.prefix)) {
      continue;
    }
    const std::string_view digits = id.substr(p.prefix.size());
    if (digits.size() != 32) {
      return {};
    }
    std::string out(1, p.tag);
    // Only the lowercase spelling vtc-sync writes reads back the same.
    const auto lower_hex = [](char c) {
      return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    };
    for (std::size_t i = 0; i < digits.size(); i += 2) {
      if (!lower_hex(digits[i]) || !lower_hex(digits[i + 1])) {
        return {};
      }
      out += static_cast<char>(util::hex_digit_value(digits[i]) * 16 +
                               util::hex_digit_value(digits[i + 1]));
    }
    return out;
  }
  return uuid_bytes(id);
}

std::string new_job_id_bytes(std::string_view id)
{
  std::string bytes = job_id_bytes(id);
  if (bytes.empty()) {
    throw StoreError(fmt::format(
      "job id '{}' is neither a UUID, reconcile:<hash> nor retire:<hash>", id));
  }
  return bytes;
}

std::string job_id_text(std::string_view bytes)
{
  const std::span b{reinterpret_cast<const std::uint8_t*>(bytes.data()),
                    bytes.size()};
  for (const auto& p : k_prefixed) {
    if (b.size() == 17 && static_cast<char>(b[0]) == p.tag) {
      return std::string(p.prefix) + util::hex(b.subspan(1));
    }
  }
  if (b.size() == 16) {
    return util::format_uuid(b.first<16>());
  }
  return {};
}

std::string job_id_text(const SQLite::Column& c)
{
  const auto b = bytes_of(c);
  return job_id_text(
    std::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
}

std::string uuid_bytes(std::string_view id)
{
  const auto u = util::parse_uuid(id);
  return u ? to_string(*u) : std::string();
}

std::string uuid_text(const SQLite::Column& c)
{
  const auto b = bytes_of(c);
  if (b.size() != 16) {
    return {};
  }
  return util::format_uuid(b.first<16>());
}

std::string hash_bytes(std::string_view hash)
{
  return util::base64url_decode(hash).value_or("");
}

std::string hash_text(const SQLite::Column& c)
{
  return util::base64url_encode(bytes_of(c));
}

} // namespace vtc::store::detail
