#include "audit/envelope.hpp"

#include "audit/json_scan.hpp"
#include "util/encoding.hpp"

#include <algorithm>
#include <iterator>

namespace vtc::audit {

namespace {

bool fail(std::string& why, const char* what)
{
  why = what;
  return false;
}

bool read_uuid(JsonScanner& s, std::string& scratch, std::string& text,
               Uuid& bytes)
{
  std::string_view value;
  if (!s.string(value, scratch)) {
    return false;
  }
  const auto parsed = parse_uuid(value);
  if (!parsed) {
    return false;
  }
  bytes = *parsed;
  text.assign(value);
  return true;
}

bool read_digest(JsonScanner& s, std::string& scratch, std::string_view& text,
                 util::Digest& out)
{
  if (!s.string(text, scratch)) {
    return false;
  }
  const auto d = util::decode_digest(text);
  if (!d) {
    return false;
  }
  out = *d;
  return true;
}

// Reads `fieldsChanged`: an array of strings; notes whether it names
// publishConsent. Any other value leaves it unnamed, but must be valid JSON.
bool read_fields_changed(JsonScanner& s, Envelope& env)
{
  if (!s.accept('[')) {
    return s.skip_value(62);
  }
  if (s.accept(']')) {
    return true;
  }
  std::string_view field;
  std::string scratch;
  do {
    JsonScanner probe = s;
    if (probe.string(field, scratch)) {
      s = probe;
      env.consent_changed = env.consent_changed || field == "publishConsent";
    } else if (!s.skip_value(61)) {
      return false;
    }
  } while (s.accept(','));
  return s.expect(']');
}

// Reads one `changes` item; `field` and `value` get its field name and its
// `new` value when they are a string and a boolean. A repeated member of
// the two is ambiguous and rejected.
bool read_change(JsonScanner& s, std::string& field, std::optional<bool>& value)
{
  field.clear();
  value.reset();
  if (s.accept('}')) {
    return true;
  }
  std::string_view name;
  std::string scratch;
  bool seen_field = false;
  bool seen_new = false;
  do {
    if (!s.string(name, scratch) || !s.expect(':')) {
      return false;
    }
    bool* seen = name == "field" ? &seen_field
                 : name == "new" ? &seen_new
                                 : nullptr;
    if (seen != nullptr) {
      if (*seen) {
        return false;
      }
      *seen = true;
    }
    JsonScanner probe = s;
    bool flag = false;
    if (seen == &seen_field && probe.string(field)) {
      s = probe;
    } else if (seen == &seen_new && probe.accept_bool(flag)) {
      value = flag;
      s = probe;
    } else if (!s.skip_value(60)) {
      return false;
    }
  } while (s.accept(','));
  return s.expect('}');
}

// Reads `changes`, an array of {"field":…,"old":…,"new":…}, keeping the new
// value of publishConsent. Two items for it that disagree say nothing.
bool read_changes(JsonScanner& s, Envelope& env)
{
  if (!s.accept('[')) {
    return s.skip_value(62);
  }
  if (s.accept(']')) {
    return true;
  }
  std::string field;
  std::optional<bool> value;
  bool seen = false;
  bool conflict = false;
  do {
    if (!s.accept('{')) {
      if (!s.skip_value(61)) {
        return false;
      }
      continue;
    }
    if (!read_change(s, field, value)) {
      return false;
    }
    if (field == "publishConsent") {
      conflict = conflict || (seen && value != env.consent_new);
      env.consent_new = value;
      seen = true;
    }
  } while (s.accept(','));
  if (conflict) {
    env.consent_new.reset();
  }
  return s.expect(']');
}

// Reads the `data` object, keeping the members the state machine needs. A
// repeated member among those is ambiguous and rejected.
bool read_data(JsonScanner& s, Envelope& env)
{
  if (!s.expect('{')) {
    return false;
  }
  if (s.accept('}')) {
    return true;
  }
  std::string_view name;
  std::string scratch;
  // role, newRole, disposition, oldDid, newDid, fieldsChanged, changes
  bool seen[7] = {};
  std::optional<std::string>* const strings[5] = {
    &env.role, &env.new_role, &env.disposition, &env.old_did, &env.new_did};
  do {
    if (!s.string(name, scratch) || !s.expect(':')) {
      return false;
    }
    static constexpr std::string_view k_names[7] = {
      "role",   "newRole",       "disposition", "oldDid",
      "newDid", "fieldsChanged", "changes"};
    const auto* found = std::find(std::begin(k_names), std::end(k_names), name);
    const int member = found == std::end(k_names)
                         ? -1
                         : static_cast<int>(found - std::begin(k_names));
    if (member < 0) {
      if (!s.skip_value(63)) {
        return false;
      }
      continue;
    }
    if (seen[member]) {
      return false;
    }
    seen[member] = true;
    if (member == 5 || member == 6) {
      if (!(member == 5 ? read_fields_changed(s, env) : read_changes(s, env))) {
        return false;
      }
      continue;
    }
    std::optional<std::string>& slot = *strings[member];
    JsonScanner probe = s;
    if (probe.nullable_string(slot)) {
      s = probe;
    } else {
      // Not a string: it stays absent, but must still be valid JSON.
      slot.reset();
      if (!s.skip_value(63)) {
        return false;
      }
    }
  } while (s.accept(','));
  return s.expect('}');
}

// The reading position in one line and the buffers the readers below
// share: `scratch` holds decoded copies of strings that carry escapes (the
// usual unescaped ones are read in place), `text` the last string read.
struct Reader
{
  JsonScanner s;
  std::string scratch;
  std::string_view text;
};

// event_id through actor_did_plain, the members every entry starts with.
bool read_head(Reader& r, Envelope& e, std::string& why)
{
  JsonScanner& s = r.s;
  if (!s.expect('{')) {
    return fail(why, "not a JSON object");
  }
  if (!s.key("event_id") ||
      !read_uuid(s, r.scratch, e.event_id, e.event_id_bytes)) {
    return fail(why, "event_id missing or not a UUID");
  }
  if (!s.expect(',') || !s.key("event_version") || !s.uint32(e.event_version)) {
    return fail(why, "event_version missing or not an unsigned integer");
  }
  if (!s.expect(',') || !s.key("schema_version") ||
      !s.uint32(e.schema_version)) {
    return fail(why, "schema_version missing or not an unsigned integer");
  }
  if (!s.expect(',') || !s.key("timestamp") || !s.string(r.text, r.scratch)) {
    return fail(why, "timestamp missing");
  }
  const auto t = core::parse_rfc3339(r.text);
  if (!t) {
    return fail(why, "timestamp is not RFC 3339 UTC with Z");
  }
  e.time = *t;
  if (!s.expect(',') || !s.key("audit_key_id") ||
      !read_uuid(s, r.scratch, e.key_id, e.key_id_bytes)) {
    return fail(why, "audit_key_id missing or not a UUID");
  }
  if (!s.expect(',') || !s.key("actor_did_hash") ||
      !read_digest(s, r.scratch, r.text, e.actor_hash)) {
    return fail(why, "actor_did_hash missing or not canonical base64url");
  }
  e.actor_hash_text.assign(r.text);
  if (!s.expect(',') || !s.key("actor_did_plain") ||
      !s.nullable_string(e.actor_plain)) {
    return fail(why, "actor_did_plain missing or not a string or null");
  }
  return true;
}

// target_did_hash (a digest or null) and target_did_plain.
bool read_target(Reader& r, Envelope& e, std::string& why)
{
  JsonScanner& s = r.s;
  if (!s.expect(',') || !s.key("target_did_hash")) {
    return fail(why, "target_did_hash missing");
  }
  e.target_hash.reset();
  e.target_hash_text.clear();
  if (!s.accept_null()) {
    if (!s.string(r.text, r.scratch)) {
      return fail(why, "target_did_hash not a string or null");
    }
    e.target_hash = util::decode_digest(r.text);
    if (!e.target_hash) {
      return fail(why, "target_did_hash not canonical base64url");
    }
    e.target_hash_text.assign(r.text);
  }
  if (!s.expect(',') || !s.key("target_did_plain") ||
      !s.nullable_string(e.target_plain)) {
    return fail(why, "target_did_plain missing or not a string or null");
  }
  if (!s.expect(',')) {
    return fail(why, "members missing after target_did_plain");
  }
  return true;
}

// prev_hash and entry_hash, which only a version-2 entry carries.
bool read_chain(Reader& r, Envelope& e, std::string& why)
{
  JsonScanner& s = r.s;
  e.chained = false;
  if (!s.key("prev_hash")) {
    return true;
  }
  if (!read_digest(s, r.scratch, r.text, e.prev_hash)) {
    return fail(why, "prev_hash not canonical base64url");
  }
  if (!s.expect(',') || !s.key("entry_hash") ||
      !read_digest(s, r.scratch, r.text, e.entry_hash)) {
    return fail(why, "entry_hash missing or not canonical base64url");
  }
  e.entry_hash_text.assign(r.text);
  if (!s.expect(',')) {
    return fail(why, "entry_hash missing or not canonical base64url");
  }
  e.chained = true;
  return true;
}

// `event`, {"type":…,"data":…}, through the end of the line; `event_raw`
// gets its bytes as they stand in `line`.
bool read_event(Reader& r, std::string_view line, Envelope& e, std::string& why)
{
  JsonScanner& s = r.s;
  if (!s.key("event")) {
    return fail(why, "event missing or members out of order");
  }
  s.skip_ws();
  const std::size_t event_start = s.pos();
  if (!s.expect('{') || !s.key("type") || !s.string(r.text, r.scratch) ||
      !s.expect(',') || !s.key("data")) {
    return fail(why, "event is not {\"type\":…,\"data\":…}");
  }
  e.event_type.assign(r.text);
  e.role.reset();
  e.new_role.reset();
  e.disposition.reset();
  e.old_did.reset();
  e.new_did.reset();
  e.consent_changed = false;
  e.consent_new.reset();
  e.rotation_hashes_differ = false;
  if (!read_data(s, e)) {
    return fail(why, "event data is not a valid object");
  }
  if (!s.expect('}')) {
    return fail(why, "event has members other than type and data");
  }
  e.event_raw = line.substr(event_start, s.pos() - event_start);
  if (!s.expect('}')) {
    return fail(why, "members after event");
  }
  s.skip_ws();
  if (!s.at_end()) {
    return fail(why, "trailing bytes after the object");
  }
  return true;
}

} // namespace

bool parse_envelope(std::string_view line, Envelope& e, std::string& why)
{
  // The members come in a fixed order, so each reader takes up where the
  // one before it stopped.
  Reader r{JsonScanner(line), {}, {}};
  return read_head(r, e, why) && read_target(r, e, why) &&
         read_chain(r, e, why) && read_event(r, line, e, why);
}

} // namespace vtc::audit
