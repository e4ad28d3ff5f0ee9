#include "models/EntityBaseline.hpp"

#include <algorithm>
#include <cmath>
#include <istream>
#include <ostream>
#include <sstream>

#include "detectors/StateIo.hpp"

namespace flowlier::models {

namespace {
using detectors::DetectorResult;

std::size_t at(Feature f) { return static_cast<std::size_t>(f); }

// Maps a log1p-space result back to the feature's own units for explanations.
DetectorResult from_log(DetectorResult r) {
  r.value = std::expm1(r.value);
  r.expected = std::expm1(r.expected);
  r.lower = std::max(0.0, std::expm1(r.lower));
  r.upper = std::expm1(r.upper);
  return r;
}

std::uint32_t rounded(double v) { return static_cast<std::uint32_t>(std::clamp(std::llround(v), 0LL, 1LL << 30)); }
}  // namespace

EntityBaseline::EntityBaseline(const BaselineConfig& config)
    : volume_{detectors::EwmaDetector(config.volume), detectors::EwmaDetector(config.volume),
              detectors::EwmaDetector(config.volume)},
      novelty_{detectors::RarityDetector(config.rarity), detectors::RarityDetector(config.rarity)} {}

WindowScores EntityBaseline::score(const FeatureVector& x, std::int64_t t, const BaselineConfig& config) const {
  WindowScores out;
  for (std::size_t i = 0; i < kVolume.size(); ++i) {
    const Feature f = kVolume[i];
    out[at(f)] = {f, "ewma", from_log(volume_[i].score(std::log1p(x[at(f)]), t))};
  }
  for (std::size_t i = 0; i < kCounts.size(); ++i) {
    const Feature f = kCounts[i];
    out[at(f)] = {f, "count", counts_[i].score(x[at(f)], config.counts)};
  }
  const double new_peers = x[at(Feature::new_peers)], new_ports = x[at(Feature::new_ports)];
  const double known_peers = std::max(0.0, x[at(Feature::fanout_peers)] - new_peers);
  const double known_ports = std::max(0.0, x[at(Feature::distinct_ports)] - new_ports);
  out[at(Feature::new_peers)] = {Feature::new_peers, "rare",
                                 novelty_[0].score(rounded(new_peers), rounded(known_peers), t)};
  out[at(Feature::new_ports)] = {Feature::new_ports, "rare",
                                 novelty_[1].score(rounded(new_ports), rounded(known_ports), t)};
  return out;
}

void EntityBaseline::update(const FeatureVector& x, const WindowScores& scores, std::int64_t t,
                            const BaselineConfig& config) {
  // Winsorize: an improbable value enters the baseline clipped to its band edge.
  auto improbable = [&](Feature f) {
    const auto& r = scores[at(f)].result;
    return !r.warming_up && r.tail_probability < config.winsorize_probability;
  };
  for (std::size_t i = 0; i < kVolume.size(); ++i) {
    const Feature f = kVolume[i];
    const double v = improbable(f) ? std::min(x[at(f)], scores[at(f)].result.upper) : x[at(f)];
    volume_[i].update(std::log1p(v), t);
  }
  for (std::size_t i = 0; i < kCounts.size(); ++i) {
    const Feature f = kCounts[i];
    const double v = improbable(f) ? std::min(x[at(f)], counts_[i].upper_bound(config.counts)) : x[at(f)];
    counts_[i].update(v, config.counts);
  }
  const double new_peers = x[at(Feature::new_peers)], new_ports = x[at(Feature::new_ports)];
  novelty_[0].update(rounded(new_peers), rounded(std::max(0.0, x[at(Feature::fanout_peers)] - new_peers)), t);
  novelty_[1].update(rounded(new_ports), rounded(std::max(0.0, x[at(Feature::distinct_ports)] - new_ports)), t);
  if (windows_ < UINT32_MAX) ++windows_;
}

void EntityBaseline::complete_bounds(FeatureScore& score, const BaselineConfig& config) const {
  for (std::size_t i = 0; i < kCounts.size(); ++i) {
    if (kCounts[i] == score.feature) score.result.upper = counts_[i].upper_bound(config.counts);
  }
}

void EntityBaseline::save(std::ostream& out) const {
  std::ostringstream body;
  for (const auto& d : volume_) d.save(body);
  for (const auto& d : counts_) d.save(body);
  for (const auto& d : novelty_) d.save(body);
  detectors::StateWriter w;
  w.put(windows_);
  contact_run_.save(w);
  w.put_string(body.str());
  detectors::save_record(out, kTag, kVersion, w.bytes());
}

std::string EntityBaseline::restore(std::istream& in, const BaselineConfig& config) {
  std::string payload;
  if (auto error = detectors::load_record(in, kTag, kVersion, payload); !error.empty()) return error;
  detectors::StateReader r(payload);
  EntityBaseline next(config);
  std::string body;
  r.get(next.windows_);
  if (!next.contact_run_.load(r)) return r.finish();
  r.get_string(body, 1 << 20);
  if (auto error = r.finish(); !error.empty()) return error;
  std::istringstream parts(body);
  for (auto& d : next.volume_) {
    if (auto error = d.restore(parts); !error.empty()) return error;
  }
  for (auto& d : next.counts_) {
    if (auto error = d.restore(parts); !error.empty()) return error;
  }
  for (auto& d : next.novelty_) {
    if (auto error = d.restore(parts); !error.empty()) return error;
  }
  *this = next;
  return {};
}

std::uint64_t EntityBaseline::checksum() const {
  std::ostringstream body;
  save(body);
  return detectors::fnv1a64(body.str());
}

}  // namespace flowlier::models
