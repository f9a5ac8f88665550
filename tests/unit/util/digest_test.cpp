#include "util/digest.hpp"

#include <doctest/doctest.h>
#include <string>
#include <vector>

using namespace vtc::util;

TEST_CASE("util: Sha256 known vectors")
{
  CHECK(hex(sha256("abc")) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(hex(sha256("")) ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(hex(sha256(std::string(1000, 'a'))) ==
        "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3");
}

TEST_CASE("util: Sha256 is incremental and reusable after finish")
{
  Sha256 h;
  h.update(std::string_view("a"));
  h.update(std::string_view(""));
  h.update(std::string_view("bc"));
  CHECK(hex(h.finish()) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // finish() readied it for the next message: no state from "abc" leaks.
  CHECK(hex(h.finish()) ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  const std::vector<std::uint8_t> abc{'a', 'b', 'c'};
  h.update(abc);
  CHECK(hex(h.finish()) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("util: HmacSha256 RFC 4231 test cases 1 and 2")
{
  const std::vector<std::uint8_t> jefe{'J', 'e', 'f', 'e'};
  const HmacSha256 tc2(jefe);
  CHECK(hex(tc2.mac("what do ya want for nothing?")) ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // Reusable: the same key gives the same answer again.
  CHECK(hex(tc2.mac("what do ya want for nothing?")) ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");

  const std::vector<std::uint8_t> key1(20, 0x0b);
  const HmacSha256 tc1(key1);
  CHECK(hex(tc1.mac("Hi There")) ==
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  CHECK(hex(tc2.mac("Hi There")) != hex(tc1.mac("Hi There")));
}

TEST_CASE("util: HmacSha256 with a full-block key, a multi-block and an "
          "empty message")
{
  // RFC 4231 test case 4: a 25-byte key, 50 bytes of 0xcd.
  std::vector<std::uint8_t> key4;
  for (std::uint8_t b = 1; b <= 25; ++b) {
    key4.push_back(b);
  }
  const HmacSha256 tc4(key4);
  CHECK(hex(tc4.mac(std::string(50, '\xcd'))) ==
        "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
  // A 64-byte key (bytes 0..63) fills the block with no zero padding;
  // expected values from Python's hmac module.
  std::vector<std::uint8_t> key64;
  for (int b = 0; b < 64; ++b) {
    key64.push_back(static_cast<std::uint8_t>(b));
  }
  const HmacSha256 full(key64);
  CHECK(hex(full.mac(std::string(200, 'x'))) ==
        "52fd44b1fdd78b34d0f057a61b148eaed55fa024e2a0422e5182887b367f7727");
  CHECK(hex(full.mac("")) ==
        "3499f163f48604c0b15ac89e4e7c66f314fb3b203b8ac2f564828e62f6be9d9d");
  CHECK(hex(full.mac(std::string(200, 'x'))) ==
        "52fd44b1fdd78b34d0f057a61b148eaed55fa024e2a0422e5182887b367f7727");
}

TEST_CASE("util: digests_equal compares every byte")
{
  const Digest a = sha256("abc");
  Digest b = a;
  CHECK(digests_equal(a, b));
  b[31] ^= 1;
  CHECK_FALSE(digests_equal(a, b));
  b = a;
  b[0] ^= 0x80;
  CHECK_FALSE(digests_equal(a, b));
}
