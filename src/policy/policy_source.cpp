#include "policy/policy_source.hpp"

#include "http/transfer.hpp"
#include "http/url.hpp"
#include "util/error.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace vtc::policy {

namespace {

using nlohmann::json;

core::Disposition disposition(const json& v, const std::string& origin,
                              const char* key)
{
  if (!v.is_string()) {
    throw ConfigError(fmt::format(
      "{}: {} must be one of purge, tombstone, historical", origin, key));
  }
  const auto d = core::disposition_from(v.get<std::string>());
  if (!d) {
    throw ConfigError(
      fmt::format("{}: {} '{}' is not one of purge, tombstone, historical",
                  origin, key, v.get<std::string>()));
  }
  return *d;
}

core::Policy from_json(const json& doc, const std::string& origin)
{
  if (!doc.is_object()) {
    throw ConfigError(fmt::format("{}: not a JSON object", origin));
  }
  core::Policy p;
  for (const auto& [key, value] : doc.items()) {
    if (key == "publish_on_join" || key == "require_consent") {
      if (!value.is_boolean()) {
        throw ConfigError(
          fmt::format("{}: {} must be true or false", origin, key));
      }
      (key == "publish_on_join" ? p.publish_on_join : p.require_consent) =
        value.get<bool>();
    } else if (key == "min_disposition") {
      p.min_disposition = disposition(value, origin, "min_disposition");
    } else if (key == "default_departure") {
      p.default_departure = disposition(value, origin, "default_departure");
    } else if (key == "departure_options") {
      if (!value.is_array() || value.empty()) {
        throw ConfigError(fmt::format(
          "{}: departure_options must be a non-empty list", origin));
      }
      p.departure_options.clear();
      for (const auto& v : value) {
        const auto d = disposition(v, origin, "departure_options");
        if (std::find(p.departure_options.begin(), p.departure_options.end(),
                      d) != p.departure_options.end()) {
          throw ConfigError(
            fmt::format("{}: departure_options lists '{}' twice", origin,
                        v.get<std::string>()));
        }
        p.departure_options.push_back(d);
      }
    } else {
      throw ConfigError(fmt::format("{}: unknown key '{}'", origin, key));
    }
  }
  return p;
}

// Parses JSON refusing repeated object keys: "last one wins" would let a
// document say two things at once.
json parse_strict(const std::string& text, const std::string& origin)
{
  std::optional<std::string> duplicate;
  std::vector<std::vector<std::string>> seen;
  json doc = json::parse(
    text,
    [&](int, json::parse_event_t event, json& parsed) {
      if (event == json::parse_event_t::object_start) {
        seen.emplace_back();
      } else if (event == json::parse_event_t::object_end) {
        seen.pop_back();
      } else if (event == json::parse_event_t::key && !seen.empty()) {
        const auto k = parsed.get<std::string>();
        auto& keys = seen.back();
        if (!duplicate &&
            std::find(keys.begin(), keys.end(), k) != keys.end()) {
          duplicate = k;
        }
        keys.push_back(k);
      }
      return true;
    },
    false);
  if (doc.is_discarded()) {
    throw ConfigError(fmt::format("{}: not valid JSON", origin));
  }
  if (duplicate) {
    throw ConfigError(
      fmt::format("{}: key '{}' appears twice", origin, *duplicate));
  }
  return doc;
}

std::string read_file(const std::string& path)
{
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw ConfigError(
      fmt::format("policy.file {}: {}", path, std::strerror(errno)));
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

core::Policy ask_opa(const PolicyOptions& o)
{
  http::checked_origin(o.opa_url, "policy.opa_url");
  http::ClientOptions client;
  client.ca_file = o.ca_file;
  client.connect_timeout_seconds = o.connect_timeout_seconds;
  client.timeout_seconds = o.timeout_seconds;
  client.max_connections = 1;
  http::Request request{
    "POST", o.opa_url, {"Content-Type: application/json"}, R"({"input":{}})"};
  const http::Response r = http::perform(client, std::move(request));
  const std::string origin = "policy.opa_url " + o.opa_url;
  if (r.failure != http::Failure::none) {
    throw ConfigError(fmt::format("policy.opa_url {}: {}", o.opa_url, r.error));
  }
  if (r.status != 200) {
    throw ConfigError(
      fmt::format("policy.opa_url {}: HTTP {}", o.opa_url, r.status));
  }
  const json answer = parse_strict(r.body, origin);
  if (!answer.is_object() || !answer.contains("result")) {
    throw ConfigError(fmt::format(
      "policy.opa_url {}: the answer has no result (is the policy loaded?)",
      o.opa_url));
  }
  return from_json(answer.at("result"), origin);
}

} // namespace

std::string file_stamp(const PolicyOptions& o)
{
  if (o.file.empty()) {
    return {};
  }
  struct stat st = {};
  if (::stat(o.file.c_str(), &st) != 0) {
    return "missing";
  }
  return fmt::format("{}:{}:{}.{:09}", st.st_ino, st.st_size, st.st_mtim.tv_sec,
                     st.st_mtim.tv_nsec);
}

bool configured(const PolicyOptions& o)
{
  return !o.file.empty() || !o.opa_url.empty();
}

core::Policy parse_policy(const std::string& text, const std::string& origin)
{
  return from_json(parse_strict(text, origin), origin);
}

core::Policy load_policy(const PolicyOptions& o)
{
  if (!o.file.empty()) {
    return parse_policy(read_file(o.file), "policy.file " + o.file);
  }
  if (!o.opa_url.empty()) {
    return ask_opa(o);
  }
  return {};
}

} // namespace vtc::policy
