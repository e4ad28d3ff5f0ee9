// libFuzzer target: the inter-process record wire format (pipeline/RecordWire.hpp), as a
// scorer reads a batch from the ingest process. Reading never goes past the input; a
// record that was read encodes to bytes that read back to the same encoding.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "pipeline/RecordWire.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace flowlier::pipeline;
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  FlowRecord record;
  while (!rest.empty()) {
    const std::size_t used = read_record_wire(rest, record);
    if (used == 0) break;  // a malformed frame: the scorer counts it and drops the rest
    if (used > rest.size()) std::abort();
    rest.remove_prefix(used);
    std::string once;
    append_record_wire(once, record);
    FlowRecord again;
    if (read_record_wire(once, again) != once.size()) std::abort();
    std::string twice;
    append_record_wire(twice, again);
    if (twice != once) std::abort();
  }
  return 0;
}
