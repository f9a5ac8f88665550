#pragma once

#include "core/timestamp.hpp"

#include <cstdint>
#include <optional>
#include <string_view>

namespace vtc::core {

// The classes of registry answers (vtc-sync(1), THE REGISTRY).
enum class AnswerClass {
  success,      // 2xx; 404/410 on DELETE
  transient,    // 408, 425, 429, 5xx, unlisted statuses: back off
  unreachable,  // connect, DNS, timeout, reset, empty reply: back off
  auth,         // 401: stop dispatching, no attempt spent
  permanent,    // other 4xx, 3xx: the job fails at once
  incompatible, // 405, 501: the registry does not speak our binding
  config,       // TLS verification, unusable local cert/key/CA
};

// What went wrong below HTTP, as the transport reports it.
enum class Transport {
  ok,          // an HTTP answer arrived; classify its status
  unreachable, // no answer: connect, DNS, timeout, reset, empty reply
  tls,         // certificate or handshake failure, TLS alert
};

// Classifies one answer. `is_delete` matters for 404 and 410.
AnswerClass classify(bool is_delete, int status, Transport transport);

// True for answers that count towards the breaker: unreachable, 5xx, 408.
bool counts_for_breaker(AnswerClass cls, int status);

std::string_view to_string(AnswerClass cls);

// What happens to a job after an answer.
enum class NextStep {
  done,    // remove the job (succeeded)
  retry,   // pending again after a backoff; the attempt counts
  fail,    // failed: an operator must act
  unspent, // pending again, the attempt does not count (auth, config,
           // incompatible): the fault is not the job's
};

// The job state machine (docs/design.md, Job states): `attempts` includes
// the one just answered.
NextStep next_step(AnswerClass cls, std::int64_t attempts,
                   std::int64_t max_attempts);

// Parses a Retry-After header value: delta-seconds, or an IMF-fixdate HTTP
// date relative to `now`. A date in the past gives 0. Returns nullopt when
// the value is neither.
std::optional<std::int64_t> parse_retry_after(std::string_view value,
                                              TimeNs now);

} // namespace vtc::core
