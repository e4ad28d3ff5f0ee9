#pragma once
// A bounded memory of the peers and ports an entity has used recently, so "never seen
// before" costs a few hundred bytes per entity whatever its history.
//
// Each is a pair of small Bloom filters (3 probes), current and previous generation.
// When the current one has taken `Capacity` new items it becomes the previous one and
// a fresh one starts. A single filter that never forgets fills up on a chatty entity
// (an app server meeting hundreds of CDN addresses a day): after a day almost every
// lookup answered "seen", so a first upload to a new address went unnoticed. With
// generations the false "seen" rate stays below about 3% for every entity; the price
// is that a chatty entity remembers only its last few hundred peers, which is the
// right memory for it (novelty means little there and its baseline learns that).
// A quiet entity never turns a generation and remembers everything.
// Trivially copyable: saved as raw bytes with the entity table.
#include <array>
#include <cstdint>

namespace flowlier::models {

template <std::size_t Words, std::uint32_t Capacity>
class GenerationalBloom {
 public:
  // True when the item is in neither generation; remembers it in the current one
  // either way (an item met again stays remembered across a turn).
  bool insert(std::uint64_t hash) {
    const std::uint64_t h = mix(hash);
    const bool in_previous = contains(previous_, h);
    if (contains(current_, h)) return false;
    set(current_, h);
    if (++current_count_ >= Capacity) {
      previous_ = current_;
      current_ = {};
      current_count_ = 0;
    }
    return !in_previous;
  }

 private:
  static constexpr std::uint64_t kBits = Words * 64;
  static constexpr int kProbes = 3;

  // splitmix64's finaliser: callers' hashes need not be well mixed in their low bits.
  static std::uint64_t mix(std::uint64_t x) {
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
  }
  // Double hashing: probe i at (a + i b) mod bits.
  static bool contains(const std::array<std::uint64_t, Words>& bits, std::uint64_t h) {
    const std::uint64_t a = h & 0xffffffffu, b = (h >> 32) | 1u;
    for (int i = 0; i < kProbes; ++i) {
      const std::uint64_t k = (a + static_cast<std::uint64_t>(i) * b) % kBits;
      if (!((bits[k / 64] >> (k % 64)) & 1u)) return false;
    }
    return true;
  }
  static void set(std::array<std::uint64_t, Words>& bits, std::uint64_t h) {
    const std::uint64_t a = h & 0xffffffffu, b = (h >> 32) | 1u;
    for (int i = 0; i < kProbes; ++i) {
      const std::uint64_t k = (a + static_cast<std::uint64_t>(i) * b) % kBits;
      bits[k / 64] |= 1ULL << (k % 64);
    }
  }

  std::array<std::uint64_t, Words> current_{};
  std::array<std::uint64_t, Words> previous_{};
  std::uint32_t current_count_ = 0;
};

class SeenHistory {
 public:
  // Returns true when the peer (port) was not seen recently; remembers it either way.
  bool add_peer(std::uint64_t hash) { return peers_.insert(hash); }
  bool add_port(std::uint64_t hash) { return ports_.insert(hash); }

  // 1024 bits a generation and 96 items a turn keep each filter about a quarter full,
  // 1.5% false "seen" each (3 probes), so at most ~3% over both generations.
  using PeerMemory = GenerationalBloom<16, 96>;
  using PortMemory = GenerationalBloom<8, 48>;

 private:
  PeerMemory peers_{};
  PortMemory ports_{};
};

}  // namespace flowlier::models
