// records list / records show: the local mirror of the registry; drift: the
// mirror compared with the registry's own listing.

#include "app/drift.hpp"
#include "cli/commands.hpp"
#include "cli/render.hpp"
#include "registry/listing.hpp"
#include "util/error.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <iostream>

namespace vtc::cli {

namespace {

constexpr std::int64_t k_listing_page = 500;

nlohmann::ordered_json record_json(const std::string& text)
{
  return text.empty() ? nlohmann::ordered_json()
                      : nlohmann::ordered_json::parse(text, nullptr, false);
}

std::string context_field(const std::string& record, const char* field)
{
  const auto r = record_json(record);
  if (r.is_object() && r.contains("context") && r["context"].is_object() &&
      r["context"].contains(field) && r["context"][field].is_string()) {
    return r["context"][field].get<std::string>();
  }
  return "";
}

const char* state_name(const app::MirrorRecord& m)
{
  return m.confirmed ? "present" : "unconfirmed";
}

ExitCode run_list(const Globals& globals, bool json)
{
  const config::Config cfg = load_config(globals);
  SystemClock clock;
  auto store = open_store(cfg, store::OpenMode::read_only, clock);
  const registry::Records records(record_key(cfg));
  const auto mirror = app::mirror_records(*store, records);
  if (json) {
    for (const auto& m : mirror) {
      nlohmann::ordered_json line{{"id", m.id}, {"state", state_name(m)}};
      line["record"] = record_json(m.record);
      std::cout << line.dump() << '\n';
    }
    return ExitCode::ok;
  }
  std::vector<std::vector<std::string>> rows{
    {"RECORD", "STATE", "STATUS", "ACTIVE FROM", "ACTIVE TO"}};
  for (const auto& m : mirror) {
    rows.push_back({m.id, state_name(m), context_field(m.record, "status"),
                    context_field(m.record, "activeFrom"),
                    context_field(m.record, "activeTo")});
  }
  std::cout << table(rows);
  return ExitCode::ok;
}

ExitCode run_show(const Globals& globals, const std::string& did, bool json)
{
  const config::Config cfg = load_config(globals);
  SystemClock clock;
  auto store = open_store(cfg, store::OpenMode::read_only, clock);
  const auto member = store->find_member(did);
  if (!member) {
    throw NoInputError("records show: no member has that DID");
  }
  const std::string_view status = core::to_string(member->state.status);
  const std::string_view consent = core::to_string(member->state.consent);
  const registry::Records records(record_key(cfg));
  const std::string id = records.id(did);
  const auto found = app::mirror_record(*store, records, did);
  const char* state = found ? state_name(*found) : "absent";
  const std::string record = found ? found->record : "";
  if (json) {
    nlohmann::ordered_json doc{{"id", id}, {"state", state}};
    doc["record"] = record_json(record);
    doc["member"] = {{"status", status}, {"consent", consent}};
    std::cout << doc.dump() << '\n';
  } else {
    std::cout << fmt::format("record {}: {}\nmember: {}, consent {}\n", id,
                             state, status, consent);
    if (!record.empty()) {
      std::cout << record_json(record).dump(2) << '\n';
    }
  }
  return ExitCode::ok;
}

nlohmann::ordered_json items_json(const std::vector<app::DriftItem>& items)
{
  auto out = nlohmann::ordered_json::array();
  for (const auto& i : items) {
    nlohmann::ordered_json o{{"id", i.id}};
    o["mirror"] = record_json(i.mirror);
    o["registry"] = record_json(i.registry);
    out.push_back(std::move(o));
  }
  return out;
}

ExitCode run_drift(const Globals& globals, bool json)
{
  const config::Config cfg = load_config(globals);
  SystemClock clock;
  auto store = open_store(cfg, store::OpenMode::read_only, clock);
  const registry::Records records(record_key(cfg));
  registry::HttpListing listing(registry_options(cfg), k_listing_page);
  const app::DriftReport r = app::drift(*store, listing, records);
  if (json) {
    nlohmann::ordered_json doc{{"in_step", !r.differ()},
                               {"pages", r.pages},
                               {"listed", r.listed},
                               {"same", r.in_step}};
    doc["missing"] = items_json(r.missing);
    doc["mismatched"] = items_json(r.mismatched);
    doc["unknown"] = items_json(r.unknown);
    doc["unconfirmed"] = items_json(r.unconfirmed);
    std::cout << doc.dump() << '\n';
  } else {
    std::cout << fmt::format(
      "drift: the registry listed {} record(s) in {} page(s): {} the same, "
      "{} missing, {} mismatched, {} unknown, {} unconfirmed\n",
      r.listed, r.pages, r.in_step, r.missing.size(), r.mismatched.size(),
      r.unknown.size(), r.unconfirmed.size());
    std::vector<std::vector<std::string>> rows;
    const auto add = [&](const char* what,
                         const std::vector<app::DriftItem>& items) {
      for (const auto& i : items) {
        rows.push_back({std::string("  ") + what, i.id});
      }
    };
    add("missing", r.missing);
    add("mismatched", r.mismatched);
    add("unknown", r.unknown);
    add("unconfirmed", r.unconfirmed);
    std::cout << table(rows);
  }
  return r.differ() ? ExitCode::differ : ExitCode::ok;
}

} // namespace

void register_records(CLI::App& app, const Globals& globals, Action& action)
{
  CLI::App* cmd =
    app.add_subcommand("records", "the local mirror of the registry's records");
  cmd->require_subcommand(1);

  auto list_json = std::make_shared<bool>(false);
  CLI::App* list = cmd->add_subcommand("list", "list the mirror's records");
  list->add_flag("--json", *list_json, "NDJSON, one record per line");
  list->callback([&globals, &action, list_json] {
    action = [&globals, list_json] { return run_list(globals, *list_json); };
  });

  auto did = std::make_shared<std::string>();
  auto show_json = std::make_shared<bool>(false);
  CLI::App* show =
    cmd->add_subcommand("show", "show the mirror's record of a member");
  show->add_option("DID", *did, "the member's DID")->required();
  show->add_flag("--json", *show_json, "one JSON document");
  show->callback([&globals, &action, did, show_json] {
    action = [&globals, did, show_json] {
      return run_show(globals, *did, *show_json);
    };
  });
}

void register_drift(CLI::App& app, const Globals& globals, Action& action)
{
  auto json = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand(
    "drift",
    "compare the mirror with the registry's listing; exit 1 on differences");
  cmd->add_flag("--json", *json, "one JSON document");
  cmd->callback([&globals, &action, json] {
    action = [&globals, json] { return run_drift(globals, *json); };
  });
}

} // namespace vtc::cli
