// libFuzzer harness: the registry policy document (a policy file or an OPA
// answer's result; vtc-sync.toml(5), [policy]). Anything invalid must be a
// ConfigError.

#include "core/policy.hpp"
#include "policy/policy_source.hpp"
#include "util/error.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size)
{
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const auto policy = vtc::policy::parse_policy(text, "fuzz policy");
    if (policy.departure_options.empty()) {
      std::abort();
    }
    (void)vtc::core::effective_disposition(policy, std::string("purge"), true);
    (void)vtc::core::effective_disposition(policy, std::nullopt, false);
  } catch (const vtc::Error& e) {
    if (e.code() != vtc::ExitCode::config) {
      std::abort();
    }
  }
  return 0;
}
