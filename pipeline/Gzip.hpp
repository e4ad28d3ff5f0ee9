#pragma once
// gzip helpers over zlib. Streaming inflation for files lives in InputReader; these
// are for whole in-memory payloads (CloudWatch subscription data, Firehose records).
#include <cstddef>
#include <string>
#include <string_view>

namespace flowlier::pipeline {

inline bool looks_gzipped(std::string_view bytes) {
  return bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f &&
         static_cast<unsigned char>(bytes[1]) == 0x8b;
}

// Inflates a complete gzip (or zlib) payload into `out`. Returns an empty string on
// success, else a message saying what is wrong (truncated, corrupt, larger than
// max_output). Concatenated gzip members are all inflated.
std::string gunzip(std::string_view compressed, std::string& out, std::size_t max_output);

// Compresses `plain` as one gzip member (for sinks that send Content-Encoding: gzip).
std::string gzip(std::string_view plain);

}  // namespace flowlier::pipeline
