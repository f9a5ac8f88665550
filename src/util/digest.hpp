#pragma once

#include "util/encoding.hpp"

#include <memory>
#include <span>
#include <string_view>

namespace vtc::util {

// Incremental SHA-256. The algorithm is fetched from OpenSSL once per
// process, on first use; one object can be reused for many digests (reset()
// is implied by finish()).
class Sha256
{
public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(std::span<const std::uint8_t> bytes);
  void update(std::string_view text);
  // Returns the digest and readies the object for the next message.
  Digest finish();

private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

// SHA-256 of `text` in one call.
Digest sha256(std::string_view text);

// HMAC-SHA256 with a fixed key, reusable for many messages. OpenSSL is
// set up on the first mac(), not before.
class HmacSha256
{
public:
  // `key` of at most 64 bytes (one SHA-256 block); longer throws
  // std::invalid_argument.
  explicit HmacSha256(std::span<const std::uint8_t> key);
  ~HmacSha256();
  HmacSha256(const HmacSha256&) = delete;
  HmacSha256& operator=(const HmacSha256&) = delete;
  HmacSha256(HmacSha256&&) noexcept;

  Digest mac(std::string_view message) const;

private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

// Constant-time equality of two digests.
bool digests_equal(const Digest& a, const Digest& b);

} // namespace vtc::util
