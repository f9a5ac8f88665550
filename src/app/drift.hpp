#pragma once

#include "app/ports.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace vtc::app {

// One record as the mirror holds it.
struct MirrorRecord
{
  std::string id;
  bool confirmed = true; // false: a write started and was never confirmed
  std::string record;    // the record object as JSON text
};

// A record on which the mirror and the registry disagree.
struct DriftItem
{
  std::string id;
  std::string mirror;   // "" when the mirror has none
  std::string registry; // "" when the registry has none
};

struct DriftReport
{
  std::int64_t pages = 0;
  std::int64_t listed = 0;           // records of ours the registry listed
  std::int64_t in_step = 0;          // the same record on both sides
  std::vector<DriftItem> missing;    // in the mirror, not in the registry
  std::vector<DriftItem> mismatched; // on both sides, different content
  std::vector<DriftItem> unknown;    // in the registry, not in the mirror
  // Writes never confirmed: the registry may hold either version; the next
  // pass settles them, so they are not differences.
  std::vector<DriftItem> unconfirmed;
  bool differ() const
  {
    return !missing.empty() || !mismatched.empty() || !unknown.empty();
  }
};

// Compares the mirror with the registry's listing. Records are equal when
// their JSON values are (member order and spacing aside).
DriftReport compare_records(const std::vector<MirrorRecord>& mirror,
                            const std::vector<ListedRecord>& listed);

// The mirror of every member the store knows.
std::vector<MirrorRecord> mirror_records(MirrorStore& store,
                                         const RecordBuilder& records);

// The mirror of the member of `did`, if the registry may hold its record.
std::optional<MirrorRecord> mirror_record(MirrorStore& store,
                                          const RecordBuilder& records,
                                          const std::string& did);

// Reads the whole listing, page by page, and compares it with the mirror.
// A listing that cannot be read to its end is an error (thrown by the
// listing; 76 when a page repeats a cursor): a partial listing would show
// records as missing that are not.
DriftReport drift(MirrorStore& store, RegistryListing& listing,
                  const RecordBuilder& records);

} // namespace vtc::app
