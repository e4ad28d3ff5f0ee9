#include "pipeline/MemoryLimit.hpp"

#include <algorithm>

namespace flowlier::pipeline {

EntityCap entity_cap(std::uint64_t configured_max_entities, std::uint64_t max_memory, std::uint32_t engines) {
  EntityCap cap{configured_max_entities, false};
  if (max_memory == 0) return cap;
  const std::uint64_t by_bytes =
      std::max<std::uint64_t>(1, max_memory / std::max<std::uint32_t>(1, engines) / kBytesPerEntity);
  if (by_bytes < configured_max_entities) cap = {by_bytes, true};
  return cap;
}

}  // namespace flowlier::pipeline
