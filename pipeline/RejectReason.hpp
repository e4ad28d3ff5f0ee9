#pragma once
// Why an input line or record was rejected: a bounded set, so it can be a metric label.
#include <array>
#include <cstdint>
#include <string_view>

namespace flowlier::pipeline {

enum class RejectReason : std::uint8_t {
  wrong_field_count,   // a text record with more or fewer fields than its format
  bad_number,          // a counter, time or version that is not an unsigned integer
  bad_port,            // a port outside 0-65535
  bad_protocol,        // a protocol outside 0-255 or an unknown protocol letter
  bad_address,         // an address that is neither IPv4 nor IPv6
  bad_time,            // a missing or unparsable timestamp, or end before start
  bad_value,           // an enumerated field with a value the format does not define
  header_mismatch,     // a header line that names no known field, or repeats one
  missing_field,       // a record without a field the format requires
  invalid_json,        // JSON that does not parse, or has the wrong shape
  line_too_long,       // a line over the configured maximum (hostile size)
  unknown_format,      // content that matches no supported format
  bad_encoding,        // base64 or gzip content inside a message that does not decode
};

inline constexpr std::size_t kRejectReasonCount = 13;

constexpr std::string_view to_string(RejectReason r) {
  constexpr std::array<std::string_view, kRejectReasonCount> names{
      "wrong_field_count", "bad_number",   "bad_port",      "bad_protocol",   "bad_address",
      "bad_time",          "bad_value",    "header_mismatch", "missing_field", "invalid_json",
      "line_too_long",     "unknown_format", "bad_encoding"};
  return names[static_cast<std::size_t>(r)];
}

}  // namespace flowlier::pipeline
