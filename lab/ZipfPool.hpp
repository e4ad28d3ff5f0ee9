#pragma once
// A pool of addresses drawn with Zipf popularity: rank r has weight 1 / r^exponent.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "lab/SimRandom.hpp"

namespace flowlier::lab::sim {

class ZipfPool {
 public:
  ZipfPool() = default;
  ZipfPool(std::vector<std::uint32_t> addresses, double exponent) : addresses_(std::move(addresses)) {
    double total = 0;
    cdf_.reserve(addresses_.size());
    for (std::size_t i = 0; i < addresses_.size(); ++i) {
      total += 1.0 / std::pow(static_cast<double>(i + 1), exponent);
      cdf_.push_back(total);
    }
    for (auto& c : cdf_) c /= total;
  }
  std::uint32_t pick(Rng& rng) const {
    const double u = uniform_real(rng, 0.0, 1.0);
    const auto it = std::upper_bound(cdf_.begin(), cdf_.end(), u);
    return addresses_[std::min<std::size_t>(static_cast<std::size_t>(it - cdf_.begin()), addresses_.size() - 1)];
  }
  const std::vector<std::uint32_t>& addresses() const { return addresses_; }
  bool empty() const { return addresses_.empty(); }

 private:
  std::vector<std::uint32_t> addresses_;
  std::vector<double> cdf_;
};

}  // namespace flowlier::lab::sim
