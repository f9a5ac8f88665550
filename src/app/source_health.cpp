#include "app/source_health.hpp"

#include <nlohmann/json.hpp>

namespace vtc::app {

namespace {

constexpr const char* k_key = "source.health";

void store_health(Settings& store, const SourceHealth& h)
{
  store.set_setting(k_key, nlohmann::json{{"degraded", h.degraded},
                                          {"since", h.since},
                                          {"last_success", h.last_success},
                                          {"last_error", h.last_error}}
                             .dump());
}

} // namespace

std::optional<SourceHealth> source_health(Settings& store)
{
  const auto text = store.setting(k_key);
  if (!text) {
    return std::nullopt;
  }
  const auto j = nlohmann::json::parse(*text, nullptr, false);
  if (!j.is_object()) {
    return std::nullopt;
  }
  SourceHealth h;
  h.degraded = j.value("degraded", false);
  h.since = j.value("since", core::TimeNs{0});
  h.last_success = j.value("last_success", core::TimeNs{0});
  h.last_error = j.value("last_error", std::string());
  return h;
}

void record_source_success(Settings& store, core::TimeNs now)
{
  const auto h = source_health(store);
  if (h && h->degraded) {
    store_health(store, {false, now, now, h->last_error});
  }
}

SourceHealth record_source_failure(Settings& store, core::TimeNs now,
                                   const std::string& error)
{
  SourceHealth h = source_health(store).value_or(SourceHealth{});
  if (!h.degraded) {
    h = {true, now, h.last_success, error};
    store_health(store, h);
  } else if (h.last_error != error) {
    h.last_error = error;
    store_health(store, h);
  }
  return h;
}

} // namespace vtc::app
