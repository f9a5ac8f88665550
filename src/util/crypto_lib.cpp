#include "util/crypto_lib.hpp"

#include "util/shared_lib.hpp"

namespace vtc::util::detail {

namespace {

// The soname of the libcrypto this was compiled against (OpenSSL 3).
constexpr const char* k_soname = "libcrypto.so.3";

CryptoLib load()
{
  // Never closed: the fetched algorithms live until the process ends.
  void* lib = util::open_library(k_soname);
  CryptoLib c{};
  util::resolve(lib, k_soname, c.md_fetch, "EVP_MD_fetch");
  util::resolve(lib, k_soname, c.md_ctx_new, "EVP_MD_CTX_new");
  util::resolve(lib, k_soname, c.md_ctx_free, "EVP_MD_CTX_free");
  util::resolve(lib, k_soname, c.md_ctx_copy_ex, "EVP_MD_CTX_copy_ex");
  util::resolve(lib, k_soname, c.digest_init_ex2, "EVP_DigestInit_ex2");
  util::resolve(lib, k_soname, c.digest_update, "EVP_DigestUpdate");
  util::resolve(lib, k_soname, c.digest_final_ex, "EVP_DigestFinal_ex");
  util::resolve(lib, k_soname, c.memcmp, "CRYPTO_memcmp");
  util::resolve(lib, k_soname, c.bio_new_mem_buf, "BIO_new_mem_buf");
  util::resolve(lib, k_soname, c.bio_new, "BIO_new");
  util::resolve(lib, k_soname, c.bio_s_mem, "BIO_s_mem");
  util::resolve(lib, k_soname, c.bio_ctrl, "BIO_ctrl");
  util::resolve(lib, k_soname, c.bio_free, "BIO_free");
  util::resolve(lib, k_soname, c.pem_read_private_key,
                "PEM_read_bio_PrivateKey");
  util::resolve(lib, k_soname, c.pem_write_private_key,
                "PEM_write_bio_PrivateKey");
  util::resolve(lib, k_soname, c.pkey_free, "EVP_PKEY_free");
  util::resolve(lib, k_soname, c.pkey_base_id, "EVP_PKEY_get_base_id");
  util::resolve(lib, k_soname, c.pkey_raw_public_key,
                "EVP_PKEY_get_raw_public_key");
  util::resolve(lib, k_soname, c.pkey_ctx_new_id, "EVP_PKEY_CTX_new_id");
  util::resolve(lib, k_soname, c.pkey_ctx_free, "EVP_PKEY_CTX_free");
  util::resolve(lib, k_soname, c.pkey_keygen_init, "EVP_PKEY_keygen_init");
  util::resolve(lib, k_soname, c.pkey_keygen, "EVP_PKEY_keygen");
  util::resolve(lib, k_soname, c.digest_sign_init, "EVP_DigestSignInit");
  util::resolve(lib, k_soname, c.digest_sign, "EVP_DigestSign");
  return c;
}

} // namespace

const CryptoLib& crypto()
{
  static const CryptoLib lib = load();
  return lib;
}

} // namespace vtc::util::detail
