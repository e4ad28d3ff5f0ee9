#pragma once
// Where a decoder sends what it finds: each valid record, and each rejected line or
// record with its reason. Decoders never drop anything silently.
#include <cstdint>
#include <string_view>

#include "pipeline/FlowRecord.hpp"
#include "pipeline/RejectReason.hpp"

namespace flowlier::pipeline {

struct Reject {
  RejectReason reason;
  std::uint64_t line = 0;    // 1-based line (or record ordinal in a JSON document)
  std::string_view raw;      // the offending input (may be truncated by the decoder)
  std::string_view message;  // a human sentence: what was wrong, naming the field
};

class DecodeSink {
 public:
  virtual ~DecodeSink() = default;
  // `record` is valid only during the call; copy it to keep it.
  virtual void on_record(const FlowRecord& record) = 0;
  virtual void on_reject(const Reject& reject) = 0;
};

}  // namespace flowlier::pipeline
