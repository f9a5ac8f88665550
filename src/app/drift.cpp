#include "app/drift.hpp"

#include "util/error.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <map>
#include <set>

namespace vtc::app {

namespace {

nlohmann::json parse(const std::string& text)
{
  return nlohmann::json::parse(text, nullptr, false);
}

} // namespace

DriftReport compare_records(const std::vector<MirrorRecord>& mirror,
                            const std::vector<ListedRecord>& listed)
{
  DriftReport report;
  std::map<std::string, const ListedRecord*> in_registry;
  for (const auto& r : listed) {
    in_registry.emplace(r.id, &r);
  }
  report.listed = static_cast<std::int64_t>(in_registry.size());
  std::set<std::string> seen;
  for (const auto& m : mirror) {
    seen.insert(m.id);
    const auto it = in_registry.find(m.id);
    const std::string registry =
      it == in_registry.end() ? "" : it->second->record;
    if (!m.confirmed) {
      report.unconfirmed.push_back({m.id, m.record, registry});
    } else if (it == in_registry.end()) {
      report.missing.push_back({m.id, m.record, ""});
    } else if (parse(m.record) != parse(registry)) {
      report.mismatched.push_back({m.id, m.record, registry});
    } else {
      ++report.in_step;
    }
  }
  for (const auto& [id, r] : in_registry) {
    if (!seen.contains(id)) {
      report.unknown.push_back({id, "", r->record});
    }
  }
  return report;
}

namespace {

MirrorRecord mirror_record(const MirroredMember& mm,
                           const RecordBuilder& records)
{
  MirrorRecord m;
  m.id = records.id(mm.member.did);
  m.confirmed = mm.mirror == MirrorState::present;
  if (!mm.mirror_body.empty()) {
    // The mirror keeps the PUT body, {"record": {…}}.
    const auto body = parse(mm.mirror_body);
    if (body.is_object() && body.contains("record")) {
      m.record = body["record"].dump();
    }
  }
  return m;
}

} // namespace

std::vector<MirrorRecord> mirror_records(MirrorStore& store,
                                         const RecordBuilder& records)
{
  std::vector<MirrorRecord> out;
  for (const auto& mm : store.mirrored_members()) {
    if (mm.mirror != MirrorState::absent) {
      out.push_back(mirror_record(mm, records));
    }
  }
  return out;
}

std::optional<MirrorRecord> mirror_record(MirrorStore& store,
                                          const RecordBuilder& records,
                                          const std::string& did)
{
  const auto mm = store.mirrored_member(did);
  if (!mm || mm->mirror == MirrorState::absent) {
    return std::nullopt;
  }
  return mirror_record(*mm, records);
}

DriftReport drift(MirrorStore& store, RegistryListing& listing,
                  const RecordBuilder& records)
{
  std::vector<ListedRecord> listed;
  std::set<std::string> cursors;
  std::string cursor;
  std::int64_t pages = 0;
  do {
    ListingPage page = listing.page(cursor);
    ++pages;
    for (auto& r : page.records) {
      listed.push_back(std::move(r));
    }
    cursor = page.next_cursor;
    if (!cursor.empty() && !cursors.insert(cursor).second) {
      throw Error(ExitCode::protocol,
                  fmt::format("registry listing: page {} repeats cursor '{}'; "
                              "the listing would never end",
                              pages, cursor));
    }
  } while (!cursor.empty());
  DriftReport report = compare_records(mirror_records(store, records), listed);
  report.pages = pages;
  return report;
}

} // namespace vtc::app
