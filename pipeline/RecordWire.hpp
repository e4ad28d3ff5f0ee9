#pragma once
// A compact binary form of FlowRecord for hops between flowlier processes (the
// sharded live service: ingest -> scorers over tcp). Same-version peers only: the
// first byte is kRecordWireVersion. Reading validates lengths and never reads past the
// input, so a hostile or truncated frame is rejected, not trusted.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "pipeline/FlowRecord.hpp"

namespace flowlier::pipeline {

inline constexpr std::uint8_t kRecordWireVersion = 1;

// Appends one record.
void append_record_wire(std::string& out, const FlowRecord& record);

// Reads one record from the front of `in` into `record`. Returns the bytes consumed,
// or 0 when `in` does not start with a well-formed record.
std::size_t read_record_wire(std::string_view in, FlowRecord& record);

}  // namespace flowlier::pipeline
