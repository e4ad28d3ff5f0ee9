// libFuzzer target: the [[sinks]] TOML parser (transport/SinkConfig.hpp) on arbitrary
// text. Errors are values; nothing may throw; every accepted sink can be described
// (redacted) for the logs.
#include <cstddef>
#include <cstdint>
#include <string>

#include "transport/SinkConfig.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace flowlier::transport;
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto result = parse_sink_configs(text, "fuzz.toml");
  std::size_t total = result.error.size();
  for (const auto& sink : result.sinks) total += sink.redacted().size();
  volatile std::size_t keep = total;
  (void)keep;
  return 0;
}
