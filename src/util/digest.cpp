#include "util/digest.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <algorithm>
#include <array>
#include <stdexcept>

namespace vtc::util {

namespace {

// Explicit fetches once per process: implicit fetches inside EVP_DigestInit
// cost a lookup in the provider store on every call.
EVP_MD* fetched_sha256()
{
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  if (md == nullptr) {
    throw std::runtime_error("openssl: SHA256 unavailable");
  }
  return md;
}

EVP_MAC* fetched_hmac()
{
  static EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (mac == nullptr) {
    throw std::runtime_error("openssl: HMAC unavailable");
  }
  return mac;
}

} // namespace

struct Sha256::Impl
{
  // Made on first use: setting up OpenSSL costs more than a pass that
  // hashes nothing.
  EVP_MD_CTX* ctx = nullptr;
  ~Impl() { EVP_MD_CTX_free(ctx); }
  EVP_MD_CTX* context()
  {
    if (ctx == nullptr) {
      ctx = EVP_MD_CTX_new();
      if (ctx == nullptr ||
          EVP_DigestInit_ex2(ctx, fetched_sha256(), nullptr) != 1) {
        throw std::runtime_error("openssl: cannot initialise SHA256");
      }
    }
    return ctx;
  }
};

Sha256::Sha256() : m_impl(std::make_unique<Impl>()) {}

Sha256::~Sha256() = default;

void Sha256::update(std::span<const std::uint8_t> bytes)
{
  EVP_DigestUpdate(m_impl->context(), bytes.data(), bytes.size());
}

void Sha256::update(std::string_view text)
{
  EVP_DigestUpdate(m_impl->context(), text.data(), text.size());
}

Digest Sha256::finish()
{
  EVP_MD_CTX* ctx = m_impl->context();
  Digest out{};
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, out.data(), &len);
  EVP_DigestInit_ex2(ctx, nullptr, nullptr);
  return out;
}

Digest sha256(std::string_view text)
{
  thread_local Sha256 hasher;
  hasher.update(text);
  return hasher.finish();
}

struct HmacSha256::Impl
{
  // The key is kept until the first mac(): setting up OpenSSL's HMAC (and
  // OpenSSL itself) costs more than a pass that verifies nothing.
  std::array<std::uint8_t, 64> key{};
  std::size_t key_size = 0;
  // A keyed template context; each mac() duplicates it, which skips
  // re-deriving the key pads.
  EVP_MAC_CTX* keyed = nullptr;
  EVP_MAC_CTX* work = nullptr;
  ~Impl()
  {
    OPENSSL_cleanse(key.data(), key.size());
    EVP_MAC_CTX_free(work);
    EVP_MAC_CTX_free(keyed);
  }
  EVP_MAC_CTX* keyed_context()
  {
    if (keyed != nullptr) {
      return keyed;
    }
    keyed = EVP_MAC_CTX_new(fetched_hmac());
    char digest_name[] = "SHA256";
    const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string("digest", digest_name, 0),
      OSSL_PARAM_construct_end(),
    };
    if (keyed == nullptr ||
        EVP_MAC_init(keyed, key.data(), key_size, params) != 1) {
      throw std::runtime_error("openssl: cannot initialise HMAC-SHA256");
    }
    OPENSSL_cleanse(key.data(), key.size());
    return keyed;
  }
};

HmacSha256::HmacSha256(std::span<const std::uint8_t> key)
  : m_impl(std::make_unique<Impl>())
{
  if (key.size() > m_impl->key.size()) {
    throw std::invalid_argument("HMAC-SHA256 key longer than 64 bytes");
  }
  std::copy(key.begin(), key.end(), m_impl->key.begin());
  m_impl->key_size = key.size();
}

HmacSha256::~HmacSha256() = default;
HmacSha256::HmacSha256(HmacSha256&&) noexcept = default;

Digest HmacSha256::mac(std::string_view message) const
{
  EVP_MAC_CTX* keyed = m_impl->keyed_context();
  EVP_MAC_CTX_free(m_impl->work);
  m_impl->work = EVP_MAC_CTX_dup(keyed);
  Digest out{};
  std::size_t len = 0;
  if (m_impl->work == nullptr ||
      EVP_MAC_update(m_impl->work,
                     reinterpret_cast<const unsigned char*>(message.data()),
                     message.size()) != 1 ||
      EVP_MAC_final(m_impl->work, out.data(), &len, out.size()) != 1) {
    throw std::runtime_error("openssl: HMAC-SHA256 failed");
  }
  return out;
}

bool digests_equal(const Digest& a, const Digest& b)
{
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

} // namespace vtc::util
