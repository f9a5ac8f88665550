#pragma once

#include "app/ports.hpp"
#include "registry/record.hpp"

#include <memory>
#include <string>

namespace vtc::registry {

struct RegistryOptions
{
  std::string url; // base URL (checked by checked_origin)
  std::string admin_path = "/admin/v1";
  std::string token; // bearer token, "" = none
  RecordKey key;
  std::string ca_file;
  std::string client_cert;
  std::string client_key;
  std::string proxy;
  long connect_timeout_seconds = 5;
  long timeout_seconds = 15;
  long concurrency = 16;
};

// The trust registry over HTTP(S) with libcurl (vtc-sync(1), THE REGISTRY).
class HttpRegistry final : public app::Registry
{
public:
  explicit HttpRegistry(RegistryOptions options);
  ~HttpRegistry() override;

  app::SentRequest submit(std::uint64_t tag,
                          const app::ClaimedJob& job) override;
  std::vector<std::pair<std::uint64_t, app::Answer>> wait(
    Deadline until) override;
  std::size_t running() const override;
  void abandon() override;
  app::Answer probe() override;

private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

// Reads the bearer token file: secret-file rule, surrounding whitespace
// trimmed, CR or LF inside refused. Throws ConfigError (78).
std::string read_token(const std::string& path);

} // namespace vtc::registry
