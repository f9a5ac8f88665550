// libFuzzer harness: the TOML configuration file and the VTC_SYNC_*
// environment overlay (vtc-sync.toml(5)). Anything but a valid configuration
// must be a ConfigError (78).

#include "config/config.hpp"
#include "config/toml_guard.hpp"
#include "util/error.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>

// As in src/config/toml_file.cpp, so both see the same inline functions.
#define TOML_ASSERT(expr) static_cast<void>(0)
#include <toml++/toml.h>

namespace {

void check(bool ok)
{
  if (!ok) {
    std::abort();
  }
}

void parse(const std::string& text, const vtc::config::Environment& env)
{
  try {
    const auto c = vtc::config::parse(text, "/fuzz/vtc-sync.toml", env);
    check(!c.vtc_did.empty() && !c.audit_source.empty() &&
          !c.registry_url.empty());
    check(c.sync_max_attempts >= 1 && c.sync_max_attempts <= 100);
    check(c.registry_concurrency >= 1 && c.registry_concurrency <= 256);
    check(c.audit_max_line_bytes >= 4096);
  } catch (const vtc::Error& e) {
    check(e.code() == vtc::ExitCode::config);
  }
}

} // namespace

// Asks toml++ about every code point toml_misjudges() calls safe, so that
// UndefinedBehaviorSanitizer stops the harness at once if that list of
// holes in toml++'s whitespace table is short of one.
extern "C" int LLVMFuzzerInitialize(int*, char***)
{
  std::size_t whitespace = 0;
  for (char32_t c = 0x80; c <= 0x10FFFF; ++c) {
    if (!vtc::config::toml_misjudges(c) &&
        toml::impl::is_non_ascii_horizontal_whitespace(c)) {
      ++whitespace;
    }
  }
  check(whitespace == 20); // the code units toml++'s table lists
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size)
{
  const std::string text(reinterpret_cast<const char*>(data), size);
  parse(text, {});
  // The same bytes as environment values, which are parsed as the key's type.
  const std::string value =
    text.substr(0, std::min<std::size_t>(text.find('\n'), 256));
  const std::string base =
    "[vtc]\ndid = \"did:web:x\"\n[audit]\nsource = \"/a\"\n"
    "[registry]\nurl = \"https://r.example\"\n";
  parse(base, {{"VTC_SYNC_SYNC_MAX_ATTEMPTS", value},
               {"VTC_SYNC_REGISTRY_URL", value},
               {"VTC_SYNC_AUDIT_ANCHOR", value}});
  return 0;
}
