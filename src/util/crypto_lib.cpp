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
  return c;
}

} // namespace

const CryptoLib& crypto()
{
  static const CryptoLib lib = load();
  return lib;
}

} // namespace vtc::util::detail
