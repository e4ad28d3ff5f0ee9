#include "models/RecentWindows.hpp"

#include <algorithm>
#include <cmath>

namespace flowlier::models {

namespace {
// Log-coded values carry this top bit; the rest is round(log2(1 + value) * kLogSteps).
constexpr std::uint16_t kLogFlag = 0x8000;
constexpr double kLogSteps = 512;  // 15 bits span log2 up to 64: every double a feature reaches
constexpr std::uint8_t kNoScore = 255;
}  // namespace

std::uint16_t RecentWindows::encode_value(double value) {
  if (!(value > 0)) return 0;  // NaN and negatives too
  // Counts (ports, peers, flows) stay exact: an operator compares them digit by digit.
  if (value < kLogFlag && value == std::floor(value)) return static_cast<std::uint16_t>(value);
  const double code = std::round(std::log2(1.0 + value) * kLogSteps);
  return static_cast<std::uint16_t>(kLogFlag | static_cast<std::uint16_t>(std::min(code, double{kLogFlag - 1})));
}

double RecentWindows::decode_value(std::uint16_t code) {
  if ((code & kLogFlag) == 0) return code;
  const double value = std::exp2((code & ~kLogFlag) / kLogSteps) - 1.0;
  // Half a step is ~0.07 %: more digits would only be noise.
  if (value >= 1000) return std::round(value);
  return std::round(value * 1000) / 1000;
}

std::uint8_t RecentWindows::encode_score(double score) {
  if (std::isnan(score)) return kNoScore;
  return static_cast<std::uint8_t>(std::lround(std::clamp(score, 0.0, 100.0) * 2));
}

std::optional<double> RecentWindows::decode_score(std::uint8_t code) {
  if (code == kNoScore) return std::nullopt;
  return code / 2.0;
}

void RecentWindows::record(std::int64_t end, const FeatureVector& values,
                           const std::array<double, kFeatureCount>& scores) {
  ends_[next_] = static_cast<std::uint32_t>(std::clamp<std::int64_t>(end, 0, UINT32_MAX));
  for (std::size_t f = 0; f < kFeatureCount; ++f) {
    values_[next_][f] = encode_value(values[f]);
    scores_[next_][f] = encode_score(scores[f]);
  }
  next_ = static_cast<std::uint8_t>((next_ + 1) % kCapacity);
  if (size_ < kCapacity) ++size_;
}

RecentWindows::Window RecentWindows::at(std::size_t i) const {
  const std::size_t k = (next_ + kCapacity - size_ + i) % kCapacity;
  Window w;
  w.end = ends_[k];
  for (std::size_t f = 0; f < kFeatureCount; ++f) {
    w.values[f] = decode_value(values_[k][f]);
    w.scores[f] = decode_score(scores_[k][f]);
  }
  return w;
}

}  // namespace flowlier::models
