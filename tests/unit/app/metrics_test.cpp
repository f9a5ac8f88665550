#include "app/metrics.hpp"

#include <doctest/doctest.h>
#include <string>

using vtc::app::PassMetrics;
using vtc::app::render_metrics;

namespace {

constexpr vtc::core::TimeNs k_s = 1'000'000'000;

PassMetrics sample()
{
  PassMetrics m;
  m.run_at = 1'773'144'000 * k_s + 123'456'789;
  m.last_success = 1'773'143'990 * k_s;
  m.exit_code = 76;
  m.duration = 2 * k_s + 500'000'000;
  m.pending = 3;
  m.in_flight = 1;
  m.failed = 2;
  m.oldest_due_age = 90 * k_s;
  m.audit_lag_bytes = 4096;
  m.requests = {{"permanent", 2}, {"success", 40}, {"transient", 7}};
  m.breaker_open = true;
  return m;
}

} // namespace

TEST_CASE("metrics: renders every family with HELP and TYPE before its samples")
{
  const std::string text = render_metrics(sample());
  CHECK(text ==
        "# HELP vtc_sync_last_run_timestamp_seconds When the last pass ended, "
        "in seconds since the epoch.\n"
        "# TYPE vtc_sync_last_run_timestamp_seconds gauge\n"
        "vtc_sync_last_run_timestamp_seconds 1773144000.123\n"
        "# HELP vtc_sync_last_success_timestamp_seconds When the last pass "
        "that exited 0 ended, in seconds since the epoch.\n"
        "# TYPE vtc_sync_last_success_timestamp_seconds gauge\n"
        "vtc_sync_last_success_timestamp_seconds 1773143990.000\n"
        "# HELP vtc_sync_last_run_exit_code The exit code of the last pass (0 "
        "ok, 65 audit log, 69 registry unavailable, 76 failed jobs, ...).\n"
        "# TYPE vtc_sync_last_run_exit_code gauge\n"
        "vtc_sync_last_run_exit_code 76\n"
        "# HELP vtc_sync_pass_duration_seconds How long the last pass took.\n"
        "# TYPE vtc_sync_pass_duration_seconds gauge\n"
        "vtc_sync_pass_duration_seconds 2.500\n"
        "# HELP vtc_sync_jobs Live jobs by state.\n"
        "# TYPE vtc_sync_jobs gauge\n"
        "vtc_sync_jobs{state=\"pending\"} 3\n"
        "vtc_sync_jobs{state=\"in_flight\"} 1\n"
        "vtc_sync_jobs{state=\"failed\"} 2\n"
        "# HELP vtc_sync_oldest_due_job_age_seconds How long the oldest due "
        "pending job has been due (0 when none is).\n"
        "# TYPE vtc_sync_oldest_due_job_age_seconds gauge\n"
        "vtc_sync_oldest_due_job_age_seconds 90.000\n"
        "# HELP vtc_sync_audit_lag_bytes Bytes of the audit log not yet walked "
        "(absent when it could not be read).\n"
        "# TYPE vtc_sync_audit_lag_bytes gauge\n"
        "vtc_sync_audit_lag_bytes 4096\n"
        "# HELP vtc_sync_requests_total Registry requests answered, by answer "
        "class, since the state database was created.\n"
        "# TYPE vtc_sync_requests_total counter\n"
        "vtc_sync_requests_total{class=\"success\"} 40\n"
        "vtc_sync_requests_total{class=\"transient\"} 7\n"
        "vtc_sync_requests_total{class=\"unreachable\"} 0\n"
        "vtc_sync_requests_total{class=\"auth\"} 0\n"
        "vtc_sync_requests_total{class=\"permanent\"} 2\n"
        "vtc_sync_requests_total{class=\"incompatible\"} 0\n"
        "vtc_sync_requests_total{class=\"config\"} 0\n"
        "# HELP vtc_sync_breaker_open 1 while the circuit breaker holds "
        "requests back, else 0.\n"
        "# TYPE vtc_sync_breaker_open gauge\n"
        "vtc_sync_breaker_open 1\n");
}

TEST_CASE("metrics: unknown values leave their family without a sample")
{
  PassMetrics m = sample();
  m.last_success.reset();
  m.audit_lag_bytes.reset();
  const std::string text = render_metrics(m);
  CHECK(text.find("# TYPE vtc_sync_last_success_timestamp_seconds gauge\n#") !=
        std::string::npos);
  CHECK(text.find("\nvtc_sync_last_success_timestamp_seconds ") ==
        std::string::npos);
  CHECK(text.find("\nvtc_sync_audit_lag_bytes ") == std::string::npos);
  CHECK(vtc::app::last_success_in(text) == std::nullopt);
}

TEST_CASE("metrics: the last-success time reads back from a rendered file")
{
  const std::string text = render_metrics(sample());
  CHECK(vtc::app::last_success_in(text) == 1'773'143'990 * k_s);
  PassMetrics m = sample();
  m.last_success = 1'773'143'990 * k_s + 250'000'000;
  CHECK(vtc::app::last_success_in(render_metrics(m)) ==
        1'773'143'990 * k_s + 250'000'000);
}

TEST_CASE("metrics: a malformed last-success line reads as absent")
{
  using vtc::app::last_success_in;
  CHECK(last_success_in("") == std::nullopt);
  CHECK(last_success_in("vtc_sync_last_success_timestamp_seconds x\n") ==
        std::nullopt);
  CHECK(last_success_in("vtc_sync_last_success_timestamp_seconds 12abc\n") ==
        std::nullopt);
  CHECK(last_success_in("vtc_sync_last_success_timestamp_seconds -5\n") ==
        std::nullopt);
  CHECK(last_success_in("vtc_sync_last_success_timestamp_seconds_x 5\n") ==
        std::nullopt);
  CHECK(last_success_in("# x\nvtc_sync_last_success_timestamp_seconds 5\n") ==
        5 * k_s);
}
