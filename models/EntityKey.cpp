#include "models/EntityKey.hpp"

#include <array>

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
  // FNV-1a over kind and id, then a finaliser so low bits spread well for sharding.
  std::uint64_t h = 1469598103934665603ULL ^ static_cast<std::uint64_t>(kind);
  h *= 1099511628211ULL;
  for (unsigned char c : id.view()) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  return h;
}

}  // namespace flowlier::models
