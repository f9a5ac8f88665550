// libFuzzer harness: a registry answer as the client takes it apart -- the
// raw header lines (Retry-After, status lines after a 1xx), the status and
// transport class -- and what the job state machine makes of it
// (docs/design.md, Job states).

#include "core/answer.hpp"
#include "core/job.hpp"
#include "http/header.hpp"

#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

namespace {

void check(bool ok)
{
  if (!ok) {
    std::abort();
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size)
{
  if (size < 4) {
    return 0;
  }
  using vtc::core::AnswerClass;
  const int status = (data[0] | (data[1] << 8)) % 1000;
  const auto transport = static_cast<vtc::core::Transport>(data[2] % 3);
  const bool is_delete = (data[3] & 1U) != 0;
  const std::int64_t attempts = 1 + (data[3] >> 1U);
  std::string_view headers(reinterpret_cast<const char*>(data + 4), size - 4);

  // Header lines one at a time, as libcurl's header callback gets them.
  std::optional<std::string> retry_after;
  while (!headers.empty()) {
    const auto end = headers.find('\n');
    const std::string_view line = headers.substr(
      0, end == std::string_view::npos ? headers.size() : end + 1);
    headers.remove_prefix(line.size());
    if (const auto value = vtc::http::header_value(line, "retry-after")) {
      check(value->find('\n') == std::string_view::npos);
      retry_after = std::string(*value);
    } else if (vtc::http::is_status_line(line)) {
      retry_after.reset();
    }
  }

  const AnswerClass cls = vtc::core::classify(is_delete, status, transport);
  check(!vtc::core::to_string(cls).empty());
  if (transport == vtc::core::Transport::ok) {
    check((cls == AnswerClass::success) ==
          ((status >= 200 && status < 300) ||
           (is_delete && (status == 404 || status == 410))));
    check((cls == AnswerClass::auth) == (status == 401));
  } else {
    check(cls != AnswerClass::success);
  }
  const auto step = vtc::core::next_step(cls, attempts, 16);
  check((step == vtc::core::NextStep::done) == (cls == AnswerClass::success));
  if (step == vtc::core::NextStep::retry && retry_after) {
    const auto seconds = vtc::core::parse_retry_after(
      *retry_after, vtc::core::TimeNs{1767225600} * vtc::core::k_ns_per_second);
    const auto wait = vtc::core::backoff_seconds(
      static_cast<int>(std::min<std::int64_t>(attempts, 62)), 0, 3600, seconds);
    check(wait >= 0 && wait <= 3600);
  }
  return 0;
}
