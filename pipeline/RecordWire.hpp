#pragma once
// Compact binary forms of FlowRecord and of the Observation the intake routes it into,
// for hops between flowlier processes (the sharded live service: ingest -> scorers over
// tcp carries observations, so only the intake routes). Same-version peers only: the
// first byte is kRecordWireVersion. Reading validates lengths and never reads past the
// input, so a hostile or truncated frame is rejected, not trusted.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "models/Observation.hpp"
#include "pipeline/FlowRecord.hpp"

namespace flowlier::pipeline {

inline constexpr std::uint8_t kRecordWireVersion = 1;

// Appends one record.
void append_record_wire(std::string& out, const FlowRecord& record);

// Reads one record from the front of `in` into `record`. Returns the bytes consumed,
// or 0 when `in` does not start with a well-formed record.
std::size_t read_record_wire(std::string_view in, FlowRecord& record);

inline constexpr std::uint8_t kObservationWireVersion = 1;

// Appends one observation.
void append_observation_wire(std::string& out, const models::Observation& observation);

// Reads one observation from the front of `in`. Returns the bytes consumed, or 0 when
// `in` does not start with a well-formed observation (an entity kind out of range, a
// weight that is not a positive finite number, a truncated id).
std::size_t read_observation_wire(std::string_view in, models::Observation& observation);

}  // namespace flowlier::pipeline
