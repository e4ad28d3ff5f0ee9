#include "models/EntityBaseline.hpp"

#include <algorithm>
#include <cmath>
#include <istream>
#include <ostream>
#include <sstream>

#include "core/StateIo.hpp"

namespace flowlier::models {

namespace {
using detectors::DetectorResult;

std::size_t at(Feature f) { return static_cast<std::size_t>(f); }

std::uint32_t rounded(double v) { return static_cast<std::uint32_t>(std::clamp(std::llround(v), 0LL, 1LL << 30)); }
}  // namespace

EntityBaseline::EntityBaseline(const BaselineConfig& config)
    : novelty_{detectors::RarityDetector(config.rarity), detectors::RarityDetector(config.rarity)} {}

WindowScores EntityBaseline::score(const FeatureVector& x, std::int64_t t, const BaselineConfig& config) const {
  WindowScores out;
  for (std::size_t i = 0; i < kVolume.size(); ++i) {
    const Feature f = kVolume[i];
    auto& fs = out[at(f)] = {f, i < kVolumeCount ? "volume" : "activity", {}};
    fs.result = volume_[i].score(x[at(f)], config.volume, &fs.raw_probability);
    fs.corrected = volume_[i].correction_factor(config.volume) >= detectors::TailSelfCheck::kCorrecting;
  }
  for (std::size_t i = 0; i < kCounts.size(); ++i) {
    const Feature f = kCounts[i];
    auto& fs = out[at(f)] = {f, "count", counts_[i].score(x[at(f)], config.count_config(f))};
    fs.raw_probability = fs.result.tail_probability;
    if (!fs.result.warming_up) {
      const double factor = count_checks_[i].factor(config.count_check);
      fs.result.tail_probability = std::min(1.0, fs.raw_probability * factor);
      fs.corrected = factor >= detectors::TailSelfCheck::kCorrecting;
    }
  }
  const double new_peers = x[at(Feature::new_peers)], new_ports = x[at(Feature::new_ports)];
  const double known_peers = std::max(0.0, x[at(Feature::fanout_peers)] - new_peers);
  const double known_ports = std::max(0.0, x[at(Feature::distinct_ports)] - new_ports);
  out[at(Feature::new_peers)] = {Feature::new_peers, "rare",
                                 novelty_[0].score(rounded(new_peers), rounded(known_peers), t)};
  out[at(Feature::new_ports)] = {Feature::new_ports, "rare",
                                 novelty_[1].score(rounded(new_ports), rounded(known_ports), t)};
  // What the history can vouch for: n windows show tails down to about 1/n; a model
  // may extrapolate beyond them, but not past evidence_power times those decades. A
  // young baseline cannot page on one window, and severity grows with its history.
  const double floor = std::pow(static_cast<double>(windows_) + 1.0, -config.evidence_power);
  for (auto& fs : out) {
    if (!fs.result.warming_up) fs.result.tail_probability = std::max(fs.result.tail_probability, floor);
  }
  return out;
}

void EntityBaseline::update(const FeatureVector& x, const WindowScores& scores, std::int64_t t,
                            const BaselineConfig& config) {
  // Volumes bound each window's influence themselves (and must see the real value
  // to keep their self-check honest).
  for (std::size_t i = 0; i < kVolume.size(); ++i) {
    const Feature f = kVolume[i];
    volume_[i].update(x[at(f)], config.volume, scores[at(f)].raw_probability);
  }
  for (std::size_t i = 0; i < kCounts.size(); ++i) {
    const Feature f = kCounts[i];
    // Bounded influence on every warm window, not only the improbable ones: a
    // sustained attack at p ~ 1e-3 would otherwise be learnt at full weight.
    const double v = scores[at(f)].result.warming_up
                         ? x[at(f)]
                         : std::min(x[at(f)], counts_[i].clip_value(config.count_config(f), config.count_clip_sigma));
    counts_[i].update(v, config.count_config(f));
    if (!scores[at(f)].result.warming_up) count_checks_[i].observe(scores[at(f)].raw_probability, config.count_check);
  }
  const double new_peers = x[at(Feature::new_peers)], new_ports = x[at(Feature::new_ports)];
  novelty_[0].update(rounded(new_peers), rounded(std::max(0.0, x[at(Feature::fanout_peers)] - new_peers)), t);
  novelty_[1].update(rounded(new_ports), rounded(std::max(0.0, x[at(Feature::distinct_ports)] - new_ports)), t);
  if (windows_ < UINT32_MAX) ++windows_;
}

void EntityBaseline::complete_bounds(FeatureScore& score, const BaselineConfig& config) const {
  for (std::size_t i = 0; i < kCounts.size(); ++i) {
    if (kCounts[i] == score.feature) score.result.upper = counts_[i].upper_bound(config.count_config(score.feature));
  }
}

void EntityBaseline::save(std::ostream& out) const {
  std::ostringstream body;
  for (const auto& d : volume_) d.save(body);
  for (const auto& d : counts_) d.save(body);
  for (const auto& d : novelty_) d.save(body);
  detectors::StateWriter w;
  w.put(windows_);
  for (const auto& c : count_checks_) c.save(w);
  contact_run_.save(w);
  upload_run_.save(w);
  upload_hours_.save(w);
  sources_.save(w);
  uploads_.save(w);
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
  for (auto& c : next.count_checks_) c.load(r);
  if (!next.contact_run_.load(r)) return r.finish();
  if (!next.upload_run_.load(r)) return r.finish();
  if (!next.upload_hours_.load(r)) return r.ok() ? "entity baseline: bad upload-hours state" : r.finish();
  if (!next.sources_.load(r)) return r.finish();
  if (!next.uploads_.load(r)) return r.finish();
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
