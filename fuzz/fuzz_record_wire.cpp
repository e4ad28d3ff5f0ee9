// libFuzzer target: the inter-process wire formats (pipeline/RecordWire.hpp): records,
// and the observations a scorer reads in a batch from the ingest process. Reading never
// goes past the input; what was read encodes to bytes that read back to the same encoding.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "pipeline/RecordWire.hpp"

namespace {
template <typename Value, typename Read, typename Append>
void read_all(std::string_view rest, Read read, Append append) {
  Value value;
  while (!rest.empty()) {
    const std::size_t used = read(rest, value);
    if (used == 0) break;  // a malformed frame: the scorer counts it and drops the rest
    if (used > rest.size()) std::abort();
    rest.remove_prefix(used);
    std::string once;
    append(once, value);
    Value again;
    if (read(once, again) != once.size()) std::abort();
    std::string twice;
    append(twice, again);
    if (twice != once) std::abort();
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace flowlier::pipeline;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  read_all<FlowRecord>(input, read_record_wire, append_record_wire);
  read_all<flowlier::models::Observation>(input, read_observation_wire, append_observation_wire);
  return 0;
}
