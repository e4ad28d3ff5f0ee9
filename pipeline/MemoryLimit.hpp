#pragma once
// `[limits] max_memory`: a bound in bytes on what the entity tables may hold, like
// Elastic ml-cpp's model memory limit. It becomes a cap on the entities each engine
// tracks (the smaller of entities.max_entities and what the bytes allow at a measured
// cost per entity); the Windower enforces the cap by evicting the least recently seen
// entity without an open window and, when every entity has one, refusing the new entity
// (counted). A cap computed once from the config keeps replay and run deterministic:
// the same records give the same events whatever the machine.
#include <cstdint>

namespace flowlier::pipeline {

// Resident bytes per tracked entity under a flood of new entities (each with an open
// window, a baseline, its slot and index entry, and the churn of evicted ones):
// measured at about 2060 bytes with `flowlier replay` on 1 M records of random
// interfaces and addresses (README "Guarantees"); 2304 leaves a margin.
constexpr std::uint64_t kBytesPerEntity = 2304;

struct EntityCap {
  std::uint64_t max_entities = 0;  // per engine
  bool by_memory = false;          // max_memory, not entities.max_entities, set it
};

// The per-engine entity cap for `engines` engines sharing `max_memory` bytes (0: no
// byte limit, the configured count stands). At least one entity per engine.
EntityCap entity_cap(std::uint64_t configured_max_entities, std::uint64_t max_memory, std::uint32_t engines);

}  // namespace flowlier::pipeline
