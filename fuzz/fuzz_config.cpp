// libFuzzer target: the TOML configuration parser on arbitrary text. Errors are values;
// nothing may throw out of parse_config.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "pipeline/Config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace flowlier::pipeline;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto result = parse_config(text, "fuzz.toml");
  volatile std::size_t keep = result.error.size() + result.config.input_format.size();
  (void)keep;
  return 0;
}
