#include "config/toml_file.hpp"

#include "config/toml_guard.hpp"
#include "util/error.hpp"

#include <cctype>
#include <cstdint>
#include <filesystem>
#include <fmt/core.h>

// toml++'s internal assertions check its own parser's states, and some are
// reachable by malformed input ("[*state]" aborts in parse_key()). With
// them off, as in toml++'s release builds, the parser reports such input
// as the parse error it is.
#define TOML_ASSERT(expr) static_cast<void>(0)
#include <toml++/toml.h>

namespace vtc::config {

namespace {

// toml++ says "Error while parsing table header: expected ']'"; the message
// already starts with file:line:col, so the preamble is noise.
std::string toml_reason(std::string_view text)
{
  constexpr std::string_view preamble = "Error while parsing ";
  if (text.starts_with(preamble)) {
    text.remove_prefix(preamble.size());
  }
  std::string out(text);
  if (!out.empty()) {
    out[0] =
      static_cast<char>(std::tolower(static_cast<unsigned char>(out[0])));
  }
  return out;
}

std::string a_type(toml::node_type type)
{
  switch (type) {
  case toml::node_type::table:
    return "a table";
  case toml::node_type::array:
    return "an array";
  case toml::node_type::string:
    return "a string";
  case toml::node_type::integer:
    return "an integer";
  case toml::node_type::floating_point:
    return "a floating-point number";
  case toml::node_type::boolean:
    return "a boolean";
  case toml::node_type::date:
    return "a date";
  case toml::node_type::time:
    return "a time";
  case toml::node_type::date_time:
    return "a date-time";
  case toml::node_type::none:
    break;
  }
  return "nothing";
}

Value toml_value(const Key& key, const toml::node& node,
                 const std::string& where)
{
  if (key.type == KeyType::integer) {
    if (const auto* i = node.as_integer()) {
      return i->get();
    }
  } else if (const auto* s = node.as_string()) {
    return unshelter(s->get());
  }
  throw ConfigError(
    fmt::format("{}: '{}' must be {}, not {}", where, full_name(key),
                key.type == KeyType::integer ? "an integer" : "a string",
                a_type(node.type())));
}

// A relative path in the file means relative to the file, so a config directory
// can be moved or mounted elsewhere as a whole.
void resolve_path(const Key& key, const std::filesystem::path& base,
                  Value& value)
{
  if (key.type != KeyType::path) {
    return;
  }
  auto& text = std::get<std::string>(value);
  // audit.source may be a URL rather than a path.
  if (text.empty() || base.empty() || text.starts_with("http://") ||
      text.starts_with("https://") ||
      std::filesystem::path(text).is_absolute()) {
    return;
  }
  text = (base / text).string();
}

void read_section(const std::string& section, const toml::table& table,
                  const std::string& origin, const std::filesystem::path& base,
                  Settings& settings)
{
  for (const auto& [name, node] : table) {
    const Key* key = find_key(section, name.str());
    if (key == nullptr) {
      throw ConfigError(fmt::format("{}:{}: unknown key '{}.{}'", origin,
                                    name.source().begin.line, section,
                                    printable(unshelter(name.str()))));
    }
    const auto where = fmt::format("{}:{}", origin, node.source().begin.line);
    auto value = toml_value(*key, node, where);
    validate(*key, value, where);
    resolve_path(*key, base, value);
    settings[index_of(*key)] = Setting{std::move(value), where};
  }
}

} // namespace

void read_toml(const std::string& text, const std::string& origin,
               Settings& settings)
{
  const auto sheltered = shelter(text);
  if (sheltered.clash) {
    throw ConfigError(fmt::format(
      "{}:{}: unsupported character U+{:04X}", origin, sheltered.clash_line,
      static_cast<std::uint32_t>(*sheltered.clash)));
  }
  toml::table root;
  try {
    root = toml::parse(sheltered.text, origin);
  } catch (const toml::parse_error& e) {
    const auto& begin = e.source().begin;
    throw ConfigError(fmt::format("{}:{}:{}: {}", origin, begin.line,
                                  begin.column,
                                  toml_reason(unshelter(e.description()))));
  }
  const auto base = std::filesystem::path(origin).parent_path();
  for (const auto& [name, node] : root) {
    const auto line = name.source().begin.line;
    const std::string section = unshelter(name.str());
    if (!is_section(section)) {
      throw ConfigError(fmt::format("{}:{}: unknown {} '{}'", origin, line,
                                    node.is_table() ? "section" : "key",
                                    printable(section)));
    }
    const auto* table = node.as_table();
    if (table == nullptr) {
      throw ConfigError(fmt::format("{}:{}: '{}' must be a table, not {}",
                                    origin, line, section,
                                    a_type(node.type())));
    }
    read_section(section, *table, origin, base, settings);
  }
}

} // namespace vtc::config
