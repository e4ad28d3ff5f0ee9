// libFuzzer target: the azure_nsg decoder on arbitrary bytes (see FuzzDecoder.hpp).
#include "fuzz/FuzzDecoder.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return flowlier::fuzz::fuzz_decoder(flowlier::pipeline::InputFormat::azure_nsg, data, size);
}
