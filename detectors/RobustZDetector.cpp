#include "detectors/RobustZDetector.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <istream>
#include <ostream>

#include "detectors/Probability.hpp"
#include "core/StateIo.hpp"

namespace flowlier::detectors {
namespace {

RobustZConfig sanitized(RobustZConfig config) {
  config.window = std::clamp<std::uint32_t>(config.window, 3, 1u << 20);
  config.min_samples = std::clamp<std::uint32_t>(config.min_samples, 3, config.window);
  if (config.tail != Tail::lower && config.tail != Tail::both) config.tail = Tail::upper;
  if (!(config.band_sigma > 0.0) || !std::isfinite(config.band_sigma)) config.band_sigma = 3.0;
  if (!(config.min_relative_mad >= 0.0) || !std::isfinite(config.min_relative_mad)) {
    config.min_relative_mad = 0.0;
  }
  if (!(config.min_mad > 0.0) || !std::isfinite(config.min_mad)) config.min_mad = 1e-6;
  return config;
}

// Median of data[0, n) (reorders it). Even n: mean of the two middle values.
float median_of(float* data, std::size_t n) {
  const std::size_t mid = n / 2;
  std::nth_element(data, data + mid, data + n);
  const float upper = data[mid];
  if (n % 2 == 1) return upper;
  const float lower = *std::max_element(data, data + mid);
  return lower + (upper - lower) / 2.0f;
}

}  // namespace

std::string RobustZConfig::validate() const {
  if (window < 3 || window > (1u << 20)) return "window must be in [3, 1048576]";
  if (min_samples < 3) return "min_samples must be >= 3";
  if (!(band_sigma > 0.0) || !std::isfinite(band_sigma)) return "band_sigma must be > 0";
  if (!(min_relative_mad >= 0.0) || !std::isfinite(min_relative_mad)) {
    return "min_relative_mad must be >= 0";
  }
  if (!(min_mad > 0.0) || !std::isfinite(min_mad)) return "min_mad must be > 0";
  return {};
}

RobustZDetector::RobustZDetector(const RobustZConfig& config) : config_(sanitized(config)) {}

void RobustZDetector::recompute() {
  const std::size_t n = ring_.size();
  if (n == 0) {
    median_ = mad_ = 0.0f;
    return;
  }
  // Scratch on the stack for the usual window sizes; the heap only for huge windows.
  std::array<float, 512> stack_buffer;
  std::vector<float> heap_buffer;
  float* scratch = stack_buffer.data();
  if (n > stack_buffer.size()) {
    heap_buffer.resize(n);
    scratch = heap_buffer.data();
  }
  std::copy(ring_.begin(), ring_.end(), scratch);
  median_ = median_of(scratch, n);
  for (std::size_t i = 0; i < n; ++i) scratch[i] = std::abs(ring_[i] - median_);
  mad_ = median_of(scratch, n);
}

void RobustZDetector::update(double value, std::int64_t /*time_s*/) {
  if (!std::isfinite(value)) return;
  const auto v = static_cast<float>(std::clamp(value, -3.0e38, 3.0e38));
  if (ring_.size() < config_.window) {
    ring_.push_back(v);
  } else {
    ring_[head_] = v;
    head_ = (head_ + 1) % config_.window;
  }
  recompute();
}

DetectorResult RobustZDetector::score(double value, std::int64_t /*time_s*/) const {
  DetectorResult result;
  result.value = std::isfinite(value) ? value : 0.0;
  result.warming_up = !is_warm();
  if (ring_.empty()) {
    result.expected = result.lower = result.upper = result.value;
    return result;
  }
  const double median = median_;
  const double scale = std::max({kMadToSigma * mad_, config_.min_mad, config_.min_relative_mad * std::abs(median)});
  result.expected = median;
  result.lower = median - config_.band_sigma * scale;
  result.upper = median + config_.band_sigma * scale;
  if (result.warming_up || !std::isfinite(value)) return result;
  result.tail_probability = normal_tail((value - median) / scale, config_.tail);
  return result;
}

std::string RobustZDetector::payload() const {
  StateWriter writer;
  writer.put<std::uint32_t>(config_.window);
  std::vector<float> ordered;  // oldest first
  ordered.reserve(ring_.size());
  for (std::size_t i = 0; i < ring_.size(); ++i) ordered.push_back(ring_[(head_ + i) % ring_.size()]);
  writer.put_vector(ordered);
  return writer.take();
}

void RobustZDetector::save(std::ostream& out) const { save_record(out, kTag, kVersion, payload()); }

std::uint64_t RobustZDetector::checksum() const { return fnv1a64(payload()); }

std::string RobustZDetector::restore(std::istream& in) {
  std::string bytes;
  if (std::string error = load_record(in, kTag, kVersion, bytes, 64 + 4 * std::size_t{config_.window});
      !error.empty()) {
    return error;
  }
  StateReader reader(bytes);
  std::uint32_t window = 0;
  RobustZDetector next(config_);
  if (reader.get(window) && window != config_.window) {
    reader.fail("saved window " + std::to_string(window) + " differs from the configured " +
                std::to_string(config_.window));
  }
  reader.get_vector(next.ring_, config_.window);
  if (reader.ok() && !std::all_of(next.ring_.begin(), next.ring_.end(), [](float v) { return std::isfinite(v); })) {
    reader.fail("window holds a non-finite value");
  }
  if (std::string error = reader.finish(); !error.empty()) return "robust_z: " + error;
  next.ring_.reserve(config_.window);
  next.recompute();
  *this = std::move(next);
  return {};
}

}  // namespace flowlier::detectors
