#include "detectors/RollingZDetector.hpp"

#include <algorithm>
#include <cmath>
#include <istream>
#include <ostream>

#include <boost/accumulators/accumulators.hpp>
#include <boost/accumulators/statistics/rolling_mean.hpp>
#include <boost/accumulators/statistics/rolling_variance.hpp>
#include <boost/accumulators/statistics/stats.hpp>

#include "detectors/Probability.hpp"
#include "core/StateIo.hpp"

namespace flowlier::detectors {

namespace acc = boost::accumulators;

struct RollingZDetector::Accumulator {
  explicit Accumulator(std::size_t window) : set(acc::tag::rolling_window::window_size = window) {}
  acc::accumulator_set<double, acc::stats<acc::tag::rolling_mean, acc::tag::rolling_variance>> set;
};

namespace {

RollingZConfig sanitized(RollingZConfig config) {
  config.window = std::clamp<std::uint32_t>(config.window, 2, 1u << 20);
  config.min_samples = std::clamp<std::uint32_t>(config.min_samples, 2, config.window);
  if (config.tail != Tail::lower && config.tail != Tail::both) config.tail = Tail::upper;
  if (!(config.band_sigma > 0.0) || !std::isfinite(config.band_sigma)) config.band_sigma = 3.0;
  if (!(config.min_relative_std >= 0.0) || !std::isfinite(config.min_relative_std)) {
    config.min_relative_std = 0.0;
  }
  if (!(config.min_std > 0.0) || !std::isfinite(config.min_std)) config.min_std = 1e-6;
  return config;
}

}  // namespace

std::string RollingZConfig::validate() const {
  if (window < 2 || window > (1u << 20)) return "window must be in [2, 1048576]";
  if (min_samples < 2) return "min_samples must be >= 2";
  if (!(band_sigma > 0.0) || !std::isfinite(band_sigma)) return "band_sigma must be > 0";
  if (!(min_relative_std >= 0.0) || !std::isfinite(min_relative_std)) {
    return "min_relative_std must be >= 0";
  }
  if (!(min_std > 0.0) || !std::isfinite(min_std)) return "min_std must be > 0";
  return {};
}

RollingZDetector::RollingZDetector(const RollingZConfig& config)
    : config_(sanitized(config)), accumulator_(std::make_unique<Accumulator>(config_.window)) {
  ring_.reserve(config_.window);
}

RollingZDetector::~RollingZDetector() = default;
RollingZDetector::RollingZDetector(RollingZDetector&&) noexcept = default;
RollingZDetector& RollingZDetector::operator=(RollingZDetector&&) noexcept = default;

RollingZDetector::RollingZDetector(const RollingZDetector& other)
    : config_(other.config_), ring_(other.ring_), head_(other.head_), size_(other.size_) {
  ring_.reserve(config_.window);
  rebuild_accumulator();
}

RollingZDetector& RollingZDetector::operator=(const RollingZDetector& other) {
  if (this != &other) {
    RollingZDetector copy(other);
    *this = std::move(copy);
  }
  return *this;
}

void RollingZDetector::rebuild_accumulator() {
  accumulator_ = std::make_unique<Accumulator>(config_.window);
  for (std::uint32_t i = 0; i < size_; ++i) {
    accumulator_->set(ring_[(head_ + i) % ring_.size()]);  // oldest first
  }
}

void RollingZDetector::update(double value, std::int64_t /*time_s*/) {
  if (!std::isfinite(value)) return;
  accumulator_->set(value);
  if (ring_.size() < config_.window) {
    ring_.push_back(value);
    size_ = static_cast<std::uint32_t>(ring_.size());
  } else {
    ring_[head_] = value;
    head_ = (head_ + 1) % config_.window;
  }
}

double RollingZDetector::mean() const {
  return size_ == 0 ? 0.0 : acc::rolling_mean(accumulator_->set);
}

double RollingZDetector::variance() const {
  if (size_ < 2) return 0.0;
  // The immediate rolling variance can drift a hair below 0 after many add/remove steps.
  return std::max(0.0, acc::rolling_variance(accumulator_->set));
}

DetectorResult RollingZDetector::score(double value, std::int64_t /*time_s*/) const {
  DetectorResult result;
  result.value = std::isfinite(value) ? value : 0.0;
  result.warming_up = !is_warm();
  if (size_ == 0) {
    result.expected = result.lower = result.upper = result.value;
    return result;
  }
  const double m = mean();
  const double sd = std::max({std::sqrt(variance()), config_.min_std, config_.min_relative_std * std::abs(m)});
  result.expected = m;
  result.lower = m - config_.band_sigma * sd;
  result.upper = m + config_.band_sigma * sd;
  if (result.warming_up || !std::isfinite(value)) return result;
  const double z = (value - m) / sd;
  result.tail_probability = config_.student_t ? student_t_tail(z, size_ - 1.0, config_.tail)
                                              : normal_tail(z, config_.tail);
  return result;
}

std::size_t RollingZDetector::memory_usage() const {
  // Own ring + the accumulator object and its circular buffer of `window` doubles.
  return sizeof(*this) + ring_.capacity() * sizeof(double) + sizeof(Accumulator) +
         config_.window * sizeof(double);
}

std::string RollingZDetector::payload() const {
  StateWriter writer;
  writer.put<std::uint32_t>(config_.window);
  // Oldest first, so restore can re-feed in order and store the ring unrotated.
  std::vector<double> ordered;
  ordered.reserve(size_);
  for (std::uint32_t i = 0; i < size_; ++i) ordered.push_back(ring_[(head_ + i) % ring_.size()]);
  writer.put_vector(ordered);
  return writer.take();
}

void RollingZDetector::save(std::ostream& out) const { save_record(out, kTag, kVersion, payload()); }

std::uint64_t RollingZDetector::checksum() const { return fnv1a64(payload()); }

std::string RollingZDetector::restore(std::istream& in) {
  std::string bytes;
  if (std::string error = load_record(in, kTag, kVersion, bytes, 64 + 8 * std::size_t{config_.window});
      !error.empty()) {
    return error;
  }
  StateReader reader(bytes);
  std::uint32_t window = 0;
  std::vector<double> values;
  if (reader.get(window) && window != config_.window) {
    reader.fail("saved window " + std::to_string(window) + " differs from the configured " +
                std::to_string(config_.window));
  }
  reader.get_vector(values, config_.window);
  if (reader.ok() && !std::all_of(values.begin(), values.end(), [](double v) { return std::isfinite(v); })) {
    reader.fail("window holds a non-finite value");
  }
  if (std::string error = reader.finish(); !error.empty()) return "rolling_z: " + error;
  RollingZDetector next(config_);
  for (const double v : values) next.update(v, 0);
  *this = std::move(next);
  return {};
}

}  // namespace flowlier::detectors
