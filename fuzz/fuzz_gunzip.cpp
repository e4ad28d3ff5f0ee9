// libFuzzer target: gunzip on arbitrary bytes, and gzip/gunzip round trip of the input.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "pipeline/Gzip.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace flowlier::pipeline;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  std::string out;
  // A small bound so the fuzzer also hits the "larger than max_output" path.
  auto error = gunzip(bytes, out, 1 << 16);
  if (!error.empty() && error.size() > 4096) __builtin_trap();
  if (out.size() > (1 << 16)) __builtin_trap();
  std::string plain;
  auto round = gunzip(gzip(bytes), plain, size + 1);
  if (!round.empty() || plain != bytes) __builtin_trap();
  return 0;
}
