#pragma once
// Which peer group an entity belongs to: local addresses by their subnet (IPv4 /24,
// IPv6 /64), the unit most estates give one role. Other kinds have no peer group yet.
#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "models/EntityKey.hpp"

namespace flowlier::pipeline {

struct PeerGroupKey {
  std::uint64_t hash = 0;  // stable across processes (it is saved and exchanged)
  std::string label() const;  // "10.0.1.0/24"

  std::array<std::uint8_t, 16> network{};
  int prefix_bits = 0;  // over the 128-bit form
  bool v4 = true;
};

std::optional<PeerGroupKey> peer_group_of(const models::EntityKey& key);

}  // namespace flowlier::pipeline
