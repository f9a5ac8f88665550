#pragma once

// The REST API of a running VTC (vtc-service 0.11): login by challenge and
// a SIOP id_token, the audit log's pages, its own chain verification and
// its health. See vtc-sync(1), "THE VTC AS THE SOURCE".

#include "app/ports.hpp"
#include "http/transfer.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vtc::util {
class Ed25519Key;
}

namespace vtc::audit {

struct VtcOptions
{
  std::string source; // base URL of the VTC
  std::string api_path = "/v1";
  std::string vtc_did;       // the community's DID: the id_token's aud
  std::string identity_file; // Ed25519 PKCS#8 PEM
  http::ClientOptions http;
  // Called with our DID after each login (a dry run says it logged in).
  std::function<void(const std::string&)> on_login;
};

// vtc-sync's own identity: its Ed25519 key and the did:key of it.
struct Identity
{
  std::shared_ptr<const util::Ed25519Key> key;
  std::string did;
};

// Reads audit.identity_file (secret-file rule). Throws ConfigError (78)
// naming the file when it cannot be used.
Identity load_identity(const std::string& path);

// The compact JWS (EdDSA) a SIOP login presents: issued by `id.did` for
// `audience`, carrying `nonce`, valid from `now` for 300 seconds (unix
// seconds).
std::string make_id_token(const Identity& id, const std::string& audience,
                          const std::string& nonce, std::int64_t now);

// One page of GET {api}/audit: the answer and where each item's exact
// bytes are in it, newest first.
struct AuditPage
{
  struct Range
  {
    std::size_t offset = 0;
    std::size_t size = 0;
  };
  std::string body;
  std::vector<Range> items;
  std::optional<std::string> next_cursor;

  std::string_view item(std::size_t i) const
  {
    return std::string_view(body).substr(items[i].offset, items[i].size);
  }
};

// Splits a page's body into its items without decoding them. False when
// the body is not {"items":[…],"next_cursor":…}.
bool split_page(AuditPage& page);

// What GET {api}/audit/verify said.
struct VtcVerdict
{
  bool verified = false;
  std::string head; // lowercase hex, "" when the VTC found nothing chainable
};

// A logged-in client of one VTC, for one pass: the access token lives in
// this object only. Every call throws SourceUnavailable when the VTC cannot
// be reached or answers 429 or 5xx (or 400 to a challenge: too many
// pending); AuditError (78) when it refuses our identity (401 at login,
// 403) or does not speak the API (404, 415, an answer of another shape:
// the message names its version from GET /health) or TLS fails; AuditError
// (74) for any other answer.
class VtcClient
{
public:
  // `now` gives unix seconds for the id_token.
  VtcClient(VtcOptions options, std::function<std::int64_t()> now);
  ~VtcClient();
  VtcClient(const VtcClient&) = delete;
  VtcClient& operator=(const VtcClient&) = delete;

  const std::string& did() const;
  // "{source}{api_path}/audit", for messages.
  std::string audit_url() const;

  // One page of at most `limit` items older than `cursor` ("" = the
  // newest). Logs in first when not logged in, and once more when the VTC
  // ended the session (401). Returns nullopt when the VTC refused `cursor`
  // (400 "invalid pagination cursor": its audit key changed).
  std::optional<AuditPage> audit_page(std::int64_t limit,
                                      const std::string& cursor);
  VtcVerdict verify();
  // Logins made so far (0, 1 or 2).
  int logins() const;

private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

} // namespace vtc::audit
