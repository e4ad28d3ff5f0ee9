#include "pipeline/EntityRouter.hpp"

#include <algorithm>
#include <cstring>

namespace flowlier::pipeline {

namespace {
using models::EntityKind;
using models::Observation;

std::uint64_t hash_address(const IpAddress& a) {
  std::uint64_t lo, hi;
  std::memcpy(&lo, a.bytes().data(), 8);
  std::memcpy(&hi, a.bytes().data() + 8, 8);
  std::uint64_t h = hi * 0x9e3779b97f4a7c15ULL ^ (lo + 0x632be59bd9b4e019ULL);
  h ^= h >> 32;
  h *= 0xd6e8feb86659fd93ULL;
  h ^= h >> 32;
  return h == 0 ? 1 : h;
}

bool has_ports(std::uint8_t protocol) { return protocol == 6 || protocol == 17 || protocol == 132; }

const char* protocol_name(std::uint8_t p) {
  switch (p) {
    case 6: return "tcp";
    case 17: return "udp";
    case 132: return "sctp";
    case 1: return "icmp";
    case 58: return "icmpv6";
    default: return nullptr;
  }
}
}  // namespace

void EntityRouter::AddressVotes::vote(const IpAddress& a) {
  for (int i = 0; i < 2; ++i) {
    if (count[i] > 0 && address[i] == a) {
      ++count[i];
      return;
    }
  }
  for (int i = 0; i < 2; ++i) {
    if (count[i] == 0) {
      address[i] = a;
      count[i] = 1;
      return;
    }
  }
  --count[0];
  --count[1];
}

std::uint32_t EntityRouter::AddressVotes::score(const IpAddress& a) const {
  for (int i = 0; i < 2; ++i) {
    if (count[i] > 0 && address[i] == a) return count[i];
  }
  return 0;
}

EntityRouter::EntityRouter(RouterConfig config) : config_(std::move(config)) {}

bool EntityRouter::is_internal(const IpAddress& address) const {
  if (address.is_private()) return true;
  for (const auto& net : config_.internal_networks) {
    if (net.contains(address)) return true;
  }
  return false;
}

void EntityRouter::save(detectors::StateWriter& w) const {
  std::vector<const LearnedInterface*> entries;
  entries.reserve(learned_.size());
  for (const auto& entry : learned_) entries.push_back(&entry);
  std::sort(entries.begin(), entries.end(), [](auto* a, auto* b) { return a->id.view() < b->id.view(); });
  w.put<std::uint64_t>(entries.size());
  for (const auto* entry : entries) {
    w.put_string(entry->id.view());
    w.put(entry->votes);
  }
}

std::string EntityRouter::load(detectors::StateReader& r) {
  std::uint64_t count = 0;
  if (!r.get(count)) return r.error();
  if (count > config_.max_learned_interfaces) return "router state holds more interfaces than allowed";
  std::vector<LearnedInterface> next;
  models::SlotIndex next_index;
  for (std::uint64_t i = 0; i < count; ++i) {
    std::string id;
    AddressVotes v;
    r.get_string(id, Symbol::capacity);
    r.get(v);
    if (!r.ok()) return r.error();
    const Symbol symbol(id);
    const std::uint64_t hash = models::SymbolHash{}(symbol);
    // A repeated id keeps its first votes.
    if (next_index.find(hash, [&](std::uint32_t at) { return next[at].id == symbol; }) != models::SlotIndex::kNone) {
      continue;
    }
    next_index.insert(hash, static_cast<std::uint32_t>(next.size()));
    next.push_back(LearnedInterface{symbol, v});
  }
  learned_ = std::move(next);
  learned_index_ = std::move(next_index);
  return {};
}

EntityRouter::AddressVotes& EntityRouter::votes_for(const Symbol& interface_id) {
  const std::uint64_t hash = models::SymbolHash{}(interface_id);
  std::uint32_t at = learned_index_.find(hash, [&](std::uint32_t i) { return learned_[i].id == interface_id; });
  if (at == models::SlotIndex::kNone) {
    if (learned_.size() >= config_.max_learned_interfaces) {  // bounded; relearned quickly
      learned_.clear();
      learned_index_ = models::SlotIndex{};
    }
    at = static_cast<std::uint32_t>(learned_.size());
    learned_.push_back(LearnedInterface{interface_id, AddressVotes{}});
    learned_index_.insert(hash, at);
  }
  return learned_[at].votes;
}

bool EntityRouter::source_is_local(const FlowRecord& r) {
  if (r.direction == Direction::egress) return true;
  if (r.direction == Direction::ingress) return false;
  if (r.reporter == Reporter::src || r.reporter == Reporter::src_gateway) return true;
  if (r.reporter == Reporter::dest || r.reporter == Reporter::dest_gateway) return false;
  const bool has_src = r.has(Field::srcaddr), has_dst = r.has(Field::dstaddr);
  if (!has_src || !has_dst) return has_src;
  const bool src_internal = is_internal(r.srcaddr), dst_internal = is_internal(r.dstaddr);
  if (r.interface_id.empty()) return src_internal || !dst_internal;
  AddressVotes& v = votes_for(r.interface_id);
  v.vote(r.srcaddr);
  v.vote(r.dstaddr);
  const auto src_score = v.score(r.srcaddr), dst_score = v.score(r.dstaddr);
  if (src_score != dst_score) return src_score > dst_score;
  if (src_internal != dst_internal) return src_internal;
  return true;
}

void EntityRouter::route(const FlowRecord& r, std::vector<Observation>& out) {
  out.clear();
  if (!r.is_traffic()) return;
  const bool src_local = source_is_local(r);

  Observation base;
  base.time_s = (r.has(Field::start) ? r.start_ns : r.end_ns) / 1'000'000'000;
  base.packets = r.packets + r.packets_reverse;
  base.rejected = r.action == Action::reject;
  base.protocol = r.protocol;
  base.weight = r.sampling_rate > 0 && r.sampling_rate < 1 ? 1.0 / r.sampling_rate : 1.0;
  if (r.format == Format::azure_nsg || r.format == Format::azure_vnet) {
    // One tuple per connection with both directions' counters: count its directions.
    const bool counters = r.has(Field::packets) || r.has(Field::packets_reverse);
    // Without counters: a B tuple's come later; an NSG v1 tuple (none at all) is one record.
    int directions = counters ? (r.packets > 0) + (r.packets_reverse > 0) : r.flow_state == FlowState::begin ? 0 : 1;
    if (directions == 0 && base.rejected) directions = 1;  // a denied attempt
    base.directions = static_cast<std::uint8_t>(directions);
    base.continues = r.flow_state == FlowState::continuing || r.flow_state == FlowState::end;
  }
  const bool ports = r.has(Field::srcport) && r.has(Field::dstport) && has_ports(r.protocol);
  if (ports) {
    base.has_port = true;
    base.service_port = std::min(r.srcport, r.dstport);
  }

  // Fills the entity-relative fields for an entity on the record's source (or destination) side.
  auto oriented = [&](bool entity_is_source) {
    Observation o = base;
    o.inbound = !entity_is_source;
    if (ports) {
      o.local_port = entity_is_source ? r.srcport : r.dstport;
      o.client = o.local_port > base.service_port;
    }
    o.bytes_out = entity_is_source ? r.bytes : r.bytes_reverse;
    o.bytes_in = entity_is_source ? r.bytes_reverse : r.bytes;
    const bool peer_known = entity_is_source ? r.has(Field::dstaddr) : r.has(Field::srcaddr);
    if (peer_known) {
      const IpAddress& peer = entity_is_source ? r.dstaddr : r.srcaddr;
      o.has_peer = true;
      o.peer_hash = hash_address(peer);
      o.peer = peer.bytes();
      o.external_peer = !is_internal(peer);
    }
    return o;
  };
  auto address_key = [](EntityKind kind, const IpAddress& a) {
    char text[48];
    models::EntityKey key{kind, Symbol(std::string_view(text, a.write(text)))};
    return key;
  };

  // The interface and its local address are one host: computed once per record.
  const std::uint64_t host = r.interface_id.empty() ? 0 : models::EntityKey{EntityKind::interface, r.interface_id}.hash();
  for (EntityKind kind : config_.kinds) {
    switch (kind) {
      case EntityKind::interface:
        if (r.interface_id.empty()) break;
        out.push_back(oriented(src_local));
        out.back().entity = {kind, r.interface_id};
        break;
      case EntityKind::address: {
        if (!(src_local ? r.has(Field::srcaddr) : r.has(Field::dstaddr))) break;
        out.push_back(oriented(src_local));
        out.back().entity = address_key(kind, src_local ? r.srcaddr : r.dstaddr);
        out.back().entity.host = host;
        break;
      }
      case EntityKind::srcaddr:
        if (!r.has(Field::srcaddr)) break;
        out.push_back(oriented(true));
        out.back().entity = address_key(kind, r.srcaddr);
        break;
      case EntityKind::dstaddr:
        if (!r.has(Field::dstaddr)) break;
        out.push_back(oriented(false));
        out.back().entity = address_key(kind, r.dstaddr);
        break;
      case EntityKind::subnet:
      case EntityKind::vpc:
      case EntityKind::account: {
        const Symbol& id = kind == EntityKind::subnet ? r.subnet_id : kind == EntityKind::vpc ? r.vpc_id : r.account_id;
        if (id.empty()) break;
        out.push_back(oriented(src_local));
        out.back().entity = {kind, id};
        break;
      }
      case EntityKind::service_port: {
        const char* name = protocol_name(r.protocol);
        if (!ports || !name) break;
        const std::uint16_t local_port = src_local ? r.srcport : r.dstport;
        // Only a port the entity serves on: client-side ephemeral ports are not services.
        if (local_port != base.service_port) break;
        char text[24];
        const int n = std::snprintf(text, sizeof text, "%s/%u", name, static_cast<unsigned>(local_port));
        out.push_back(oriented(src_local));
        out.back().entity = {kind, Symbol(std::string_view(text, static_cast<std::size_t>(n)))};
        break;
      }
    }
  }
}

}  // namespace flowlier::pipeline
