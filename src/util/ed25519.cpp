#include "util/ed25519.hpp"

#include "util/crypto_lib.hpp"

#include <stdexcept>
#include <vector>

namespace vtc::util {

using detail::crypto;

struct Ed25519Key::Impl
{
  EVP_PKEY* key = nullptr;
  ~Impl() { crypto().pkey_free(key); }
};

Ed25519Key::Ed25519Key(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
Ed25519Key::~Ed25519Key() = default;
Ed25519Key::Ed25519Key(Ed25519Key&&) noexcept = default;
Ed25519Key& Ed25519Key::operator=(Ed25519Key&&) noexcept = default;

Ed25519Key Ed25519Key::from_pem(std::string_view pem)
{
  const auto& c = crypto();
  BIO* bio = c.bio_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) {
    throw std::bad_alloc();
  }
  auto impl = std::make_unique<Impl>();
  impl->key = c.pem_read_private_key(bio, nullptr, nullptr, nullptr);
  c.bio_free(bio);
  if (impl->key == nullptr) {
    throw std::invalid_argument("not a PEM private key");
  }
  if (c.pkey_base_id(impl->key) != EVP_PKEY_ED25519) {
    throw std::invalid_argument("not an Ed25519 key");
  }
  return Ed25519Key(std::move(impl));
}

Ed25519Key Ed25519Key::generate()
{
  const auto& c = crypto();
  EVP_PKEY_CTX* ctx = c.pkey_ctx_new_id(EVP_PKEY_ED25519, nullptr);
  auto impl = std::make_unique<Impl>();
  const bool ok = ctx != nullptr && c.pkey_keygen_init(ctx) == 1 &&
                  c.pkey_keygen(ctx, &impl->key) == 1;
  c.pkey_ctx_free(ctx);
  if (!ok) {
    throw std::runtime_error("OpenSSL could not generate an Ed25519 key");
  }
  return Ed25519Key(std::move(impl));
}

Ed25519PublicKey Ed25519Key::public_key() const
{
  Ed25519PublicKey out{};
  std::size_t size = out.size();
  if (crypto().pkey_raw_public_key(m_impl->key, out.data(), &size) != 1 ||
      size != out.size()) {
    throw std::runtime_error("OpenSSL could not read the Ed25519 public key");
  }
  return out;
}

Ed25519Signature Ed25519Key::sign(std::string_view message) const
{
  const auto& c = crypto();
  EVP_MD_CTX* ctx = c.md_ctx_new();
  Ed25519Signature out{};
  std::size_t size = out.size();
  const bool ok =
    ctx != nullptr &&
    c.digest_sign_init(ctx, nullptr, nullptr, nullptr, m_impl->key) == 1 &&
    c.digest_sign(ctx, out.data(), &size,
                  reinterpret_cast<const unsigned char*>(message.data()),
                  message.size()) == 1 &&
    size == out.size();
  c.md_ctx_free(ctx);
  if (!ok) {
    throw std::runtime_error("OpenSSL could not sign with the Ed25519 key");
  }
  return out;
}

std::string Ed25519Key::to_pem() const
{
  const auto& c = crypto();
  BIO* bio = c.bio_new(c.bio_s_mem());
  if (bio == nullptr) {
    throw std::bad_alloc();
  }
  std::string out;
  if (c.pem_write_private_key(bio, m_impl->key, nullptr, nullptr, 0, nullptr,
                              nullptr) == 1) {
    char* data = nullptr;
    // BIO_get_mem_data(), a macro over BIO_ctrl().
    const long size = c.bio_ctrl(bio, BIO_CTRL_INFO, 0, &data);
    if (size > 0 && data != nullptr) {
      out.assign(data, static_cast<std::size_t>(size));
    }
  }
  c.bio_free(bio); // a memory BIO clears its buffer when freed
  if (out.empty()) {
    throw std::runtime_error("OpenSSL could not write the Ed25519 key");
  }
  return out;
}

std::string base58btc_encode(std::string_view bytes)
{
  static constexpr char k_alphabet[] =
    "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
  std::size_t zeros = 0;
  while (zeros < bytes.size() && bytes[zeros] == '\0') {
    ++zeros;
  }
  // Base-58 digits, least significant first: each input byte multiplies
  // the number so far by 256 and adds itself.
  std::vector<std::uint8_t> digits;
  digits.reserve(bytes.size() * 138 / 100 + 1);
  for (std::size_t i = zeros; i < bytes.size(); ++i) {
    unsigned carry = static_cast<unsigned char>(bytes[i]);
    for (auto& d : digits) {
      carry += static_cast<unsigned>(d) << 8U;
      d = static_cast<std::uint8_t>(carry % 58);
      carry /= 58;
    }
    while (carry > 0) {
      digits.push_back(static_cast<std::uint8_t>(carry % 58));
      carry /= 58;
    }
  }
  std::string out(zeros, '1');
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    out += k_alphabet[*it];
  }
  return out;
}

std::string did_key(const Ed25519PublicKey& key)
{
  std::string multicodec = "\xed\x01";
  multicodec.append(reinterpret_cast<const char*>(key.data()), key.size());
  return "did:key:z" + base58btc_encode(multicodec);
}

} // namespace vtc::util
