#include "util/ed25519.hpp"
#include "util/encoding.hpp"

#include <doctest/doctest.h>

#include <stdexcept>
#include <string>

using namespace vtc::util;

namespace {

// RFC 8032 §7.1, test 1: the secret key as PKCS#8 PEM, its public key and
// its signature of the empty message.
const std::string k_rfc_pem =
  "-----BEGIN PRIVATE KEY-----\n"
  "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n"
  "-----END PRIVATE KEY-----\n";
const std::string k_rfc_public =
  "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
const std::string k_rfc_signature =
  "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a"
  "33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";

// A P-256 key: PEM and PKCS#8, but not Ed25519.
const std::string k_ec_pem =
  "-----BEGIN PRIVATE KEY-----\n"
  "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgpjB4MCAtxKP4dGSV\n"
  "vYzLKTBIBSM9y45iMwBy+c5YBJKhRANCAATaYy7A5MbDDoxedLfHhmOJTLLxTh9q\n"
  "copkNybsUK3molyVErY0PsAfSmdTBq19cw0a6NP6m7qiHOQnd1f4YIbz\n"
  "-----END PRIVATE KEY-----\n";

} // namespace

TEST_CASE("ed25519: base58btc known values")
{
  CHECK(base58btc_encode("").empty());
  CHECK(base58btc_encode(std::string("\0", 1)) == "1");
  CHECK(base58btc_encode(std::string("\0\0\x01", 3)) == "112");
  CHECK(base58btc_encode("\xff") == "5Q");
  CHECK(base58btc_encode("Hello World!") == "2NEpo7TZRRrLZSi2U");
  CHECK(base58btc_encode("The quick brown fox jumps over the lazy dog") ==
        "7DdiPPYtxLjCD3wA1po2rvZHTDYjkZYiEtazrfiwJcwnKCizhGFhBGHeRdx");
}

TEST_CASE("ed25519: the RFC 8032 key gives its public key and signature")
{
  const Ed25519Key key = Ed25519Key::from_pem(k_rfc_pem);
  const auto pub = key.public_key();
  CHECK(hex(pub) == k_rfc_public);
  CHECK(hex(key.sign("")) == k_rfc_signature);
  // did:key of that public key, as an independent implementation (the
  // test VTC's) spells it.
  CHECK(did_key(pub) ==
        "did:key:z6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMsw");
}

TEST_CASE("ed25519: a generated key survives PEM and signs deterministically")
{
  const Ed25519Key a = Ed25519Key::generate();
  std::string pem = a.to_pem();
  CHECK(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
  const Ed25519Key b = Ed25519Key::from_pem(pem);
  CHECK(a.public_key() == b.public_key());
  CHECK(a.sign("message") == b.sign("message"));
  CHECK(a.sign("message") != a.sign("messagf"));
  CHECK(Ed25519Key::generate().public_key() != a.public_key());
  CHECK(did_key(a.public_key()).starts_with("did:key:z6Mk"));
}

TEST_CASE("ed25519: anything but an Ed25519 private key in PEM is refused")
{
  CHECK_THROWS_AS(Ed25519Key::from_pem(""), std::invalid_argument);
  CHECK_THROWS_AS(Ed25519Key::from_pem("not a key"), std::invalid_argument);
  CHECK_THROWS_AS(Ed25519Key::from_pem(k_ec_pem), std::invalid_argument);
  std::string cut = k_rfc_pem;
  cut.erase(cut.find("-----END"));
  CHECK_THROWS_AS(Ed25519Key::from_pem(cut), std::invalid_argument);
}
