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
  // The host a local address belongs to: its interface's key hash (0 = none). An
  // address is one entity per interface: a record whose local side is misjudged while
  // an interface's own address is still being learnt makes a small stray entity,
  // never a second home for the real one, so every shard and a single engine agree.
  std::uint64_t host = 0;

  friend bool operator==(const EntityKey& a, const EntityKey& b) {
    return a.kind == b.kind && a.host == b.host && a.id == b.id;
  }
  friend bool operator<(const EntityKey& a, const EntityKey& b) {
    if (a.kind != b.kind) return a.kind < b.kind;
    if (a.id.view() != b.id.view()) return a.id.view() < b.id.view();
    return a.host < b.host;
  }
  // Stable across processes and runs.
  std::uint64_t hash() const;
  // What one page is about, and what decides the shard: the host for an address of
  // an interface (so the interface and its address meet in one engine and make one
  // episode), else the entity itself.
  std::uint64_t incident() const { return incident(hash()); }
  // The same with this key's hash() already computed.
  std::uint64_t incident(std::uint64_t own_hash) const { return host != 0 ? host : own_hash; }
};

struct EntityKeyHash {
  std::size_t operator()(const EntityKey& k) const { return static_cast<std::size_t>(k.hash()); }
};

}  // namespace flowlier::models
