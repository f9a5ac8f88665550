#pragma once

// Internal to util/: libcrypto, loaded on first use.
//
// Only a pass that reads new audit entries hashes anything. Linking
// libcrypto would make every process, the frequent idle passes included,
// pay for mapping it and resolving its symbols (about a tenth of an idle
// pass). The functions digest.cpp calls are resolved from libcrypto.so.3
// the first time one is needed.

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

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
  // Ed25519 keys (util/ed25519.cpp).
  decltype(&::BIO_new_mem_buf) bio_new_mem_buf;
  decltype(&::BIO_new) bio_new;
  decltype(&::BIO_s_mem) bio_s_mem;
  decltype(&::BIO_ctrl) bio_ctrl;
  decltype(&::BIO_free) bio_free;
  decltype(&::PEM_read_bio_PrivateKey) pem_read_private_key;
  decltype(&::PEM_write_bio_PrivateKey) pem_write_private_key;
  decltype(&::EVP_PKEY_free) pkey_free;
  decltype(&::EVP_PKEY_get_base_id) pkey_base_id;
  decltype(&::EVP_PKEY_get_raw_public_key) pkey_raw_public_key;
  decltype(&::EVP_PKEY_CTX_new_id) pkey_ctx_new_id;
  decltype(&::EVP_PKEY_CTX_free) pkey_ctx_free;
  decltype(&::EVP_PKEY_keygen_init) pkey_keygen_init;
  decltype(&::EVP_PKEY_keygen) pkey_keygen;
  decltype(&::EVP_DigestSignInit) digest_sign_init;
  decltype(&::EVP_DigestSign) digest_sign;
};

// libcrypto, loaded once per process. Throws Error (70) when
// libcrypto.so.3 or one of its functions cannot be found.
const CryptoLib& crypto();

} // namespace vtc::util::detail
