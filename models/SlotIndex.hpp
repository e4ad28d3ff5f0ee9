#pragma once
// A hash index from a key's 64-bit hash to a uint32 slot number, for tables whose
// keys live elsewhere (the Windower's slots): open addressing with linear probing
// over one flat array of {hash, slot}, so a lookup touches one cache line of the
// index plus the slot it finds, instead of a bucket, a node and the key copy in it.
//
// The caller's `matches(slot)` decides equality, so the key is stored once. Load
// factor <= 1/2; erase shifts later entries back (no tombstones). 16 bytes per
// entry. Not thread-safe.
#include <cstdint>
#include <vector>

namespace flowlier::models {

class SlotIndex {
 public:
  static constexpr std::uint32_t kNone = 0xffffffffu;

  // The slot whose key has `hash` and satisfies `matches(slot)`, or kNone.
  template <typename Matches>
  std::uint32_t find(std::uint64_t hash, const Matches& matches) const {
    if (entries_.empty()) return kNone;
    for (std::size_t i = hash & mask_;; i = (i + 1) & mask_) {
      const Entry& e = entries_[i];
      if (e.slot == kNone) return kNone;
      if (e.hash == hash && matches(e.slot)) return e.slot;
    }
  }

  // Adds (hash, slot); the key must not be present already (find first).
  void insert(std::uint64_t hash, std::uint32_t slot);

  // Removes the entry of `slot` (found by its key's hash); false when absent.
  bool erase(std::uint64_t hash, std::uint32_t slot);

  // Removes every entry and keeps the capacity (for reuse without reallocating).
  void clear();

  std::size_t size() const { return size_; }
  std::size_t memory_usage() const { return entries_.capacity() * sizeof(Entry); }

 private:
  struct Entry {
    std::uint64_t hash = 0;
    std::uint32_t slot = kNone;
  };
  void grow();

  std::vector<Entry> entries_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

}  // namespace flowlier::models
