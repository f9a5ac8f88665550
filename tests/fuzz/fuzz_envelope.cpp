// libFuzzer harness: audit log lines through the envelope parser and the
// strict and chain verifiers, as the walk reads them (see vtc-sync(1),
// THE AUDIT LOG).

#include "audit/envelope.hpp"
#include "audit/json_scan.hpp"
#include "audit/keys.hpp"
#include "audit/verifier.hpp"
#include "core/timestamp.hpp"
#include "util/encoding.hpp"

#include <algorithm>
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
  "tampered", "unknown-key", "hmac",   "unsupported-version"};

void check(bool ok)
{
  if (!ok) {
    std::abort();
  }
}

// An accepted UUID names its bytes, and its one spelling is the lower-case
// one format_uuid gives: the text differs from it in case alone.
void check_uuid(std::string_view text, const vtc::util::Uuid& bytes)
{
  const auto parsed = vtc::util::parse_uuid(text);
  check(parsed.has_value() && *parsed == bytes);
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  });
  check(vtc::util::format_uuid(bytes) == lower);
}

// An accepted hash is canonical base64url: encoding the bytes it decodes to
// gives the text back exactly.
void check_hash(std::string_view text, const vtc::util::Digest& bytes)
{
  const auto decoded = vtc::util::base64url_decode(text);
  const auto same = [](std::uint8_t b, char c) {
    return b == static_cast<std::uint8_t>(c);
  };
  check(decoded.has_value() && decoded->size() == bytes.size() &&
        std::equal(bytes.begin(), bytes.end(), decoded->begin(), same));
  check(vtc::util::base64url_encode(bytes) == text);
}

// An RFC 3339 text with the trailing zeros of its fraction removed, and
// its point when no digit is left: the parser takes 1 to 9 fraction digits,
// the formatter writes 0, 3, 6 or 9, and that is all they may differ in.
std::string without_fraction_zeros(std::string_view text)
{
  std::string out(text);
  const auto point = out.find('.');
  if (point == std::string::npos || out.back() != 'Z') {
    return out;
  }
  auto end = out.size() - 1;
  while (end > point + 1 && out[end - 1] == '0') {
    --end;
  }
  if (end == point + 1) {
    end = point;
  }
  out.erase(end, out.size() - 1 - end);
  return out;
}

// An accepted timestamp names one instant, which formats back to text that
// parses to the same instant and is the accepted text but for trailing
// fraction zeros. Spellings with more or fewer of those stay accepted: the
// chain hashes the instant, rendered anew, not the timestamp's bytes.
void check_timestamp(std::string_view text, vtc::core::TimeNs time)
{
  check(vtc::core::parse_rfc3339(text) == time);
  const std::string formatted = vtc::core::format_rfc3339(time);
  check(vtc::core::parse_rfc3339(formatted) == time);
  check(without_fraction_zeros(text) == without_fraction_zeros(formatted));
}

// The decoded text of the members an Envelope keeps only as values.
struct MemberTexts
{
  std::string timestamp;
  std::string prev_hash; // "" when absent
};

// Walks a line that parse_envelope accepted again, in the member order it
// accepted, for the texts of the timestamp and of prev_hash.
bool member_texts(std::string_view line, MemberTexts& out)
{
  vtc::audit::JsonScanner s(line);
  const auto skip = [&s](std::string_view name) {
    return s.key(name) && s.skip_value() && s.expect(',');
  };
  if (!s.expect('{') || !skip("event_id") || !skip("event_version") ||
      !skip("schema_version") || !s.key("timestamp") ||
      !s.string(out.timestamp) || !s.expect(',') || !skip("audit_key_id") ||
      !skip("actor_did_hash") || !skip("actor_did_plain") ||
      !skip("target_did_hash") || !skip("target_did_plain")) {
    return false;
  }
  out.prev_hash.clear();
  return !s.key("prev_hash") || s.string(out.prev_hash);
}

// Every identifier an accepted envelope carries round-trips through its
// formatter.
void check_identifiers(std::string_view line, const vtc::audit::Envelope& e)
{
  check_uuid(e.event_id, e.event_id_bytes);
  check_uuid(e.key_id, e.key_id_bytes);
  check_hash(e.actor_hash_text, e.actor_hash);
  if (e.target_hash) {
    check_hash(e.target_hash_text, *e.target_hash);
  } else {
    check(e.target_hash_text.empty());
  }
  MemberTexts texts;
  check(member_texts(line, texts));
  check_timestamp(texts.timestamp, e.time);
  check(texts.prev_hash.empty() != e.chained);
  if (e.chained) {
    check_hash(texts.prev_hash, e.prev_hash);
    check_hash(e.entry_hash_text, e.entry_hash);
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
  check_identifiers(line, e);
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
