// libFuzzer harness: one page of the registry's listing (GET
// {admin}/records?authority_id=…) as drift parses it. A page is
// either parsed into records of our authority with their ids, or refused
// with a protocol error (76); nothing else may happen.

#include "registry/listing.hpp"
#include "util/error.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size)
{
  static const vtc::registry::RecordKey key{
    "did:web:community.example", "recognise", "trust-graph", "recognition"};
  const std::string body(reinterpret_cast<const char*>(data), size);
  try {
    const auto page =
      vtc::registry::parse_listing(key, body, "http://127.0.0.1/x");
    for (const auto& r : page.records) {
      if (r.id.size() != 64 || r.record.empty()) {
        std::abort();
      }
    }
  } catch (const vtc::Error& e) {
    if (e.code() != vtc::ExitCode::protocol) {
      std::abort();
    }
  }
  return 0;
}
