#include "util/crypto_lib.hpp"

#include "util/error.hpp"

#include <dlfcn.h>
#include <fmt/core.h>

namespace vtc::util::detail {

namespace {

// The soname of the libcrypto this was compiled against (OpenSSL 3).
constexpr const char* k_soname = "libcrypto.so.3";

template<class F>
void resolve(void* lib, F& fn, const char* name)
{
  void* sym = ::dlsym(lib, name);
  if (sym == nullptr) {
    throw Error(ExitCode::software,
                fmt::format("{}: no function {}", k_soname, name));
  }
  fn = reinterpret_cast<F>(sym);
}

CryptoLib load()
{
  void* lib = ::dlopen(k_soname, RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) {
    const char* why = ::dlerror();
    throw Error(ExitCode::software, fmt::format("cannot load {}: {}", k_soname,
                                                why ? why : "unknown error"));
  }
  // Never closed: the fetched algorithms live until the process ends.
  CryptoLib c{};
  resolve(lib, c.md_fetch, "EVP_MD_fetch");
  resolve(lib, c.md_ctx_new, "EVP_MD_CTX_new");
  resolve(lib, c.md_ctx_free, "EVP_MD_CTX_free");
  resolve(lib, c.md_ctx_copy_ex, "EVP_MD_CTX_copy_ex");
  resolve(lib, c.digest_init_ex2, "EVP_DigestInit_ex2");
  resolve(lib, c.digest_update, "EVP_DigestUpdate");
  resolve(lib, c.digest_final_ex, "EVP_DigestFinal_ex");
  resolve(lib, c.memcmp, "CRYPTO_memcmp");
  return c;
}

} // namespace

const CryptoLib& crypto()
{
  static const CryptoLib lib = load();
  return lib;
}

} // namespace vtc::util::detail
