#include "app/metrics.hpp"

#include "app/tick.hpp"
#include "core/answer.hpp"
#include "core/health.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <fmt/core.h>

namespace vtc::app {

namespace {

constexpr std::string_view k_last_success =
  "vtc_sync_last_success_timestamp_seconds";

constexpr std::array k_classes{
  core::AnswerClass::success,     core::AnswerClass::transient,
  core::AnswerClass::unreachable, core::AnswerClass::auth,
  core::AnswerClass::permanent,   core::AnswerClass::incompatible,
  core::AnswerClass::config,
};

// Seconds with millisecond precision: exact enough for a timestamp, and
// a double keeps 13 digits without loss.
std::string seconds(core::TimeNs t)
{
  const core::TimeNs ms = t / 1'000'000; // whole milliseconds, on purpose
  return fmt::format("{:.3f}", static_cast<double>(ms) / 1000.0);
}

class Writer
{
public:
  void family(std::string_view name, std::string_view type,
              std::string_view help)
  {
    m_out +=
      fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  }
  void sample(std::string_view name, std::string_view value)
  {
    m_out += fmt::format("{} {}\n", name, value);
  }
  void sample(std::string_view name, std::string_view label,
              std::string_view label_value, std::string_view value)
  {
    m_out +=
      fmt::format("{}{{{}=\"{}\"}} {}\n", name, label, label_value, value);
  }
  std::string take() { return std::move(m_out); }

private:
  std::string m_out;
};

} // namespace

std::string render_metrics(const PassMetrics& m)
{
  Writer w;
  w.family("vtc_sync_last_run_timestamp_seconds", "gauge",
           "When the last pass ended, in seconds since the epoch.");
  w.sample("vtc_sync_last_run_timestamp_seconds", seconds(m.run_at));
  w.family(
    k_last_success, "gauge",
    "When the last pass that exited 0 ended, in seconds since the epoch.");
  if (m.last_success) {
    w.sample(k_last_success, seconds(*m.last_success));
  }
  w.family("vtc_sync_last_run_exit_code", "gauge",
           "The exit code of the last pass (0 ok, 65 audit log, 69 registry "
           "unavailable, 76 failed jobs, ...).");
  w.sample("vtc_sync_last_run_exit_code", std::to_string(m.exit_code));
  w.family("vtc_sync_pass_duration_seconds", "gauge",
           "How long the last pass took.");
  w.sample("vtc_sync_pass_duration_seconds",
           seconds(std::max<core::TimeNs>(m.duration, 0)));
  w.family("vtc_sync_jobs", "gauge", "Live jobs by state.");
  w.sample("vtc_sync_jobs", "state", "pending", std::to_string(m.pending));
  w.sample("vtc_sync_jobs", "state", "in_flight", std::to_string(m.in_flight));
  w.sample("vtc_sync_jobs", "state", "failed", std::to_string(m.failed));
  w.family(
    "vtc_sync_oldest_due_job_age_seconds", "gauge",
    "How long the oldest due pending job has been due (0 when none is).");
  w.sample("vtc_sync_oldest_due_job_age_seconds",
           seconds(std::max<core::TimeNs>(m.oldest_due_age, 0)));
  w.family("vtc_sync_audit_lag_bytes", "gauge",
           "Bytes of the audit log not yet walked (absent when it could not "
           "be read).");
  if (m.audit_lag_bytes) {
    w.sample("vtc_sync_audit_lag_bytes", std::to_string(*m.audit_lag_bytes));
  }
  w.family("vtc_sync_requests_total", "counter",
           "Registry requests answered, by answer class, since the state "
           "database was created.");
  for (const core::AnswerClass cls : k_classes) {
    const std::string name(core::to_string(cls));
    const auto it =
      std::find_if(m.requests.begin(), m.requests.end(),
                   [&](const auto& r) { return r.first == name; });
    w.sample("vtc_sync_requests_total", "class", name,
             std::to_string(it == m.requests.end() ? 0 : it->second));
  }
  w.family("vtc_sync_breaker_open", "gauge",
           "1 while the circuit breaker holds requests back, else 0.");
  w.sample("vtc_sync_breaker_open", m.breaker_open ? "1" : "0");
  return w.take();
}

std::optional<core::TimeNs> last_success_in(std::string_view text)
{
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t end = std::min(text.find('\n', pos), text.size());
    const std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.size() <= k_last_success.size() ||
        line.substr(0, k_last_success.size()) != k_last_success ||
        line[k_last_success.size()] != ' ') {
      continue;
    }
    const std::string_view value = line.substr(k_last_success.size() + 1);
    double s = 0;
    const auto [ptr, ec] =
      std::from_chars(value.data(), value.data() + value.size(), s);
    if (ec != std::errc{} || ptr != value.data() + value.size() ||
        !std::isfinite(s) || s < 0 || s > 1e10) {
      return std::nullopt;
    }
    return static_cast<core::TimeNs>(std::llround(s * 1000.0)) * 1'000'000;
  }
  return std::nullopt;
}

PassMetrics collect_metrics(const StatusView& v, const TickResult& result,
                            std::optional<core::TimeNs> previous_success)
{
  PassMetrics m;
  m.run_at = result.finished;
  m.exit_code = static_cast<int>(result.code);
  if (result.code == ExitCode::ok) {
    m.last_success = result.finished;
  } else {
    m.last_success = v.last_success;
    if (previous_success &&
        (!m.last_success || *previous_success > *m.last_success)) {
      m.last_success = previous_success;
    }
  }
  m.duration = result.finished - result.started;
  m.pending = v.pending;
  m.in_flight = v.in_flight;
  m.failed = v.failed;
  m.oldest_due_age = v.oldest_due ? result.finished - *v.oldest_due : 0;
  m.audit_lag_bytes = result.audit_lag_bytes;
  m.requests = v.requests;
  m.breaker_open = core::breaker_open(v.health, result.finished);
  return m;
}

} // namespace vtc::app
