#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace vtc::util {

using Ed25519PublicKey = std::array<std::uint8_t, 32>;
using Ed25519Signature = std::array<std::uint8_t, 64>;

// An Ed25519 private key held by OpenSSL (libcrypto, loaded on first use).
// Neither copyable nor printable: the key material stays inside OpenSSL.
class Ed25519Key
{
public:
  // Parses a private key in PEM (PKCS#8 "PRIVATE KEY", as `openssl genpkey
  // -algorithm ed25519` writes it). Throws std::invalid_argument when the
  // text is not such a key or the key is not Ed25519.
  static Ed25519Key from_pem(std::string_view pem);
  // A new random key.
  static Ed25519Key generate();

  ~Ed25519Key();
  Ed25519Key(Ed25519Key&&) noexcept;
  Ed25519Key& operator=(Ed25519Key&&) noexcept;
  Ed25519Key(const Ed25519Key&) = delete;
  Ed25519Key& operator=(const Ed25519Key&) = delete;

  Ed25519PublicKey public_key() const;
  // The signature of `message` (pure Ed25519, no pre-hash).
  Ed25519Signature sign(std::string_view message) const;
  // The key as PKCS#8 PEM. The caller wipes the text when done.
  std::string to_pem() const;

private:
  struct Impl;
  explicit Ed25519Key(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m_impl;
};

// base58btc (the Bitcoin alphabet) of `bytes`; leading zero bytes become
// leading '1's.
std::string base58btc_encode(std::string_view bytes);

// The did:key of an Ed25519 public key: "did:key:z" + base58btc(0xed 0x01
// ‖ key).
std::string did_key(const Ed25519PublicKey& key);

} // namespace vtc::util
