// Consent and DID rotation through the walk and dispatch's store calls:
// entries come from an in-memory AuditLog, the state database is a real
// SQLite file, and "sending" claims jobs and records answers the way
// dispatch does, so what a request would be is what registry::request_for
// builds from the claimed job.

#include "app/walk.hpp"
#include "binding.hpp"
#include "fake_audit_log.hpp"
#include "fake_clock.hpp"
#include "registry/record.hpp"
#include "store/sqlite_store.hpp"
#include "temp_dir.hpp"
#include "util/digest.hpp"
#include "util/encoding.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <set>
#include <string>
#include <vector>

using namespace vtc;
using core::JobKind;
using core::MemberStatus;

namespace {

constexpr core::TimeNs k_now = 1'772'323'200LL * core::k_ns_per_second;
const std::string k_key_id = "3b0a9c52-6d1e-4f0a-9b7e-2c4d5e6f7a81";
const std::string k_admin = "did:key:z6MkAdmin";

// A stand-in for HMAC(key, DID): any 32 bytes that differ per DID.
std::string hash_of(const std::string& did)
{
  return util::base64url_encode(util::sha256("hmac:" + did));
}

// A community's log, written entry by entry; walk() walks what is new.
class Log
{
public:
  app::Entry& add(const std::string& type, const std::string& actor,
                  const std::string& target)
  {
    app::Entry e;
    e.line = static_cast<std::int64_t>(m_entries.size() + 1);
    e.event_id = util::format_uuid(std::span<const std::uint8_t, 16>(
      util::sha256(std::to_string(e.line)).data(), 16));
    e.time = k_now - 1000 + e.line;
    e.event_type = type;
    e.membership = true;
    e.key_id = k_key_id;
    e.target_hash = hash_of(target);
    e.target_did = target;
    e.actor_hash = hash_of(actor);
    e.actor_did = actor;
    e.self_request = actor == target;
    e.nonce = e.line * 7919;
    m_entries.push_back(e);
    return m_entries.back();
  }
  void added(const std::string& did)
  {
    add("MemberAdded", k_admin, did).role = "member";
  }
  void removed(const std::string& did, const std::string& disposition)
  {
    add("MemberRemoved", k_admin, did).disposition = disposition;
  }
  app::Entry& consent(const std::string& did, std::optional<bool> value)
  {
    app::Entry& e = add("MemberUpdated", did, did);
    e.consent_changed = true;
    e.consent_new = value;
    return e;
  }
  app::Entry& rotated(const std::string& old_did, const std::string& new_did)
  {
    app::Entry& e = add("DidRotated", new_did, old_did);
    e.old_did = old_did;
    e.new_did = new_did;
    return e;
  }
  const std::vector<app::Entry>& entries() const { return m_entries; }

private:
  std::vector<app::Entry> m_entries;
};

const registry::RecordKey k_record_key{
  "did:webvh:QmCommunity:community.example", "recognise", "trust-graph",
  "recognition"};

struct Sent
{
  std::string job_id;
  std::string method;
  std::string did;
  std::string key;
};

struct World
{
  test::TempDir dir;
  std::string path = dir.file("state.db");
  test::FakeClock clock{k_now};
  store::SqliteStore store{path, store::OpenMode::pass, test::binding(), clock};
  registry::Records records{k_record_key};
  core::Policy policy;
  Log log;

  app::WalkResult walk()
  {
    test::FakeAuditLog source(log.entries());
    app::WalkOptions o;
    o.policy = [this] { return &policy; };
    o.retire_job_id = [this](const std::string& did) {
      return records.retire_job_id(did);
    };
    return app::walk(source, store, clock, o);
  }

  // Claims every due job and answers each request `status`; returns what
  // was sent. `skipped` counts the jobs that sent nothing.
  std::vector<Sent> send(int status = 200, std::int64_t* skipped = nullptr)
  {
    std::int64_t none = 0;
    app::DispatchStep step;
    step.claim = 100;
    step.now = k_now;
    step.scope = app::ClaimScope::all;
    step.publication = policy.publication();
    const auto jobs = store.dispatch_step(step, none);
    if (skipped != nullptr) {
      *skipped = none;
    }
    std::vector<Sent> sent;
    std::vector<app::Finished> done;
    for (const auto& j : jobs) {
      app::Finished f;
      f.job = j;
      f.sent = registry::request_for(k_record_key, j);
      f.answer = {status < 300 ? core::AnswerClass::success
                               : core::AnswerClass::transient,
                  status, std::nullopt, std::to_string(status)};
      f.step = status < 300 ? core::NextStep::done : core::NextStep::retry;
      f.due = k_now;
      sent.push_back({j.id, f.sent.method, j.did, f.sent.idempotency_key});
      done.push_back(std::move(f));
    }
    store.finish(done, core::Health{}, std::nullopt);
    return sent;
  }

  std::int64_t count(const std::string& sql)
  {
    SQLite::Database db(path, SQLite::OPEN_READONLY);
    return db.execAndGet(sql).getInt64();
  }

  std::vector<std::string> outcome_reasons(const std::string& kind)
  {
    std::vector<std::string> out;
    for (const auto& o : store.outcomes(0, 1000)) {
      if (o.kind == kind) {
        const auto d = nlohmann::json::parse(o.detail, nullptr, false);
        out.push_back(d.is_object() ? d.value("reason", "") : "");
      }
    }
    return out;
  }

  std::set<std::string> live_kinds()
  {
    std::set<std::string> out;
    for (const auto& j : store.jobs({})) {
      out.insert(std::string(core::to_string(j.kind)));
    }
    return out;
  }
};

const std::string k_old = "did:key:z6MkOld";
const std::string k_new = "did:key:z6MkNew";

} // namespace

TEST_CASE("identity: rotating a published member retires the old record")
{
  World w;
  w.log.added(k_old);
  w.walk();
  REQUIRE(w.send().size() == 1);
  w.log.rotated(k_old, k_new);
  const auto r = w.walk();
  CHECK(r.jobs_created == 2);
  CHECK(w.live_kinds() == std::set<std::string>{"publish", "retire"});

  const auto sent = w.send();
  REQUIRE(sent.size() == 2);
  std::map<std::string, Sent> by_method;
  for (const auto& s : sent) {
    by_method[s.method] = s;
  }
  CHECK(by_method["DELETE"].did == k_old);
  CHECK(by_method["DELETE"].job_id == w.records.retire_job_id(k_old));
  CHECK(by_method["DELETE"].job_id.starts_with("retire:"));
  CHECK(by_method["PUT"].did == k_new);
  CHECK(by_method["PUT"].job_id == w.log.entries().back().event_id);

  // The old DID is gone; the member continues under the new one, and the
  // old DID's hash still names it in a redacted entry.
  CHECK_FALSE(w.store.find_member(k_old).has_value());
  CHECK(w.count("SELECT count(*) FROM members WHERE did = '" + k_old + "'") ==
        0);
  const auto m = w.store.find_member(k_new);
  REQUIRE(m.has_value());
  CHECK(m->state.status == MemberStatus::active);
  CHECK(m->state.role == "member");
  const auto by_old_hash = w.store.find_member_by_key(k_key_id, hash_of(k_old));
  REQUIRE(by_old_hash.has_value());
  CHECK(by_old_hash->did == k_new);
  CHECK(w.store.find_member_by_key(k_key_id, hash_of(k_new))->did == k_new);
  CHECK(w.store.jobs({}).empty());
}

TEST_CASE("identity: a rotation before anything was published deletes nothing")
{
  World w;
  w.log.added(k_old);
  w.log.rotated(k_old, k_new);
  const auto r = w.walk();
  CHECK(r.dids_forgotten == 1);
  // The pending publish was superseded; the new DID's publish is the job.
  CHECK(w.outcome_reasons("superseded").size() == 1);
  CHECK(w.live_kinds() == std::set<std::string>{"publish"});
  CHECK_FALSE(w.store.find_member(k_old).has_value());
  const auto sent = w.send();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].method == "PUT");
  CHECK(sent[0].did == k_new);
}

TEST_CASE("identity: a departed member's rotation only retires its record")
{
  World w;
  w.log.added(k_old);
  w.log.removed(k_old, "tombstone");
  w.walk();
  REQUIRE(w.send().size() == 1); // the departed record
  w.log.rotated(k_old, k_new);
  w.walk();
  CHECK(w.live_kinds() == std::set<std::string>{"retire"});
  const auto sent = w.send();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].method == "DELETE");
  CHECK(sent[0].did == k_old);
  const auto m = w.store.find_member(k_new);
  REQUIRE(m.has_value());
  CHECK(m->state.status == MemberStatus::departed);
}

TEST_CASE("identity: rotations of non-members and onto members move nothing")
{
  World w;
  w.log.added("did:key:z6MkTaken");
  w.log.added(k_old);
  w.log.removed("did:key:z6MkGone", "purge");
  w.log.rotated("did:key:z6MkStranger", k_new);    // unknown
  w.log.rotated(k_old, "did:key:z6MkTaken");       // new DID taken
  w.log.rotated(k_old, k_old);                     // same DID
  app::Entry& lying = w.log.rotated(k_old, k_new); // plaintext differs
  lying.actor_did = "did:key:z6MkSomeoneElse";
  app::Entry& forged = w.log.rotated(k_old, k_new); // hashes differ
  forged.rotation_hashes_differ = true;
  w.walk();
  CHECK(w.outcome_reasons("skipped") ==
        std::vector<std::string>{"not_a_member"});
  CHECK(w.outcome_reasons("invalid_event") ==
        std::vector<std::string>{"new_did_taken", "did_mismatch",
                                 "did_mismatch", "did_mismatch"});
  CHECK(w.store.find_member(k_old).has_value());
  CHECK_FALSE(w.store.find_member(k_new).has_value());
  CHECK_FALSE(w.store.find_member("did:key:z6MkStranger").has_value());
}

TEST_CASE(
  "identity: a purged member cannot rotate; a rotated one can be purged")
{
  SUBCASE("removal, then rotation of the removed DID")
  {
    World w;
    w.log.added(k_old);
    w.log.removed(k_old, "purge");
    w.log.rotated(k_old, k_new);
    w.walk();
    CHECK(w.outcome_reasons("skipped") ==
          std::vector<std::string>{"not_a_member"});
    CHECK_FALSE(w.store.find_member(k_new).has_value());
  }
  SUBCASE("rotation, then removal under the new DID: two records, two jobs")
  {
    World w;
    w.log.added(k_old);
    w.walk();
    w.send();
    w.log.rotated(k_old, k_new);
    w.log.removed(k_new, "purge");
    w.walk();
    CHECK(w.live_kinds() == std::set<std::string>{"delete", "retire"});
    const auto sent = w.send();
    REQUIRE(sent.size() == 2);
    std::set<std::string> deleted;
    for (const auto& s : sent) {
      CHECK(s.method == "DELETE");
      deleted.insert(s.did);
    }
    CHECK(deleted == std::set<std::string>{k_old, k_new});
    CHECK(w.count("SELECT count(*) FROM members") == 0);
    CHECK(w.count("SELECT count(*) FROM former_keys") == 0);
  }
}

TEST_CASE("identity: a withdrawal deletes the record and keeps the member")
{
  World w;
  w.log.added(k_old);
  w.walk();
  w.send();
  w.log.consent(k_old, false);
  w.walk();
  CHECK(w.live_kinds() == std::set<std::string>{"withdraw"});
  auto sent = w.send();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].method == "DELETE");
  const auto m = w.store.find_member(k_old);
  REQUIRE(m.has_value());
  CHECK(m->state.status == MemberStatus::active);
  CHECK(m->state.consent == core::Consent::withdrawn);
  CHECK(w.count("SELECT count(*) FROM mirror") == 0);

  // A role change while withdrawn sends nothing.
  w.log.add("RoleChanged", k_admin, k_old).role = "moderator";
  w.walk();
  std::int64_t skipped = 0;
  CHECK(w.send(200, &skipped).empty());
  CHECK(skipped == 1);
  CHECK(w.outcome_reasons("skipped").back() == "consent");

  // A grant publishes again, from the current state.
  w.log.consent(k_old, true);
  w.walk();
  sent = w.send();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].method == "PUT");
}

TEST_CASE(
  "identity: a withdrawal that supersedes a pending publish sends nothing")
{
  World w;
  w.log.added(k_old);
  w.log.consent(k_old, false);
  w.walk();
  std::int64_t skipped = 0;
  CHECK(w.send(200, &skipped).empty());
  CHECK(skipped == 1);
}

TEST_CASE("identity: a consent change without a value is taken as withdrawn")
{
  World w;
  w.log.added(k_old);
  w.walk();
  w.send();
  w.log.consent(k_old, std::nullopt);
  w.walk();
  CHECK(w.outcome_reasons("policy_override") ==
        std::vector<std::string>{"consent_assumed_withdrawn"});
  CHECK(w.store.find_member(k_old)->state.consent == core::Consent::withdrawn);
  const auto sent = w.send();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].method == "DELETE");
}

TEST_CASE("identity: MemberUpdated of other fields creates nothing")
{
  World w;
  w.log.added(k_old);
  w.walk();
  w.send();
  w.log.add("MemberUpdated", k_old, k_old); // fieldsChanged without consent
  const auto r = w.walk();
  CHECK(r.jobs_created == 0);
  CHECK(w.store.outcomes(0, 100).size() == 1); // the publish's success
}

TEST_CASE("identity: require_consent keeps members of unknown consent out")
{
  World w;
  w.policy.require_consent = true;
  w.log.added(k_old);
  w.walk();
  std::int64_t skipped = 0;
  CHECK(w.send(200, &skipped).empty());
  CHECK(skipped == 1);
  // A grant is a change under require_consent: it publishes.
  w.log.consent(k_old, true);
  w.walk();
  const auto sent = w.send();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].method == "PUT");
}

TEST_CASE("identity: a repeated event id gives each request its own key")
{
  World w;
  w.log.added("did:key:z6MkAlice");
  w.log.added("did:key:z6MkBob");
  // The log repeats the first entry's event id for Bob.
  auto& entries = const_cast<std::vector<app::Entry>&>(w.log.entries());
  entries[1].event_id = entries[0].event_id;
  w.walk();
  const auto first = w.send(503);
  REQUIRE(first.size() == 2);
  CHECK(first[0].job_id == first[1].job_id);
  CHECK(first[0].key != first[1].key);
  // A retry of the same request keeps its key.
  const auto again = w.send(200);
  REQUIRE(again.size() == 2);
  std::set<std::string> a{first[0].key, first[1].key};
  std::set<std::string> b{again[0].key, again[1].key};
  CHECK(a == b);
}

TEST_CASE(
  "identity: a consent change of a non-member is skipped, nothing assumed")
{
  World w;
  w.log.consent("did:key:z6MkNobody", std::nullopt);
  w.log.consent("did:key:z6MkNobodyEither", true);
  w.walk();
  CHECK(w.outcome_reasons("skipped") ==
        std::vector<std::string>{"not_a_member", "not_a_member"});
  CHECK(w.outcome_reasons("policy_override").empty());
  CHECK(w.count("SELECT count(*) FROM members") == 0);
}
