#pragma once

// Helpers shared by the audit tests: the public vectors (VTC_TEST_DATA),
// this folder's generated fixtures (VTC_AUDIT_FIXTURES), and key rings.

#include "audit/keys.hpp"
#include "audit/log_file.hpp"
#include "temp_dir.hpp"

#include <doctest/doctest.h>
#include <memory>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <vector>

namespace vtc::test {

inline std::string data(const std::string& name)
{
  return std::string(VTC_TEST_DATA) + "/" + name;
}

inline std::string fixture(const std::string& name)
{
  return std::string(VTC_AUDIT_FIXTURES) + "/" + name;
}

// The lines of `path`, without their LF.
inline std::vector<std::string> lines_of(const std::string& path)
{
  std::vector<std::string> out;
  std::istringstream in(read_file(path));
  for (std::string line; std::getline(in, line);) {
    out.push_back(line);
  }
  return out;
}

// Lines [first, last) (0-based), each followed by LF.
inline std::string join(const std::vector<std::string>& lines,
                        std::size_t first = 0,
                        std::size_t last = static_cast<std::size_t>(-1))
{
  std::string out;
  for (std::size_t i = first; i < lines.size() && i < last; ++i) {
    out += lines[i];
    out += '\n';
  }
  return out;
}

// basic.keys.json, copied into `dir` with mode 0600 (files from git are
// 0644, which the secret-file rule refuses) and loaded.
inline std::shared_ptr<const audit::KeyRing> strict_keys(const TempDir& dir)
{
  const std::string path =
    dir.write("keys.json", read_file(data("basic.keys.json")));
  REQUIRE(::chmod(path.c_str(), 0600) == 0);
  return std::make_shared<const audit::KeyRing>(audit::KeyRing::load(path));
}

inline audit::LogOptions options(
  const std::string& path, std::shared_ptr<const audit::KeyRing> keys = {},
  std::size_t max_line_bytes = 1048576)
{
  audit::LogOptions o;
  o.path = path;
  o.max_line_bytes = max_line_bytes;
  o.keys = std::move(keys);
  return o;
}

// Everything next() returns until the first non-entry.
struct ReadAll
{
  std::vector<app::Entry> entries;
  app::ReadStatus last = app::ReadStatus::entry;
  app::AuditFailure failure;
};

inline ReadAll read_all(app::AuditLog& log)
{
  ReadAll r;
  for (;;) {
    app::Entry e;
    r.last = log.next(e, r.failure);
    if (r.last != app::ReadStatus::entry) {
      return r;
    }
    r.entries.push_back(e);
  }
}

} // namespace vtc::test
