#include "models/SlotIndex.hpp"

#include <algorithm>

namespace flowlier::models {

void SlotIndex::grow() {
  std::vector<Entry> old;
  old.swap(entries_);
  entries_.assign(old.empty() ? 16 : old.size() * 2, Entry{});
  mask_ = entries_.size() - 1;
  for (const Entry& e : old) {
    if (e.slot == kNone) continue;
    std::size_t i = e.hash & mask_;
    while (entries_[i].slot != kNone) i = (i + 1) & mask_;
    entries_[i] = e;
  }
}

void SlotIndex::insert(std::uint64_t hash, std::uint32_t slot) {
  if ((size_ + 1) * 2 > entries_.size()) grow();
  std::size_t i = hash & mask_;
  while (entries_[i].slot != kNone) i = (i + 1) & mask_;
  entries_[i] = Entry{hash, slot};
  ++size_;
}

void SlotIndex::clear() {
  std::fill(entries_.begin(), entries_.end(), Entry{});
  size_ = 0;
}

bool SlotIndex::erase(std::uint64_t hash, std::uint32_t slot) {
  if (entries_.empty()) return false;
  std::size_t i = hash & mask_;
  while (entries_[i].slot != slot) {
    if (entries_[i].slot == kNone) return false;
    i = (i + 1) & mask_;
  }
  // Backward-shift deletion: move up every later entry of the probe run whose home
  // position is not cyclically in (i, j], so no lookup meets a hole too early.
  for (std::size_t j = (i + 1) & mask_; entries_[j].slot != kNone; j = (j + 1) & mask_) {
    const std::size_t home = entries_[j].hash & mask_;
    const bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
    if (stays) continue;
    entries_[i] = entries_[j];
    i = j;
  }
  entries_[i] = Entry{};
  --size_;
  return true;
}

}  // namespace flowlier::models
