#pragma once

// A fresh directory for one test, removed with everything in it when the
// object goes out of scope. Header-only: every test binary can use it
// without linking anything.

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <string_view>

namespace vtc::test {

class TempDir
{
public:
  TempDir()
  {
    std::error_code ec;
    auto base = std::filesystem::temp_directory_path(ec);
    if (ec) {
      base = "/tmp";
    }
    std::string templ = (base / "vtc-test.XXXXXX").string();
    if (::mkdtemp(templ.data()) == nullptr) {
      throw std::runtime_error("mkdtemp failed for " + templ);
    }
    m_path = templ;
  }
  ~TempDir()
  {
    std::error_code ignored;
    std::filesystem::remove_all(m_path, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return m_path; }

  // The path of `name` inside the directory (nothing is created).
  std::string file(std::string_view name) const
  {
    return m_path + "/" + std::string(name);
  }

  // Writes `bytes` to `name` (truncating) and returns its path.
  std::string write(std::string_view name, std::string_view bytes) const
  {
    const std::string p = file(name);
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) {
      throw std::runtime_error("cannot write " + p);
    }
    return p;
  }

  // Appends `bytes` to `name` and returns its path.
  std::string append(std::string_view name, std::string_view bytes) const
  {
    const std::string p = file(name);
    std::ofstream out(p, std::ios::binary | std::ios::app);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) {
      throw std::runtime_error("cannot append to " + p);
    }
    return p;
  }

private:
  std::string m_path;
};

// The whole content of `path`; throws when it cannot be read.
inline std::string read_file(const std::string& path)
{
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::runtime_error("cannot read " + path);
  }
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

} // namespace vtc::test
