#include "models/EntityKey.hpp"

#include <array>
#include <cstring>

namespace flowlier::models {

namespace {
constexpr std::array<std::string_view, kEntityKindCount> kNames{
    "interface", "address", "srcaddr", "dstaddr", "subnet", "vpc", "account", "service-port"};
}

std::string_view to_string(EntityKind kind) { return kNames[static_cast<std::size_t>(kind)]; }

std::optional<EntityKind> parse_entity_kind(std::string_view name) {
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<EntityKind>(i);
  }
  return std::nullopt;
}

std::uint64_t EntityKey::hash() const {
  // Eight bytes at a time (ids are ~10-50 bytes), then a finaliser so low bits spread
  // well for sharding. Stable across processes and runs: it decides a record's shard.
  const std::string_view text = id.view();
  std::uint64_t h = 0x9e3779b97f4a7c15ULL ^ (static_cast<std::uint64_t>(kind) << 56) ^ text.size();
  std::size_t i = 0;
  for (; i + 8 <= text.size(); i += 8) {
    std::uint64_t word;
    std::memcpy(&word, text.data() + i, 8);
    h = (h ^ word) * 0xff51afd7ed558ccdULL;
    h ^= h >> 29;
  }
  std::uint64_t tail = 0;
  std::memcpy(&tail, text.data() + i, text.size() - i);
  h = (h ^ tail ^ host) * 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  return h;
}

}  // namespace flowlier::models
