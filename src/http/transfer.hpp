#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace vtc::http {

// Settings shared by every request of a client.
struct ClientOptions
{
  std::string ca_file;     // "" = the system store
  std::string client_cert; // PEM, "" = none
  std::string client_key;  // PEM
  std::string proxy;       // "" = the standard proxy variables
  long connect_timeout_seconds = 5;
  long timeout_seconds = 15; // one whole request
  long max_connections = 16;
  // A longer answer fails the request (Failure::local).
  std::size_t max_body_bytes = std::size_t{1} << 24U;
};

struct Request
{
  std::string method; // "GET", "PUT", "DELETE", "POST"
  std::string url;
  std::vector<std::string> headers; // "Name: value"
  std::string body;
};

// Why no HTTP answer arrived.
enum class Failure {
  none,        // `status` holds the answer
  unreachable, // connect, DNS, timeout, reset, empty reply
  tls,         // certificate, handshake, TLS alert, unusable local cert/key
  local,       // anything else on our side (bad option, out of memory)
};

struct Response
{
  long status = 0;
  Failure failure = Failure::none;
  std::string error; // libcurl's description when failure != none
  std::string body;
  std::optional<std::string> retry_after; // the header's raw value
};

// Concurrent HTTP transfers on one libcurl multi handle: connections are
// reused across requests, redirects are never followed, only http and https
// are spoken. Transfers are identified by a caller-chosen tag.
class Transfers
{
public:
  explicit Transfers(const ClientOptions& options);
  ~Transfers();
  Transfers(const Transfers&) = delete;
  Transfers& operator=(const Transfers&) = delete;

  // Starts a request. It runs while wait() is called.
  void add(std::uint64_t tag, Request request);

  // Drives transfers until at least one completes or `until` passes;
  // returns the completed ones (possibly none).
  std::vector<std::pair<std::uint64_t, Response>> wait(
    std::chrono::steady_clock::time_point until);

  // Transfers started and not yet returned by wait().
  std::size_t running() const;

  // Ends every running transfer without an answer.
  void abort_all();

  // Performs one request and waits for it (at most the client's timeout),
  // on the connections kept open by earlier ones.
  Response perform(Request request);

private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

// Performs one request on a connection of its own.
Response perform(const ClientOptions& options, Request request);

} // namespace vtc::http
