#pragma once

// Internal to util/: libcrypto, loaded on first use.
//
// Only a pass that reads new audit entries hashes anything. Linking
// libcrypto would make every process, the frequent idle passes included,
// pay for mapping it and resolving its symbols (about a tenth of an idle
// pass). The functions digest.cpp calls are resolved from libcrypto.so.3
// the first time one is needed.

#include <openssl/crypto.h>
#include <openssl/evp.h>

namespace vtc::util::detail {

// The libcrypto functions util/ uses, with libcrypto's own signatures.
struct CryptoLib
{
  decltype(&::EVP_MD_fetch) md_fetch;
  decltype(&::EVP_MD_CTX_new) md_ctx_new;
  decltype(&::EVP_MD_CTX_free) md_ctx_free;
  decltype(&::EVP_MD_CTX_copy_ex) md_ctx_copy_ex;
  decltype(&::EVP_DigestInit_ex2) digest_init_ex2;
  decltype(&::EVP_DigestUpdate) digest_update;
  decltype(&::EVP_DigestFinal_ex) digest_final_ex;
  decltype(&::CRYPTO_memcmp) memcmp;
};

// libcrypto, loaded once per process. Throws Error (70) when
// libcrypto.so.3 or one of its functions cannot be found.
const CryptoLib& crypto();

} // namespace vtc::util::detail
