#pragma once
// The process's resident set size, read from /proc/self/statm (Linux); 0 when unknown.
#include <cstdint>

namespace flowlier::transport {

std::uint64_t resident_memory_bytes();

}  // namespace flowlier::transport
