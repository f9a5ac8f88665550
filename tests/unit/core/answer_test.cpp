#include "core/answer.hpp"

#include <cstdint>
#include <doctest/doctest.h>
#include <optional>
#include <string>
#include <vector>

using namespace vtc::core;

namespace {

// 2026-01-01T00:00:00Z
constexpr TimeNs k_now = 1'767'225'600LL * k_ns_per_second;

} // namespace

TEST_CASE("answer: parse_retry_after reads delta-seconds and HTTP dates")
{
  struct Case
  {
    std::string value;
    TimeNs now;
    std::optional<std::int64_t> seconds;
  };
  const std::vector<Case> cases{
    {"120", k_now, 120},
    {"0", k_now, 0},
    {"99999999999999999999999", k_now, INT64_MAX},
    {"Thu, 01 Jan 2026 00:02:00 GMT", k_now, 120},
    {"Thu, 01 Jan 2026 00:00:00 GMT", k_now + 1, 0},
    {"Thu, 01 Jan 2026 00:00:01 GMT", k_now + 1, 1},
    {"Wed, 21 Oct 2015 07:28:00 GMT", k_now, 0},
    // Clocks at the ends of the range neither overflow nor wrap.
    {"Thu, 06 Nov 1800 08:49:37 GMT", INT64_MAX, 0},
    {"Thu, 01 Jan 1970 00:00:00 GMT", INT64_MIN, 9'223'372'037},
    {"", k_now, std::nullopt},
    {"-5", k_now, std::nullopt},
    {"1.5", k_now, std::nullopt},
    {"Thu, 01 Jan 2026 00:02:00 UTC", k_now, std::nullopt},
    {"Thu, 32 Jan 2026 00:02:00 GMT", k_now, std::nullopt},
    {"Thu, 01 Jan 9999 00:00:00 GMT", k_now, std::nullopt},
  };
  for (const auto& c : cases) {
    CAPTURE(c.value);
    CAPTURE(c.now);
    CHECK(parse_retry_after(c.value, c.now) == c.seconds);
  }
}

TEST_CASE("answer: classify follows the answer table")
{
  CHECK(classify(false, 200, Transport::ok) == AnswerClass::success);
  CHECK(classify(true, 404, Transport::ok) == AnswerClass::success);
  CHECK(classify(false, 404, Transport::ok) == AnswerClass::permanent);
  CHECK(classify(false, 401, Transport::ok) == AnswerClass::auth);
  CHECK(classify(false, 429, Transport::ok) == AnswerClass::transient);
  CHECK(classify(false, 501, Transport::ok) == AnswerClass::incompatible);
  CHECK(classify(false, 0, Transport::unreachable) == AnswerClass::unreachable);
  CHECK(classify(true, 200, Transport::tls) == AnswerClass::config);
}
