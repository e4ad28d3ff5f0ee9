#pragma once
// The few heaviest keys of a stream (space-saving, Metwally et al. 2005) with a fixed
// number of slots: which peers or ports drove a window, at constant memory.
#include <utility>
#include <array>
#include <cstdint>

namespace flowlier::models {

template <typename Key, std::size_t Slots>
class TopContributors {
 public:
  struct Entry {
    Key key{};
    double weight = 0;
    double error = 0;  // weight inherited from the entry it replaced: weight - error is certain
  };

  void add(const Key& key, double weight) {
    total_ += weight;
    Entry* smallest = nullptr;
    for (std::size_t i = 0; i < size_; ++i) {
      if (entries_[i].key == key) {
        entries_[i].weight += weight;
        return;
      }
      if (!smallest || entries_[i].weight < smallest->weight) smallest = &entries_[i];
    }
    if (size_ < Slots) {
      entries_[size_++] = Entry{key, weight};
      return;
    }
    // Replace the lightest: its weight is an upper bound of the newcomer's error.
    smallest->key = key;
    smallest->error = smallest->weight;
    smallest->weight += weight;
  }

  // Entries by weight, heaviest first.
  std::array<Entry, Slots> sorted(std::size_t& count) const {
    auto out = entries_;
    // Insertion sort: a handful of slots (std::sort trips a GCC 12 bounds warning here).
    for (std::size_t i = 1; i < size_; ++i) {
      for (std::size_t j = i; j > 0 && out[j].weight > out[j - 1].weight; --j) std::swap(out[j], out[j - 1]);
    }
    count = size_;
    return out;
  }
  // Entries by their certain weight (weight - error), heaviest first: what a key
  // surely carried, for counts that must not grow with the number of other keys.
  std::array<Entry, Slots> sorted_certain(std::size_t& count) const {
    auto out = entries_;
    for (std::size_t i = 0; i < size_; ++i) {
      out[i].weight -= out[i].error;
      out[i].error = 0;
    }
    for (std::size_t i = 1; i < size_; ++i) {
      for (std::size_t j = i; j > 0 && out[j].weight > out[j - 1].weight; --j) std::swap(out[j], out[j - 1]);
    }
    count = size_;
    return out;
  }
  double total() const { return total_; }
  void clear() {
    size_ = 0;
    total_ = 0;
  }

 private:
  std::array<Entry, Slots> entries_{};
  std::size_t size_ = 0;
  double total_ = 0;
};

}  // namespace flowlier::models
