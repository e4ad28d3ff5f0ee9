#pragma once
// Counts distinct 64-bit hashes cheaply: exactly for the first few (the common case,
// a host with a handful of peers), then as a HyperLogLog sketch whose size is fixed,
// so a flood of a million sources costs the same memory as a thousand.
#include <array>
#include <cstdint>
#include <memory>

#include "core/StateIo.hpp"

namespace flowlier::models {

class DistinctCounter {
 public:
  static constexpr std::size_t exact_capacity = 8;
  static constexpr int hll_bits = 7;  // 128 registers: about 9% standard error
  static constexpr std::size_t hll_registers = std::size_t{1} << hll_bits;

  DistinctCounter() = default;
  DistinctCounter(const DistinctCounter& other);
  DistinctCounter& operator=(const DistinctCounter& other);
  DistinctCounter(DistinctCounter&&) noexcept = default;
  DistinctCounter& operator=(DistinctCounter&&) noexcept = default;

  // Returns true when the value was (as far as the counter can tell) not seen before.
  bool add(std::uint64_t hash);
  double estimate() const;
  void clear();
  bool is_exact() const { return !registers_; }
  void save(detectors::StateWriter& w) const;
  bool load(detectors::StateReader& r);
  std::size_t memory_usage() const { return sizeof(*this) + (registers_ ? hll_registers : 0); }

 private:
  void promote();
  std::array<std::uint64_t, exact_capacity> exact_{};
  std::uint8_t exact_size_ = 0;
  std::unique_ptr<std::uint8_t[]> registers_;
};

}  // namespace flowlier::models
