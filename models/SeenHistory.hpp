#pragma once
// A bounded memory of the peers and ports an entity has used: a small Bloom filter
// each, so "never seen before" costs a few hundred bytes per entity whatever its
// history. False "seen" answers grow as a filter fills (a chatty entity), which only
// makes novelty rarer for entities where novelty means little anyway.
#include <array>
#include <cstdint>

namespace flowlier::models {

class SeenHistory {
 public:
  // Returns true when the peer had not been seen; remembers it either way.
  bool add_peer(std::uint64_t hash) { return insert(peers_, hash); }
  bool add_port(std::uint64_t hash) { return insert(ports_, hash); }

  std::uint32_t peers_inserted() const { return peer_count_; }
  const std::array<std::uint64_t, 16>& peer_bits() const { return peers_; }
  const std::array<std::uint64_t, 8>& port_bits() const { return ports_; }
  std::array<std::uint64_t, 16>& peer_bits() { return peers_; }
  std::array<std::uint64_t, 8>& port_bits() { return ports_; }

 private:
  template <std::size_t Words>
  bool insert(std::array<std::uint64_t, Words>& bits, std::uint64_t hash) {
    constexpr std::uint64_t nbits = Words * 64;
    const std::uint64_t h1 = hash % nbits;
    const std::uint64_t h2 = (hash >> 32) % nbits;
    const bool seen = ((bits[h1 / 64] >> (h1 % 64)) & 1u) && ((bits[h2 / 64] >> (h2 % 64)) & 1u);
    bits[h1 / 64] |= 1ULL << (h1 % 64);
    bits[h2 / 64] |= 1ULL << (h2 % 64);
    if (!seen && Words == 16) ++peer_count_;
    return !seen;
  }
  std::array<std::uint64_t, 16> peers_{};  // 1024 bits
  std::array<std::uint64_t, 8> ports_{};   // 512 bits
  std::uint32_t peer_count_ = 0;
};

}  // namespace flowlier::models
