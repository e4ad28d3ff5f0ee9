#include "detectors/HalfSpaceTrees.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <istream>
#include <ostream>
#include <sstream>

#include "core/StateIo.hpp"

namespace flowlier::detectors {
namespace {

constexpr std::uint32_t kMaxDimension = 64;
constexpr std::uint32_t kMaxTrees = 256;
constexpr std::uint32_t kMaxDepth = 16;
constexpr std::size_t kMaxNodesTotal = std::size_t{1} << 24;
constexpr std::size_t kMaxRngState = 16384;

bool fixed_range(const HalfSpaceTreesConfig& c) {
  return !c.range_min.empty() || !c.range_max.empty();
}

HalfSpaceTreesConfig sanitized(HalfSpaceTreesConfig c) {
  c.dimension = std::clamp<std::uint32_t>(c.dimension, 1, kMaxDimension);
  c.trees = std::clamp<std::uint32_t>(c.trees, 1, kMaxTrees);
  c.depth = std::clamp<std::uint32_t>(c.depth, 1, kMaxDepth);
  while (std::size_t{c.trees} * ((std::size_t{2} << c.depth) - 1) > kMaxNodesTotal) --c.depth;
  c.window_size = std::clamp<std::uint32_t>(c.window_size, 8, 1u << 24);
  bool range_ok = c.range_min.size() == c.dimension && c.range_max.size() == c.dimension;
  for (std::size_t i = 0; range_ok && i < c.dimension; ++i) {
    range_ok = std::isfinite(c.range_min[i]) && std::isfinite(c.range_max[i]) && c.range_min[i] < c.range_max[i];
  }
  if (!range_ok) {  // invalid or absent: learn instead
    c.range_min.clear();
    c.range_max.clear();
  }
  if (!(c.range_margin >= 0.0 && c.range_margin <= 10.0)) c.range_margin = 0.1;
  c.calibration_size = std::clamp<std::uint32_t>(c.calibration_size, 16, 1u << 20);
  c.min_calibration = std::clamp<std::uint32_t>(c.min_calibration, 1, c.calibration_size);
  if (!(c.size_limit_fraction >= 0.0 && c.size_limit_fraction < 1.0)) c.size_limit_fraction = 0.1;
  return c;
}

// A double in [0, 1) from the top 53 bits: identical on every standard library.
double uniform01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

}  // namespace

std::string HalfSpaceTreesConfig::validate() const {
  if (dimension < 1 || dimension > kMaxDimension) return "dimension must be in [1, 64]";
  if (trees < 1 || trees > kMaxTrees) return "trees must be in [1, 256]";
  if (depth < 1 || depth > kMaxDepth) return "depth must be in [1, 16]";
  if (std::size_t{trees} * ((std::size_t{2} << depth) - 1) > kMaxNodesTotal) {
    return "trees * 2^(depth+1) exceeds 16M nodes";
  }
  if (window_size < 8 || window_size > (1u << 24)) return "window_size must be in [8, 16777216]";
  if (fixed_range(*this)) {
    if (range_min.size() != dimension || range_max.size() != dimension) {
      return "range_min and range_max must both have `dimension` entries";
    }
    for (std::size_t i = 0; i < dimension; ++i) {
      if (!std::isfinite(range_min[i]) || !std::isfinite(range_max[i]) || !(range_min[i] < range_max[i])) {
        return "range_min[" + std::to_string(i) + "] must be finite and below range_max";
      }
    }
  }
  if (!(range_margin >= 0.0 && range_margin <= 10.0)) return "range_margin must be in [0, 10]";
  if (calibration_size < 16 || calibration_size > (1u << 20)) return "calibration_size must be in [16, 1048576]";
  if (min_calibration < 1 || min_calibration > calibration_size) {
    return "min_calibration must be in [1, calibration_size]";
  }
  if (!(size_limit_fraction >= 0.0 && size_limit_fraction < 1.0)) return "size_limit_fraction must be in [0, 1)";
  return {};
}

HalfSpaceTrees::HalfSpaceTrees(const HalfSpaceTreesConfig& config)
    : config_(sanitized(config)), learn_range_(!fixed_range(config_)), rng_(config_.seed) {
  const std::size_t d = config_.dimension;
  const std::size_t internal = internal_per_tree();
  split_dimension_.resize(config_.trees * internal);
  split_value_.resize(config_.trees * internal);
  reference_mass_.assign(config_.trees * nodes_per_tree(), 0);
  latest_mass_.assign(config_.trees * nodes_per_tree(), 0);
  if (learn_range_) {
    scale_low_.assign(d, 0.0);
    scale_high_.assign(d, 1.0);
  } else {
    scale_low_ = config_.range_min;
    scale_high_ = config_.range_max;
  }
  // Work ranges per tree (the paper's perturbation: s in [0,1), range [s - 2m, s + 2m]
  // with m = max(s, 1 - s)), then each internal node halves a random dimension's range.
  std::vector<double> low(d * (internal + 1));
  std::vector<double> high(d * (internal + 1));
  for (std::uint32_t t = 0; t < config_.trees; ++t) {
    for (std::size_t q = 0; q < d; ++q) {
      const double s = uniform01(rng_);
      const double span = 2.0 * std::max(s, 1.0 - s);
      low[q] = s - span;
      high[q] = s + span;
    }
    // Node i's range lives at [i * d, (i + 1) * d) while its subtree is built (heap order,
    // so parents are always set before children; children of the last level are leaves).
    for (std::size_t node = 0; node < internal; ++node) {
      const std::size_t q = static_cast<std::size_t>(rng_() % d);
      const double* node_low = &low[node * d];
      const double* node_high = &high[node * d];
      const double mid = 0.5 * (node_low[q] + node_high[q]);
      split_dimension_[t * internal + node] = static_cast<std::uint16_t>(q);
      split_value_[t * internal + node] = static_cast<float>(mid);
      for (const std::size_t child : {2 * node + 1, 2 * node + 2}) {
        if (child >= internal) continue;
        std::copy(node_low, node_low + d, &low[child * d]);
        std::copy(node_high, node_high + d, &high[child * d]);
        (child == 2 * node + 1 ? high : low)[child * d + q] = mid;
      }
    }
  }
  if (learn_range_) {
    observed_min_.assign(d, std::numeric_limits<double>::infinity());
    observed_max_.assign(d, -std::numeric_limits<double>::infinity());
    first_window_.reserve(d * config_.window_size);
  }
  recent_scores_.reserve(config_.calibration_size);
  sorted_scores_.reserve(config_.calibration_size);
}

bool HalfSpaceTrees::accepts(const Eigen::VectorXd& x) const {
  return x.size() == static_cast<Eigen::Index>(config_.dimension) && x.allFinite();
}

void HalfSpaceTrees::scale(const double* x, double* out) const {
  for (std::size_t q = 0; q < config_.dimension; ++q) {
    const double span = scale_high_[q] - scale_low_[q];
    out[q] = span > 0.0 ? std::clamp((x[q] - scale_low_[q]) / span, 0.0, 1.0) : 0.5;
  }
}

double HalfSpaceTrees::raw_score(const double* scaled) const {
  const std::size_t nodes = nodes_per_tree();
  const std::size_t internal = internal_per_tree();
  const double size_limit = config_.size_limit_fraction * config_.window_size;
  double total = 0.0;
  for (std::size_t t = 0; t < config_.trees; ++t) {
    const std::uint32_t* mass = &reference_mass_[t * nodes];
    std::size_t node = 0;
    std::uint32_t level = 0;
    while (level < config_.depth && mass[node] > size_limit) {
      const std::size_t split = t * internal + node;
      node = 2 * node + (scaled[split_dimension_[split]] < split_value_[split] ? 1 : 2);
      ++level;
    }
    total += std::ldexp(static_cast<double>(mass[node]), static_cast<int>(level));
  }
  return total;
}

void HalfSpaceTrees::insert(const double* scaled) {
  const std::size_t nodes = nodes_per_tree();
  const std::size_t internal = internal_per_tree();
  for (std::size_t t = 0; t < config_.trees; ++t) {
    std::uint32_t* mass = &latest_mass_[t * nodes];
    std::size_t node = 0;
    for (std::uint32_t level = 0;; ++level) {
      ++mass[node];
      if (level == config_.depth) break;
      const std::size_t split = t * internal + node;
      node = 2 * node + (scaled[split_dimension_[split]] < split_value_[split] ? 1 : 2);
    }
  }
}

void HalfSpaceTrees::refresh_learned_range() {
  if (!learn_range_) return;
  for (std::size_t q = 0; q < config_.dimension; ++q) {
    if (!(observed_min_[q] <= observed_max_[q])) continue;
    // A constant dimension still gets a unit-ish span so later changes register.
    const double span = std::max(observed_max_[q] - observed_min_[q],
                                 std::max(1e-9, 1e-3 * std::abs(observed_max_[q])));
    scale_low_[q] = observed_min_[q] - config_.range_margin * span;
    scale_high_[q] = observed_max_[q] + config_.range_margin * span;
  }
}

void HalfSpaceTrees::roll_window() {
  reference_mass_.swap(latest_mass_);
  std::fill(latest_mass_.begin(), latest_mass_.end(), 0u);
  window_count_ = 0;
  ++windows_completed_;
  refresh_learned_range();
}

void HalfSpaceTrees::remember_score(double raw) {
  if (recent_scores_.size() < config_.calibration_size) {
    recent_scores_.push_back(raw);
  } else {
    const double old = recent_scores_[recent_head_];
    sorted_scores_.erase(std::lower_bound(sorted_scores_.begin(), sorted_scores_.end(), old));
    recent_scores_[recent_head_] = raw;
    recent_head_ = (recent_head_ + 1) % config_.calibration_size;
  }
  sorted_scores_.insert(std::upper_bound(sorted_scores_.begin(), sorted_scores_.end(), raw), raw);
}

double HalfSpaceTrees::calibrate(double raw) const {
  if (sorted_scores_.empty()) return 1.0;
  const double n = static_cast<double>(sorted_scores_.size());
  const auto at_or_below = std::upper_bound(sorted_scores_.begin(), sorted_scores_.end(), raw) - sorted_scores_.begin();
  if (at_or_below > 0) return std::min(1.0, (static_cast<double>(at_or_below) + 1.0) / (n + 1.0));
  // Below every recent score: extrapolate toward 0 in proportion to the score, so an
  // empty-region point (raw 0) is rarer than a merely low one.
  const double lowest = sorted_scores_.front();
  const double ratio = lowest > 0.0 ? raw / lowest : 0.0;
  return std::max(ratio, 1e-3) / (n + 1.0);
}

bool HalfSpaceTrees::update(const Eigen::VectorXd& x, std::int64_t /*time_s*/) {
  if (!accepts(x)) return false;
  const std::size_t d = config_.dimension;
  ++count_;
  if (learn_range_) {
    for (std::size_t q = 0; q < d; ++q) {
      observed_min_[q] = std::min(observed_min_[q], x[static_cast<Eigen::Index>(q)]);
      observed_max_[q] = std::max(observed_max_[q], x[static_cast<Eigen::Index>(q)]);
    }
  }
  std::array<double, kMaxDimension> scaled{};
  if (learn_range_ && windows_completed_ == 0) {
    // Hold the first window until its range is known, then build the first reference.
    first_window_.insert(first_window_.end(), x.data(), x.data() + d);
    if (++window_count_ < config_.window_size) return true;
    refresh_learned_range();
    for (std::size_t i = 0; i + d <= first_window_.size(); i += d) {
      scale(&first_window_[i], scaled.data());
      insert(scaled.data());
    }
    first_window_.clear();
    first_window_.shrink_to_fit();
    roll_window();
    return true;
  }
  scale(x.data(), scaled.data());
  if (windows_completed_ > 0) remember_score(raw_score(scaled.data()));
  insert(scaled.data());
  if (++window_count_ == config_.window_size) roll_window();
  return true;
}

bool HalfSpaceTrees::is_warm() const {
  return windows_completed_ > 0 && sorted_scores_.size() >= config_.min_calibration;
}

HalfSpaceTreesResult HalfSpaceTrees::score(const Eigen::VectorXd& x, std::int64_t /*time_s*/) const {
  HalfSpaceTreesResult result;
  result.warming_up = !is_warm();
  if (!accepts(x) || windows_completed_ == 0) return result;
  std::array<double, kMaxDimension> scaled{};
  scale(x.data(), scaled.data());
  result.raw_score = raw_score(scaled.data());
  if (!result.warming_up) result.tail_probability = calibrate(result.raw_score);
  return result;
}

std::size_t HalfSpaceTrees::memory_usage() const {
  auto bytes = [](const auto& v) { return v.capacity() * sizeof(v[0]); };
  return sizeof(*this) + bytes(config_.range_min) + bytes(config_.range_max) + bytes(split_dimension_) +
         bytes(split_value_) + bytes(reference_mass_) + bytes(latest_mass_) + bytes(scale_low_) +
         bytes(scale_high_) + bytes(observed_min_) + bytes(observed_max_) + bytes(first_window_) +
         bytes(recent_scores_) + bytes(sorted_scores_);
}

std::string HalfSpaceTrees::payload() const {
  StateWriter writer;
  writer.put(config_.dimension);
  writer.put(config_.trees);
  writer.put(config_.depth);
  writer.put(config_.window_size);
  writer.put(config_.calibration_size);
  writer.put(config_.seed);
  writer.put<std::uint8_t>(learn_range_ ? 1 : 0);
  std::ostringstream rng_text;
  rng_text << rng_;
  writer.put_string(rng_text.str());
  writer.put_vector(split_dimension_);
  writer.put_vector(split_value_);
  writer.put_vector(reference_mass_);
  writer.put_vector(latest_mass_);
  writer.put_vector(scale_low_);
  writer.put_vector(scale_high_);
  writer.put_vector(observed_min_);
  writer.put_vector(observed_max_);
  writer.put_vector(first_window_);
  std::vector<double> ordered;  // oldest first
  ordered.reserve(recent_scores_.size());
  for (std::size_t i = 0; i < recent_scores_.size(); ++i) {
    ordered.push_back(recent_scores_[(recent_head_ + i) % recent_scores_.size()]);
  }
  writer.put_vector(ordered);
  writer.put(window_count_);
  writer.put(windows_completed_);
  writer.put(count_);
  return writer.take();
}

void HalfSpaceTrees::save(std::ostream& out) const { save_record(out, kTag, kVersion, payload()); }

std::uint64_t HalfSpaceTrees::checksum() const { return fnv1a64(payload()); }

std::string HalfSpaceTrees::restore(std::istream& in) {
  const std::size_t nodes = config_.trees * nodes_per_tree();
  const std::size_t internal = config_.trees * internal_per_tree();
  const std::size_t d = config_.dimension;
  const std::size_t limit = 4096 + kMaxRngState + internal * 6 + nodes * 8 + d * 64 +
                            d * config_.window_size * 8 + std::size_t{config_.calibration_size} * 8;
  std::string bytes;
  if (std::string error = load_record(in, kTag, kVersion, bytes, limit); !error.empty()) return error;
  StateReader reader(bytes);
  HalfSpaceTrees next(*this);
  std::uint32_t dimension = 0, trees = 0, depth = 0, window = 0, calibration = 0;
  std::uint64_t seed = 0;
  std::uint8_t learn = 0;
  reader.get(dimension);
  reader.get(trees);
  reader.get(depth);
  reader.get(window);
  reader.get(calibration);
  reader.get(seed);
  reader.get(learn);
  if (reader.ok() && (dimension != config_.dimension || trees != config_.trees || depth != config_.depth ||
                      window != config_.window_size || calibration != config_.calibration_size ||
                      learn != (learn_range_ ? 1 : 0))) {
    reader.fail("saved shape (dimension " + std::to_string(dimension) + ", trees " + std::to_string(trees) +
                ", depth " + std::to_string(depth) + ", window " + std::to_string(window) +
                ", calibration " + std::to_string(calibration) +
                ") or range mode differs from the configuration");
  }
  next.config_.seed = seed;
  std::string rng_text;
  if (reader.get_string(rng_text, kMaxRngState)) {
    std::istringstream rng_in(rng_text);
    rng_in >> next.rng_;
    if (!rng_in) reader.fail("saved RNG state is unreadable");
  }
  reader.get_vector(next.split_dimension_, internal);
  reader.get_vector(next.split_value_, internal);
  reader.get_vector(next.reference_mass_, nodes);
  reader.get_vector(next.latest_mass_, nodes);
  reader.get_vector(next.scale_low_, d);
  reader.get_vector(next.scale_high_, d);
  reader.get_vector(next.observed_min_, d);
  reader.get_vector(next.observed_max_, d);
  reader.get_vector(next.first_window_, d * config_.window_size);
  std::vector<double> ordered;
  reader.get_vector(ordered, config_.calibration_size);
  reader.get(next.window_count_);
  reader.get(next.windows_completed_);
  reader.get(next.count_);
  if (reader.ok()) {
    const auto finite = [](const std::vector<double>& v) {
      return std::all_of(v.begin(), v.end(), [](double x) { return std::isfinite(x); });
    };
    const std::size_t learned = learn_range_ ? d : 0;
    if (next.split_dimension_.size() != internal || next.split_value_.size() != internal ||
        next.reference_mass_.size() != nodes || next.latest_mass_.size() != nodes ||
        next.scale_low_.size() != d || next.scale_high_.size() != d || next.observed_min_.size() != learned ||
        next.observed_max_.size() != learned || next.first_window_.size() % d != 0) {
      reader.fail("saved arrays have the wrong sizes for this configuration");
    } else if (std::any_of(next.split_dimension_.begin(), next.split_dimension_.end(),
                           [d](std::uint16_t q) { return q >= d; }) ||
               !std::all_of(next.split_value_.begin(), next.split_value_.end(),
                            [](float v) { return std::isfinite(v); }) ||
               !finite(next.scale_low_) || !finite(next.scale_high_) || !finite(next.first_window_) ||
               !finite(ordered) || next.window_count_ >= config_.window_size ||
               next.first_window_.size() != (learn_range_ && next.windows_completed_ == 0 ? next.window_count_ * d : 0)) {
      reader.fail("saved state is inconsistent (split dimension, non-finite value or window count)");
    }
  }
  if (std::string error = reader.finish(); !error.empty()) return "half_space_trees: " + error;
  next.recent_scores_ = ordered;
  next.recent_scores_.reserve(config_.calibration_size);
  next.recent_head_ = 0;
  next.sorted_scores_ = std::move(ordered);
  std::sort(next.sorted_scores_.begin(), next.sorted_scores_.end());
  next.sorted_scores_.reserve(config_.calibration_size);
  next.first_window_.reserve(learn_range_ && next.windows_completed_ == 0 ? d * config_.window_size : 0);
  *this = std::move(next);
  return {};
}

}  // namespace flowlier::detectors
