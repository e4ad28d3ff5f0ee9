// libFuzzer target: the gcp decoder on arbitrary bytes (see FuzzDecoder.hpp).
#include "fuzz/FuzzDecoder.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return flowlier::fuzz::fuzz_decoder(flowlier::pipeline::InputFormat::gcp, data, size);
}
