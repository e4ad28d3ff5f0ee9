#pragma once
// The JSON Lines form of a FlowRecord written by `flowlier normalize` (fields are
// documented in the README). Absent fields are omitted, never written as null.
#include <string>
#include <string_view>

#include "pipeline/FlowRecord.hpp"

namespace flowlier::pipeline {

// Appends one JSON object and a '\n' to `out`. Hand-written: it is on the hot path.
void append_record_json(std::string& out, const FlowRecord& record, std::string_view source);

}  // namespace flowlier::pipeline
