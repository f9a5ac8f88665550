#include "config/config.hpp"

#include "config/keys.hpp"
#include "config/toml_file.hpp"
#include "util/error.hpp"

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fcntl.h>
#include <fmt/core.h>
#include <unistd.h>

namespace vtc::config {

namespace {

constexpr std::string_view k_default_path = "/etc/vtc-sync/vtc-sync.toml";
constexpr std::string_view k_config_variable = "VTC_SYNC_CONFIG";

Value env_value(const Key& key, const std::string& text,
                const std::string& where)
{
  if (key.type != KeyType::integer) {
    return text;
  }
  std::int64_t value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc{} || ptr != end) {
    throw ConfigError(
      fmt::format("{}: '{}' must be a decimal integer", where, full_name(key)));
  }
  return value;
}

// Environment values are taken as given: a relative path there is relative
// to the working directory, like any other command-line-ish input.
void read_env(const Environment& env, Settings& settings)
{
  for (const auto& [variable, text] : env) {
    if (!variable.starts_with(k_env_prefix) || variable == k_config_variable) {
      continue;
    }
    const Key* key = find_env(variable);
    if (key == nullptr) {
      throw ConfigError(
        fmt::format("unknown environment variable {}", printable(variable)));
    }
    const auto where = fmt::format("environment variable {}", variable);
    auto value = env_value(*key, text, where);
    validate(*key, value, where);
    settings[index_of(*key)] = Setting{std::move(value), where};
  }
}

void read_overrides(const Overrides& overrides, Settings& settings)
{
  if (overrides.state_db) {
    const Key& key = *find_key("state", "db");
    Value value = *overrides.state_db;
    validate(key, value, "--db");
    settings[index_of(key)] = Setting{std::move(value), "--db"};
  }
}

void check_combinations(const Config& config, const Settings& settings,
                        const std::string& origin)
{
  for (const auto& key : keys()) {
    if (key.required && !settings[index_of(key)]) {
      throw ConfigError(
        fmt::format("{}: missing required key '{}'", origin, full_name(key)));
    }
  }
  const auto& verify = settings[index_of(*find_key("audit", "verify"))];
  if (verify && config.audit_verify == VerifyMode::strict &&
      config.audit_key_file.empty()) {
    throw ConfigError(
      fmt::format("{}: 'audit.verify' is strict but 'audit.key_file' is not "
                  "set",
                  verify->where));
  }
  if (config.audit_source_is_url() && config.audit_identity_file.empty()) {
    throw ConfigError(fmt::format(
      "{}: 'audit.source' is a URL but 'audit.identity_file' is not set "
      "(vtc-sync logs in to the VTC with its own key: see vtc-sync identity)",
      origin));
  }
  // The policy comes from one source; two would leave it unclear which one
  // wins.
  if (!config.policy_file.empty() && !config.policy_opa_url.empty()) {
    throw ConfigError(fmt::format(
      "{}: 'policy.file' and 'policy.opa_url' are both set; choose one",
      origin));
  }
}

Config build(const Settings& settings, const std::string& origin)
{
  Config config;
  for (const auto& key : keys()) {
    if (const auto& setting = settings[index_of(key)]) {
      assign(key, setting->value, config);
    }
  }
  if (!settings[index_of(*find_key("audit", "verify"))]) {
    config.audit_verify =
      config.audit_key_file.empty() ? VerifyMode::chain : VerifyMode::strict;
  }
  check_combinations(config, settings, origin);
  return config;
}

std::string read_file(const std::string& path)
{
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    throw ConfigError(fmt::format("{}: {}", path, std::strerror(errno)));
  }
  std::string text;
  char buffer[8192];
  ssize_t n = 0;
  while ((n = ::read(fd, buffer, sizeof buffer)) != 0) {
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      const int error = errno;
      ::close(fd);
      throw ConfigError(fmt::format("{}: {}", path, std::strerror(error)));
    }
    text.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return text;
}

std::string config_path(const Overrides& overrides, const Environment& env)
{
  if (overrides.config_path) {
    if (overrides.config_path->empty()) {
      throw ConfigError("--config: must not be empty");
    }
    return *overrides.config_path;
  }
  if (const auto it = env.find(std::string(k_config_variable));
      it != env.end()) {
    if (it->second.empty()) {
      throw ConfigError(fmt::format("environment variable {}: must not be "
                                    "empty",
                                    k_config_variable));
    }
    return it->second;
  }
  return std::string(k_default_path);
}

} // namespace

bool Config::audit_source_is_url() const
{
  return audit_source.starts_with("http://") ||
         audit_source.starts_with("https://");
}

Environment process_environment()
{
  Environment env;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    if (!text.starts_with(k_env_prefix)) {
      continue;
    }
    const auto equals = text.find('=');
    if (equals != std::string_view::npos) {
      env.emplace(text.substr(0, equals), text.substr(equals + 1));
    }
  }
  return env;
}

Config parse(const std::string& toml_text, const std::string& origin,
             const Environment& env, const Overrides& overrides)
{
  Settings settings(keys().size());
  read_toml(toml_text, origin, settings);
  read_env(env, settings);
  read_overrides(overrides, settings);
  return build(settings, origin);
}

Config load(const Overrides& overrides, const Environment& env)
{
  const auto path = config_path(overrides, env);
  return parse(read_file(path), path, env, overrides);
}

} // namespace vtc::config
