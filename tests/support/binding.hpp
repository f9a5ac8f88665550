#pragma once

// The binding the store's and the walk's unit tests open databases with.
// Header-only, like temp_dir.hpp.

#include "store/sqlite_store.hpp"

#include <string>

namespace vtc::test {

inline store::Binding binding()
{
  return {"did:webvh:QmCommunity:community.example",
          "https://registry.example:443",
          "recognise",
          "trust-graph",
          "recognition",
          [](const std::string& url) { return url; }};
}

} // namespace vtc::test
