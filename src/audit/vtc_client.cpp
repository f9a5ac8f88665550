#include "audit/vtc_client.hpp"

#include "audit/json_scan.hpp"
#include "util/ed25519.hpp"
#include "util/encoding.hpp"
#include "util/error.hpp"
#include "util/secret_file.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <stdexcept>

namespace vtc::audit {

namespace {

// The Trust-Task header each route checks before anything else.
constexpr const char* k_task_challenge =
  "Trust-Task: https://trusttasks.org/spec/auth/challenge/0.1";
constexpr const char* k_task_authenticate =
  "Trust-Task: https://trusttasks.org/spec/auth/authenticate/0.1";
constexpr const char* k_task_list =
  "Trust-Task: https://trusttasks.org/openvtc/vtc/audit/list/1.0";
constexpr const char* k_task_verify =
  "Trust-Task: https://trusttasks.org/openvtc/vtc/audit/verify/1.0";
constexpr const char* k_authenticate_type =
  "https://trusttasks.org/spec/auth/authenticate/0.1";
constexpr std::int64_t k_token_lifetime_seconds = 300;

std::string b64u(std::string_view text)
{
  return util::base64url_encode(
    std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

std::string without_trailing_slash(std::string url)
{
  while (!url.empty() && url.back() == '/') {
    url.pop_back();
  }
  return url;
}

// RFC 3986 percent-encoding of a query value: the VTC's cursor is
// base64url, which needs none, but it is the VTC's text, not ours.
std::string query_escape(std::string_view value)
{
  std::string out;
  for (const char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out += c;
    } else {
      out += fmt::format("%{:02X}", u);
    }
  }
  return out;
}

// The VTC's "error" text, or the start of a body that has none, printable.
std::string error_text(const http::Response& r)
{
  const auto j = nlohmann::json::parse(r.body, nullptr, false);
  std::string text = r.body.substr(0, 120);
  if (j.is_object() && j.contains("error") && j["error"].is_string()) {
    text = j["error"].get<std::string>();
  }
  for (char& c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      c = '?';
    }
  }
  return text;
}

const nlohmann::json* string_member(const nlohmann::json& j, const char* name)
{
  if (!j.is_object()) {
    return nullptr;
  }
  const auto it = j.find(name);
  return it != j.end() && it->is_string() ? &*it : nullptr;
}

} // namespace

Identity load_identity(const std::string& path)
{
  std::string pem = util::read_secret_file(path, "audit.identity_file");
  std::shared_ptr<const util::Ed25519Key> key;
  try {
    key =
      std::make_shared<const util::Ed25519Key>(util::Ed25519Key::from_pem(pem));
  } catch (const std::invalid_argument& e) {
    util::wipe(pem);
    throw ConfigError(fmt::format(
      "audit.identity_file {}: {}; expected an Ed25519 private key in PEM "
      "(vtc-sync identity --generate FILE writes one)",
      path, e.what()));
  }
  util::wipe(pem);
  return {key, util::did_key(key->public_key())};
}

std::string make_id_token(const Identity& id, const std::string& audience,
                          const std::string& nonce, std::int64_t now)
{
  // did:key's verification method is the DID with its own multibase as
  // the fragment.
  const std::string multibase = id.did.substr(id.did.rfind(':') + 1);
  const nlohmann::ordered_json header = {
    {"alg", "EdDSA"}, {"typ", "JWT"}, {"kid", id.did + "#" + multibase}};
  const nlohmann::ordered_json claims = {
    {"iss", id.did},  {"sub", id.did}, {"aud", audience},
    {"nonce", nonce}, {"iat", now},    {"exp", now + k_token_lifetime_seconds}};
  const std::string signed_part =
    b64u(header.dump()) + "." + b64u(claims.dump());
  const auto signature = id.key->sign(signed_part);
  return signed_part + "." + util::base64url_encode(signature);
}

bool split_page(AuditPage& page)
{
  std::string_view body = page.body;
  while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) {
    body.remove_suffix(1);
  }
  page.items.clear();
  page.next_cursor.reset();
  JsonScanner s(body);
  bool items = false;
  bool cursor = false;
  std::string name;
  if (!s.expect('{')) {
    return false;
  }
  if (!s.accept('}')) {
    do {
      if (!s.string(name) || !s.expect(':')) {
        return false;
      }
      if (name == "items" && !items) {
        items = true;
        if (!s.expect('[')) {
          return false;
        }
        if (s.accept(']')) {
          continue;
        }
        do {
          s.skip_ws();
          const std::size_t start = s.pos();
          if (start >= body.size() || body[start] != '{' || !s.skip_value()) {
            return false;
          }
          page.items.push_back({start, s.pos() - start});
        } while (s.accept(','));
        if (!s.expect(']')) {
          return false;
        }
      } else if (name == "next_cursor" && !cursor) {
        cursor = true;
        if (!s.nullable_string(page.next_cursor)) {
          return false;
        }
      } else if (name == "items" || name == "next_cursor" || !s.skip_value()) {
        return false;
      }
    } while (s.accept(','));
    if (!s.expect('}')) {
      return false;
    }
  }
  s.skip_ws();
  return s.at_end() && items && cursor;
}

struct VtcClient::Impl
{
  VtcOptions options;
  std::function<std::int64_t()> now;
  Identity id;
  std::string api; // {source}{api_path}
  http::Transfers transfers;
  std::string token;
  int logins = 0;

  Impl(VtcOptions o, std::function<std::int64_t()> clock)
    : options(std::move(o)),
      now(std::move(clock)),
      id(load_identity(options.identity_file)),
      api(without_trailing_slash(options.source) + options.api_path),
      transfers(options.http)
  {
  }

  ~Impl() { util::wipe(token); }

  // One request; the answers that mean the same on every route are
  // thrown here.
  http::Response call(const char* method, const std::string& path,
                      const char* task, std::string body)
  {
    http::Request r;
    r.method = method;
    r.url = api + path;
    r.headers.emplace_back(task);
    if (!body.empty()) {
      r.headers.emplace_back("Content-Type: application/json");
    }
    if (!token.empty()) {
      r.headers.push_back("Authorization: Bearer " + token);
    }
    r.body = std::move(body);
    const std::string url = r.url.substr(0, r.url.find('?'));
    http::Response answer = transfers.perform(std::move(r));
    switch (answer.failure) {
    case http::Failure::none:
      break;
    case http::Failure::unreachable:
      throw SourceUnavailable(
        fmt::format("the VTC at {} cannot be reached: {}", url, answer.error));
    case http::Failure::tls:
      throw AuditError(ExitCode::config,
                       fmt::format("the VTC at {}: TLS failed: {} (is "
                                   "audit.ca_file the VTC's CA?)",
                                   url, answer.error));
    case http::Failure::local:
      throw AuditError(ExitCode::io_err,
                       fmt::format("the VTC at {}: {}", url, answer.error));
    }
    if (answer.status == 429 || answer.status >= 500) {
      throw SourceUnavailable(fmt::format("the VTC at {} answered HTTP {}: {}",
                                          url, answer.status,
                                          error_text(answer)));
    }
    if (answer.status == 404 || answer.status == 415) {
      unsupported(
        url, fmt::format("HTTP {} ({})", answer.status, error_text(answer)));
    }
    return answer;
  }

  // Throws the 78 that says this VTC's API is not the one vtc-sync reads.
  [[noreturn]] void unsupported(const std::string& url, const std::string& what)
  {
    std::string version = "unknown";
    http::Request r;
    r.method = "GET";
    r.url = without_trailing_slash(options.source) + "/health";
    const http::Response health = transfers.perform(std::move(r));
    if (health.failure == http::Failure::none && health.status == 200) {
      const auto j = nlohmann::json::parse(health.body, nullptr, false);
      if (const auto* v = string_member(j, "version")) {
        version = v->get<std::string>();
      }
    }
    throw AuditError(
      ExitCode::config,
      fmt::format("the VTC at {} answered {}: its API is not the one vtc-sync "
                  "reads (vtc-service 0.11); the VTC's version is {}",
                  url, what, version));
  }

  // Answers at login that the two steps share.
  void check_login_answer(const http::Response& r, const std::string& url)
  {
    if (r.status == 400) {
      throw SourceUnavailable(
        fmt::format("the VTC at {} refuses to log {} in for now (HTTP 400: {})",
                    url, id.did, error_text(r)));
    }
    if (r.status == 401) {
      throw AuditError(ExitCode::config,
                       fmt::format("the VTC at {} refused the login of {} "
                                   "(HTTP 401: {}); are vtc.did and the VTC's "
                                   "DID the same, and this host's clock not "
                                   "ahead of the VTC's?",
                                   url, id.did, error_text(r)));
    }
    if (r.status == 403) {
      throw AuditError(
        ExitCode::config,
        fmt::format("the VTC at {} does not let {} in (HTTP 403: {}): ask the "
                    "VTC's administrators to add this DID to its ACL as an "
                    "admin with no contexts",
                    url, id.did, error_text(r)));
    }
    if (r.status != 200) {
      throw AuditError(
        ExitCode::io_err,
        fmt::format("the VTC at {} answered HTTP {} to a login: {}", url,
                    r.status, error_text(r)));
    }
  }

  void login()
  {
    util::wipe(token);
    token.clear();
    const std::string challenge_url = api + "/auth/challenge";
    http::Response r = call("POST", "/auth/challenge", k_task_challenge,
                            nlohmann::json{{"subject", id.did}}.dump());
    check_login_answer(r, challenge_url);
    const auto challenge = nlohmann::json::parse(r.body, nullptr, false);
    const auto* nonce = string_member(challenge, "challenge");
    const auto* session = string_member(challenge, "sessionId");
    if (nonce == nullptr || session == nullptr) {
      unsupported(challenge_url, "a challenge without challenge and sessionId");
    }
    const nlohmann::json proof = {
      {"type", k_authenticate_type},
      {"payload",
       {{"id_token",
         make_id_token(id, options.vtc_did, nonce->get<std::string>(), now())},
        {"session_id", *session}}}};
    const std::string auth_url = api + "/auth/";
    r = call("POST", "/auth/", k_task_authenticate, proof.dump());
    check_login_answer(r, auth_url);
    auto answer = nlohmann::json::parse(r.body, nullptr, false);
    const nlohmann::json* access = nullptr;
    if (answer.is_object() && answer.contains("tokens")) {
      access = string_member(answer["tokens"], "accessToken");
    }
    if (access == nullptr || access->get_ref<const std::string&>().empty()) {
      unsupported(auth_url, "a login without tokens.accessToken");
    }
    token = access->get<std::string>();
    util::wipe(r.body);
    ++logins;
    if (options.on_login) {
      options.on_login(id.did);
    }
  }

  // A GET as the logged-in super-admin; one new login when the VTC ended
  // the session (another login as the same DID).
  http::Response get(const std::string& path, const char* task)
  {
    if (token.empty()) {
      login();
    }
    http::Response r = call("GET", path, task, "");
    if (r.status == 401 && logins < 2) {
      login();
      r = call("GET", path, task, "");
    }
    const std::string url = api + path.substr(0, path.find('?'));
    if (r.status == 401) {
      throw AuditError(
        ExitCode::config,
        fmt::format("the VTC at {} ended the session of {} again (HTTP 401: "
                    "{}): is another client logged in as the same DID? Give "
                    "each vtc-sync an identity of its own",
                    url, id.did, error_text(r)));
    }
    if (r.status == 403) {
      throw AuditError(
        ExitCode::config,
        fmt::format("{} may not read the VTC's audit log at {} (HTTP 403: {}): "
                    "ask the VTC's administrators to make it an admin with no "
                    "contexts",
                    id.did, url, error_text(r)));
    }
    return r;
  }
};

VtcClient::VtcClient(VtcOptions options, std::function<std::int64_t()> now)
  : m_impl(std::make_unique<Impl>(std::move(options), std::move(now)))
{
}

VtcClient::~VtcClient() = default;

const std::string& VtcClient::did() const
{
  return m_impl->id.did;
}

std::string VtcClient::audit_url() const
{
  return m_impl->api + "/audit";
}

int VtcClient::logins() const
{
  return m_impl->logins;
}

std::optional<AuditPage> VtcClient::audit_page(std::int64_t limit,
                                               const std::string& cursor)
{
  std::string path = fmt::format("/audit?limit={}", limit);
  if (!cursor.empty()) {
    path += "&cursor=" + query_escape(cursor);
  }
  http::Response r = m_impl->get(path, k_task_list);
  if (r.status == 400 && !cursor.empty() &&
      error_text(r) == "invalid pagination cursor") {
    return std::nullopt;
  }
  if (r.status != 200) {
    throw AuditError(ExitCode::io_err,
                     fmt::format("the VTC at {} answered HTTP {}: {}",
                                 audit_url(), r.status, error_text(r)));
  }
  AuditPage page;
  page.body = std::move(r.body);
  if (!split_page(page)) {
    m_impl->unsupported(audit_url(), "a page that is not {\"items\":[…],"
                                     "\"next_cursor\":…}");
  }
  return page;
}

VtcVerdict VtcClient::verify()
{
  const std::string url = m_impl->api + "/audit/verify";
  http::Response r = m_impl->get("/audit/verify", k_task_verify);
  if (r.status != 200) {
    throw AuditError(ExitCode::io_err,
                     fmt::format("the VTC at {} answered HTTP {}: {}", url,
                                 r.status, error_text(r)));
  }
  const auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (!j.is_object() || !j.contains("verified") ||
      !j["verified"].is_boolean()) {
    m_impl->unsupported(url, "a verdict without verified");
  }
  VtcVerdict v;
  v.verified = j["verified"].get<bool>();
  if (const auto* head = string_member(j, "head")) {
    v.head = head->get<std::string>();
  }
  return v;
}

} // namespace vtc::audit
