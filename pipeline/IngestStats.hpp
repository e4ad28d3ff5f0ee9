#pragma once
// The books of the ingest stage: every input record is either emitted or rejected
// with a reason, and inputs that cannot be read at all are errors.
#include <array>
#include <cstdint>
#include <map>
#include <string>

#include "pipeline/FlowRecord.hpp"
#include "pipeline/RejectReason.hpp"

namespace flowlier::pipeline {

struct IngestStats {
  std::map<std::string, std::uint64_t> records_by_format;  // emitted records, by Format name
  std::array<std::uint64_t, kRejectReasonCount> rejected{};
  std::uint64_t records = 0;
  std::uint64_t nodata = 0;    // NODATA status records (no traffic in the window)
  std::uint64_t skipdata = 0;  // SKIPDATA status records: AWS lost records (data loss)
  std::uint64_t inputs = 0;
  std::uint64_t input_errors = 0;  // inputs unreadable, empty, or truncated
  std::uint64_t bytes = 0;         // raw (compressed) bytes read

  std::uint64_t total_rejected() const {
    std::uint64_t n = 0;
    for (auto r : rejected) n += r;
    return n;
  }
};

}  // namespace flowlier::pipeline
