#include "models/DistinctCounter.hpp"

#include <bit>
#include <cmath>
#include <cstring>

namespace flowlier::models {

namespace {
std::uint64_t mix(std::uint64_t h) {
  h ^= h >> 31;
  h *= 0x7fb5d329728ea185ULL;
  h ^= h >> 27;
  h *= 0x81dadef4bc2dd44dULL;
  h ^= h >> 33;
  return h;
}
}  // namespace

DistinctCounter::DistinctCounter(const DistinctCounter& other) : exact_(other.exact_), exact_size_(other.exact_size_) {
  if (other.registers_) {
    registers_ = std::make_unique<std::uint8_t[]>(hll_registers);
    std::memcpy(registers_.get(), other.registers_.get(), hll_registers);
  }
}

DistinctCounter& DistinctCounter::operator=(const DistinctCounter& other) {
  if (this != &other) {
    DistinctCounter copy(other);
    *this = std::move(copy);
  }
  return *this;
}

void DistinctCounter::clear() {
  exact_size_ = 0;
  registers_.reset();
}

void DistinctCounter::promote() {
  registers_ = std::make_unique<std::uint8_t[]>(hll_registers);
  std::memset(registers_.get(), 0, hll_registers);
  const auto n = exact_size_;
  exact_size_ = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t h = mix(exact_[i]);
    const std::size_t index = h >> (64 - hll_bits);
    const auto rank = static_cast<std::uint8_t>(std::countl_zero((h << hll_bits) | (1ULL << (hll_bits - 1))) + 1);
    if (rank > registers_[index]) registers_[index] = rank;
  }
}

bool DistinctCounter::add(std::uint64_t hash) {
  if (!registers_) {
    for (std::size_t i = 0; i < exact_size_; ++i) {
      if (exact_[i] == hash) return false;
    }
    if (exact_size_ < exact_capacity) {
      exact_[exact_size_++] = hash;
      return true;
    }
    promote();
  }
  const std::uint64_t h = mix(hash);
  const std::size_t index = h >> (64 - hll_bits);
  const auto rank = static_cast<std::uint8_t>(std::countl_zero((h << hll_bits) | (1ULL << (hll_bits - 1))) + 1);
  if (rank > registers_[index]) {
    registers_[index] = rank;
    return true;
  }
  return false;
}

double DistinctCounter::estimate() const {
  if (!registers_) return exact_size_;
  const double m = static_cast<double>(hll_registers);
  double sum = 0;
  int zeros = 0;
  // 2^-rank from a table: ldexp per register dominated the estimate's cost.
  static const std::array<double, 66> inverse_powers = [] {
    std::array<double, 66> t{};
    for (std::size_t r = 0; r < t.size(); ++r) t[r] = std::ldexp(1.0, -static_cast<int>(r));
    return t;
  }();
  for (std::size_t i = 0; i < hll_registers; ++i) {
    sum += inverse_powers[registers_[i]];
    if (registers_[i] == 0) ++zeros;
  }
  const double alpha = 0.7213 / (1.0 + 1.079 / m);
  double estimate = alpha * m * m / sum;
  // Small-range correction (linear counting), as in the HyperLogLog paper.
  if (estimate <= 2.5 * m && zeros > 0) estimate = m * std::log(m / zeros);
  return std::max(estimate, static_cast<double>(exact_capacity));
}

void DistinctCounter::save(detectors::StateWriter& w) const {
  w.put(exact_size_);
  w.put(exact_);
  w.put<std::uint8_t>(registers_ ? 1 : 0);
  if (registers_) w.put_bytes(registers_.get(), hll_registers);
}

bool DistinctCounter::load(detectors::StateReader& r) {
  std::uint8_t has_registers = 0;
  r.get(exact_size_);
  r.get(exact_);
  r.get(has_registers);
  if (!r.ok()) return false;
  if (exact_size_ > exact_capacity || has_registers > 1) return r.fail("distinct counter state is out of range");
  registers_.reset();
  if (has_registers) {
    std::array<std::uint8_t, hll_registers> bytes{};
    if (!r.get(bytes)) return false;
    registers_ = std::make_unique<std::uint8_t[]>(hll_registers);
    std::memcpy(registers_.get(), bytes.data(), hll_registers);
  }
  return true;
}

}  // namespace flowlier::models
