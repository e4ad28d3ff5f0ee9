#pragma once
// What a baseline is kept for: an entity kind and the id as it appears in the records.
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

#include "models/Symbol.hpp"

namespace flowlier::models {

enum class EntityKind : std::uint8_t {
  interface,     // AWS ENI / Azure MAC / GCP VM: the flow log's own subject
  address,       // the local (interface-side) address of the flow
  srcaddr,       // the record's source address
  dstaddr,       // the record's destination address
  subnet,        // subnet id
  vpc,           // VPC id
  account,       // account / project / subscription
  service_port,  // protocol and local service port, e.g. "tcp/443"
};
inline constexpr std::size_t kEntityKindCount = 8;

std::string_view to_string(EntityKind kind);
std::optional<EntityKind> parse_entity_kind(std::string_view name);

struct EntityKey {
  EntityKind kind = EntityKind::interface;
  Symbol id;

  friend bool operator==(const EntityKey& a, const EntityKey& b) { return a.kind == b.kind && a.id == b.id; }
  friend bool operator<(const EntityKey& a, const EntityKey& b) {
    return a.kind != b.kind ? a.kind < b.kind : a.id.view() < b.id.view();
  }
  // Stable across processes and runs (it decides a record's shard).
  std::uint64_t hash() const;
};

struct EntityKeyHash {
  std::size_t operator()(const EntityKey& k) const { return static_cast<std::size_t>(k.hash()); }
};

}  // namespace flowlier::models
