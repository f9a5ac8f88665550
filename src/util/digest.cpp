#include "util/digest.hpp"

#include "util/crypto_lib.hpp"
#include "util/secret_file.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>

namespace vtc::util {

using detail::crypto;

namespace {

// Explicit fetches once per process: implicit fetches inside EVP_DigestInit
// cost a lookup in the provider store on every call.
EVP_MD* fetched_sha256()
{
  static EVP_MD* md = crypto().md_fetch(nullptr, "SHA256", nullptr);
  if (md == nullptr) {
    throw std::runtime_error("openssl: SHA256 unavailable");
  }
  return md;
}

} // namespace

struct Sha256::Impl
{
  // Made on first use: setting up OpenSSL costs more than a pass that
  // hashes nothing.
  EVP_MD_CTX* ctx = nullptr;
  ~Impl()
  {
    if (ctx != nullptr) {
      crypto().md_ctx_free(ctx);
    }
  }
  EVP_MD_CTX* context()
  {
    if (ctx == nullptr) {
      ctx = crypto().md_ctx_new();
      if (ctx == nullptr ||
          crypto().digest_init_ex2(ctx, fetched_sha256(), nullptr) != 1) {
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
  crypto().digest_update(m_impl->context(), bytes.data(), bytes.size());
}

void Sha256::update(std::string_view text)
{
  crypto().digest_update(m_impl->context(), text.data(), text.size());
}

Digest Sha256::finish()
{
  EVP_MD_CTX* ctx = m_impl->context();
  Digest out{};
  unsigned int len = 0;
  crypto().digest_final_ex(ctx, out.data(), &len);
  crypto().digest_init_ex2(ctx, nullptr, nullptr);
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
  // The key is kept until the first mac(): setting up OpenSSL costs more
  // than a pass that verifies nothing.
  std::array<std::uint8_t, 64> key{};
  // HMAC (RFC 2104) with the key pads hashed once: `inner` and `outer` hold
  // the SHA-256 state after (key ^ ipad) and (key ^ opad), and each mac()
  // continues copies of them in `work`. That saves two of the five SHA-256
  // blocks of a short message, and the set-up of a MAC context per call.
  EVP_MD_CTX* inner = nullptr;
  EVP_MD_CTX* outer = nullptr;
  EVP_MD_CTX* work = nullptr;
  ~Impl()
  {
    wipe(key.data(), key.size());
    for (EVP_MD_CTX* c : {work, outer, inner}) {
      if (c != nullptr) {
        crypto().md_ctx_free(c);
      }
    }
  }
  void prepare()
  {
    if (work != nullptr) {
      return;
    }
    const auto& c = crypto();
    inner = c.md_ctx_new();
    outer = c.md_ctx_new();
    work = c.md_ctx_new();
    if (inner == nullptr || outer == nullptr || work == nullptr) {
      throw std::runtime_error("openssl: cannot initialise HMAC-SHA256");
    }
    std::array<std::uint8_t, 64> ipad{};
    std::array<std::uint8_t, 64> opad{};
    for (std::size_t i = 0; i < key.size(); ++i) {
      ipad[i] = key[i] ^ 0x36U;
      opad[i] = key[i] ^ 0x5cU;
    }
    const bool ok = c.digest_init_ex2(inner, fetched_sha256(), nullptr) == 1 &&
                    c.digest_update(inner, ipad.data(), ipad.size()) == 1 &&
                    c.digest_init_ex2(outer, fetched_sha256(), nullptr) == 1 &&
                    c.digest_update(outer, opad.data(), opad.size()) == 1;
    wipe(ipad.data(), ipad.size());
    wipe(opad.data(), opad.size());
    wipe(key.data(), key.size());
    if (!ok) {
      throw std::runtime_error("openssl: cannot initialise HMAC-SHA256");
    }
  }
};

HmacSha256::HmacSha256(std::span<const std::uint8_t> key)
  : m_impl(std::make_unique<Impl>())
{
  if (key.size() > m_impl->key.size()) {
    throw std::invalid_argument("HMAC-SHA256 key longer than 64 bytes");
  }
  std::copy(key.begin(), key.end(), m_impl->key.begin());
}

HmacSha256::~HmacSha256() = default;
HmacSha256::HmacSha256(HmacSha256&&) noexcept = default;

Digest HmacSha256::mac(std::string_view message) const
{
  Impl& m = *m_impl;
  m.prepare();
  Digest inner{};
  Digest out{};
  unsigned int len = 0;
  const auto& c = crypto();
  if (c.md_ctx_copy_ex(m.work, m.inner) != 1 ||
      c.digest_update(m.work, message.data(), message.size()) != 1 ||
      c.digest_final_ex(m.work, inner.data(), &len) != 1 ||
      c.md_ctx_copy_ex(m.work, m.outer) != 1 ||
      c.digest_update(m.work, inner.data(), inner.size()) != 1 ||
      c.digest_final_ex(m.work, out.data(), &len) != 1) {
    throw std::runtime_error("openssl: HMAC-SHA256 failed");
  }
  return out;
}

bool digests_equal(const Digest& a, const Digest& b)
{
  return crypto().memcmp(a.data(), b.data(), a.size()) == 0;
}

} // namespace vtc::util
