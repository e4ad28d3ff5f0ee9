// libFuzzer target: format detection on arbitrary heads; a detected format must also
// round-trip through its name.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "pipeline/InputFormat.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace flowlier::pipeline;
  std::string_view head(reinterpret_cast<const char*>(data), size);
  if (auto format = detect_input_format(head)) {
    if (parse_input_format(to_string(*format)) != format) __builtin_trap();
  }
  (void)parse_input_format(head);
  return 0;
}
