// vtc-sync.toml(5) against the one key table (config/keys.cpp): every key
// of known_keys() has a heading in the page, under its section, followed by
// "Type: T; default: D; range: R" exactly as KeyInfo gives them, and the page
// has no key heading that known_keys() lacks. The page's example file must
// load.

#include "config/config.hpp"

#include <doctest/doctest.h>
#include <exception>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#ifndef VTC_MAN_DIR
#error "VTC_MAN_DIR must name the man/ directory of the source tree"
#endif

using vtc::config::KeyInfo;
using vtc::config::known_keys;

namespace {

const std::string k_page = std::string(VTC_MAN_DIR) + "/vtc-sync.toml.5.scd";

std::vector<std::string> page_lines()
{
  std::ifstream in(k_page);
  REQUIRE_MESSAGE(in.good(), "cannot read " << k_page);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line);
  }
  return lines;
}

// scdoc text without its escapes ("\_" is "_").
std::string unescape(const std::string& text)
{
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size()) {
      ++i;
    }
    out += text[i];
  }
  return out;
}

// How the page spells a KeyInfo's default and range.
std::string documented_default(const KeyInfo& info)
{
  if (info.required) {
    return "none (required)";
  }
  return info.default_value.empty() ? "\"\"" : info.default_value;
}

std::string documented_range(const KeyInfo& info)
{
  return info.range.empty() ? "any" : info.range;
}

struct Heading
{
  std::string name;     // "registry.timeout_seconds"
  std::string section;  // the "## [registry]" it sits under, "" if none
  std::size_t line = 0; // 1-based
  std::optional<std::string> attributes; // the next non-empty line
};

// Every unindented line made only of bold terms ("*a.b*" or "*a.b*, *c.d*")
// whose terms look like section.key: the page's key headings.
std::vector<Heading> key_headings(const std::vector<std::string>& lines)
{
  static const std::regex heading_line(R"(^\*[^*\s]+\*(, \*[^*\s]+\*)*$)");
  static const std::regex term(R"(\*([^*\s]+)\*)");
  static const std::regex key_like(R"(^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$)");
  static const std::regex section_line(R"(^## \[([a-z0-9_]+)\]\s*$)");
  std::vector<Heading> out;
  std::string section;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    std::smatch m;
    if (std::regex_match(lines[i], m, section_line)) {
      section = m[1];
      continue;
    }
    if (lines[i].starts_with("#")) {
      section.clear();
      continue;
    }
    if (!std::regex_match(lines[i], heading_line)) {
      continue;
    }
    std::optional<std::string> attributes;
    for (std::size_t j = i + 1; j < lines.size(); ++j) {
      if (!lines[j].empty()) {
        attributes = lines[j];
        break;
      }
    }
    for (std::sregex_iterator it(lines[i].begin(), lines[i].end(), term), end;
         it != end; ++it) {
      const std::string name = unescape((*it)[1]);
      if (std::regex_match(name, key_like)) {
        out.push_back({name, section, i + 1, attributes});
      }
    }
  }
  return out;
}

// The first ``` block after the "# EXAMPLE" heading.
std::string example_file(const std::vector<std::string>& lines)
{
  bool in_section = false;
  bool in_block = false;
  std::string text;
  for (const auto& line : lines) {
    if (!in_block && line.starts_with("# ")) {
      in_section = line == "# EXAMPLE" || line == "# EXAMPLES";
      continue;
    }
    if (in_section && line.find("```") != std::string::npos) {
      if (in_block) {
        return text;
      }
      in_block = true;
      continue;
    }
    if (in_block) {
      text += line + "\n";
    }
  }
  return "";
}

} // namespace

TEST_CASE("every configuration key is documented with its type, default and "
          "range")
{
  const auto headings = key_headings(page_lines());
  REQUIRE_FALSE(known_keys().empty());
  // Not a structured binding: the doctest macros capture in lambdas, which
  // older compilers do not allow for bindings.
  for (const auto& entry : known_keys()) {
    const std::string& name = entry.first;
    const KeyInfo& info = entry.second;
    CAPTURE(name);
    std::vector<const Heading*> found;
    for (const auto& h : headings) {
      if (h.name == name) {
        found.push_back(&h);
      }
    }
    REQUIRE_MESSAGE(found.size() == 1, k_page << ": key " << name << " has "
                                              << found.size() << " headings (*"
                                              << name << "* on a line of its "
                                              << "own), expected exactly 1");
    const Heading& h = *found.front();
    CHECK_MESSAGE(h.section == name.substr(0, name.find('.')),
                  k_page << ":" << h.line << ": " << name << " is under ## ["
                         << h.section << "]");
    const std::string expected = "\tType: " + info.type +
                                 "; default: " + documented_default(info) +
                                 "; range: " + documented_range(info);
    REQUIRE_MESSAGE(h.attributes.has_value(),
                    k_page << ":" << h.line << ": nothing follows " << name);
    CHECK_MESSAGE(unescape(*h.attributes) == expected,
                  k_page << ":" << h.line + 1 << ": " << name
                         << "\n  page:     '" << *h.attributes
                         << "'\n  expected: '" << expected << "'");
  }
}

TEST_CASE("the page documents no key that known_keys() lacks")
{
  const auto headings = key_headings(page_lines());
  CHECK(headings.size() >= known_keys().size());
  for (const auto& h : headings) {
    CHECK_MESSAGE(known_keys().contains(h.name),
                  k_page << ":" << h.line << ": documents '" << h.name
                         << "', which vtc-sync does not accept");
  }
}

TEST_CASE("the page's example file loads")
{
  const std::string text = example_file(page_lines());
  REQUIRE_MESSAGE(!text.empty(), k_page << ": no ``` block under # EXAMPLE");
  try {
    (void)vtc::config::parse(text, "/etc/vtc-sync/vtc-sync.toml",
                             vtc::config::Environment{});
  } catch (const std::exception& e) {
    FAIL(k_page << ": the example does not load: " << std::string(e.what()));
  }
}
