// libFuzzer harness: audit log lines through the envelope parser and the
// strict and chain verifiers, as the walk reads them (SPEC §4.1-4.3).

#include "audit/envelope.hpp"
#include "audit/keys.hpp"
#include "audit/verifier.hpp"
#include "core/timestamp.hpp"

#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

namespace {

// tests/data/basic.keys.json, so the seed vectors verify in strict mode.
constexpr const char* k_keys = R"({"keys":[
  {"key_id":"3b0a9c52-6d1e-4f0a-9b7e-2c4d5e6f7a81","key":"XV1dXV1dXV1dXV1dXV1dXV1dXV1dXV1dXV1dXV1dXV0"},
  {"key_id":"9e8d7c6b-5a49-4382-8170-6f5e4d3c2b1a","key":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"}]})";

const std::set<std::string> k_reasons{
  "too-long", "unparseable", "legacy", "unsupported-schema", "broken-link",
  "tampered", "unknown-key", "hmac",   "unsupported-version"
};

void check(bool ok)
{
  if (!ok) {
    std::abort();
  }
}

void parse_one(std::string_view line)
{
  vtc::audit::Envelope e;
  std::string why;
  if (!vtc::audit::parse_envelope(line, e, why)) {
    check(!why.empty());
    return;
  }
  // The event is hashed as the exact bytes of the line.
  check(e.event_raw.data() >= line.data() &&
        e.event_raw.data() + e.event_raw.size() <= line.data() + line.size());
  check(e.event_raw.size() >= 2 && e.event_raw.front() == '{' &&
        e.event_raw.back() == '}');
  check(vtc::audit::parse_uuid(e.event_id).has_value());
  check(vtc::core::parse_rfc3339(vtc::core::format_rfc3339(e.time)) == e.time);
}

void verify_all(std::string_view text, vtc::audit::Verifier& v)
{
  for (;;) {
    const auto end = text.find('\n');
    if (end == std::string_view::npos) {
      return; // an incomplete last line is not read
    }
    vtc::audit::Envelope e;
    std::string detail;
    const auto reason = v.check(text.substr(0, end), e, detail);
    if (reason) {
      check(k_reasons.count(*reason) == 1);
      return; // the walk stops at the first bad entry
    }
    text.remove_prefix(end + 1);
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size)
{
  static const auto keys = vtc::audit::KeyRing::parse(k_keys, "fuzz keys");
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  for (std::string_view rest = text;;) {
    const auto end = rest.find('\n');
    parse_one(rest.substr(0, end));
    if (end == std::string_view::npos) {
      break;
    }
    rest.remove_prefix(end + 1);
  }
  vtc::audit::Verifier strict(&keys, vtc::util::Digest{}, false, 4096);
  verify_all(text, strict);
  vtc::audit::Verifier chain(nullptr, vtc::util::Digest{}, false, 1U << 20U);
  verify_all(text, chain);
  return 0;
}
