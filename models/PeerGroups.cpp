#include "models/PeerGroups.hpp"

#include <algorithm>
#include <cmath>
#include <istream>
#include <ostream>

#include <boost/math/distributions/students_t.hpp>

#include "detectors/Probability.hpp"

namespace flowlier::models {

namespace {
// Fixed point for log1p(feature): 1/256 of a natural-log unit is far below any spread
// that matters, and sums of squares stay far inside int64 over a day of windows.
constexpr double kScale = 256.0;

std::int64_t quantize(double value) {
  return static_cast<std::int64_t>(std::llround(std::log1p(std::max(0.0, value)) * kScale));
}

// Bounds on what a saved state may claim (hostile files).
constexpr std::uint64_t kMaxGroups = 1u << 20;
constexpr std::uint64_t kMaxEpochs = 1u << 12;
}  // namespace

void PeerTally::add_window(const FeatureVector& x) {
  ++windows;
  for (std::size_t i = 0; i < kPeerFeatures.size(); ++i) {
    const std::int64_t q = quantize(x[static_cast<std::size_t>(kPeerFeatures[i])]);
    sum[i] += q;
    sum_squares[i] += q * q;
  }
}

void PeerTally::add(const PeerTally& other) {
  windows += other.windows;
  members += other.members;
  for (std::size_t i = 0; i < kPeerFeatures.size(); ++i) {
    sum[i] += other.sum[i];
    sum_squares[i] += other.sum_squares[i];
  }
}

void PeerContribution::add(const PeerContribution& other) {
  for (const auto& [group, tally] : other.groups) groups[group].add(tally);
  for (const auto& [group, label] : other.labels) labels.emplace(group, label);
}

void PeerGroups::contribute(std::uint64_t group, const FeatureVector& x, bool first_in_epoch) {
  PeerTally& tally = open_.groups[group];
  tally.add_window(x);
  if (first_in_epoch) ++tally.members;
}

PeerContribution PeerGroups::seal() {
  PeerContribution out;
  std::swap(out, open_);
  return out;
}

void PeerGroups::absorb(std::int64_t epoch, const PeerContribution& merged, const PeerConfig& config) {
  for (const auto& [key, tally] : merged.groups) {
    Group& g = model_[key];
    if (g.label.empty()) {
      if (auto it = merged.labels.find(key); it != merged.labels.end()) g.label = it->second;
    }
    g.epochs[epoch].add(tally);
  }
  // Forget epochs older than the memory, and groups left with none.
  const std::int64_t oldest = epoch - static_cast<std::int64_t>(config.memory_epochs) + 1;
  for (auto it = model_.begin(); it != model_.end();) {
    auto& epochs = it->second.epochs;
    epochs.erase(epochs.begin(), epochs.lower_bound(oldest));
    it = epochs.empty() ? model_.erase(it) : std::next(it);
  }
}

bool PeerGroups::total(std::uint64_t group, PeerTally& sum, std::int64_t& members) const {
  const auto it = model_.find(group);
  if (it == model_.end()) return false;
  for (const auto& [epoch, tally] : it->second.epochs) {
    sum.add(tally);
    members = std::max(members, tally.members);
  }
  return true;
}

std::pair<double, double> PeerGroups::moments(const PeerTally& total, std::size_t i, const PeerConfig& config) {
  const double n = static_cast<double>(total.windows);
  const double mean = static_cast<double>(total.sum[i]) / n / kScale;
  const double second = static_cast<double>(total.sum_squares[i]) / n / (kScale * kScale);
  return {mean, std::max(std::sqrt(std::max(0.0, second - mean * mean)), config.min_spread)};
}

PeerReading PeerGroups::judge(std::uint64_t group, const FeatureVector& x, const PeerConfig& config) const {
  PeerReading r;
  PeerTally sum;
  std::int64_t members = 0;
  if (!total(group, sum, members)) return r;
  if (members < static_cast<std::int64_t>(config.min_members) ||
      sum.windows < static_cast<std::int64_t>(config.min_windows)) {
    return r;
  }
  r.judged = true;
  r.members = members;
  r.label = model_.at(group).label;
  // Hosts, not windows, are the independent draws of what a member of this group does.
  const double nu = dof(members);
  const double floor = std::pow(static_cast<double>(sum.windows) + 1.0, -config.evidence_power);
  // Every feature has the same degrees of freedom, so the least probable is the one
  // furthest out in spreads (and ties at the evidence floor go to it too).
  double best_t = -1e300, best_mean = 0, best_spread = 0;
  for (std::size_t i = 0; i < kPeerFeatures.size(); ++i) {
    const auto [mean, spread] = moments(sum, i, config);
    const double value = x[static_cast<std::size_t>(kPeerFeatures[i])];
    const double t = (std::log1p(std::max(0.0, value)) - mean) / spread;
    r.feature_probability[i] = std::max(detectors::student_t_upper_tail(t, nu), floor);
    if (t > best_t) {
      best_t = t;
      r.feature = i;
      r.value = value;
      best_mean = mean;
      best_spread = spread;
    }
  }
  r.tail_probability = r.feature_probability[r.feature];
  r.expected = std::expm1(best_mean);
  r.upper = std::expm1(best_mean + boost::math::quantile(boost::math::students_t(nu), 0.999) * best_spread);
  return r;
}

PeerSummary PeerGroups::summary(std::uint64_t group, const PeerConfig& config) const {
  PeerSummary s;
  PeerTally sum;
  if (!total(group, sum, s.members) || sum.windows == 0) return s;
  s.known = true;
  s.label = model_.at(group).label;
  s.windows = sum.windows;
  const double t999 = boost::math::quantile(boost::math::students_t(dof(s.members)), 0.999);
  for (std::size_t i = 0; i < kPeerFeatures.size(); ++i) {
    const auto [mean, spread] = moments(sum, i, config);
    s.typical[i] = std::expm1(mean);
    s.upper[i] = std::expm1(mean + t999 * spread);
  }
  return s;
}

void PeerGroups::save(std::ostream& out) const {
  detectors::StateWriter w;
  auto put_tally = [&](const PeerTally& t) {
    w.put(t.windows);
    w.put(t.members);
    for (std::size_t i = 0; i < kPeerFeatures.size(); ++i) {
      w.put(t.sum[i]);
      w.put(t.sum_squares[i]);
    }
  };
  w.put(static_cast<std::uint64_t>(model_.size()));
  for (const auto& [key, g] : model_) {
    w.put(key);
    w.put_string(g.label);
    w.put(static_cast<std::uint64_t>(g.epochs.size()));
    for (const auto& [epoch, tally] : g.epochs) {
      w.put(epoch);
      put_tally(tally);
    }
  }
  // The open epoch's tally, in key order so equal states save equal bytes.
  std::map<std::uint64_t, const PeerTally*> open;
  for (const auto& [key, tally] : open_.groups) open.emplace(key, &tally);
  w.put(static_cast<std::uint64_t>(open.size()));
  for (const auto& [key, tally] : open) {
    w.put(key);
    const auto label = open_.labels.find(key);
    w.put_string(label == open_.labels.end() ? std::string_view{} : std::string_view(label->second));
    put_tally(*tally);
  }
  detectors::save_record(out, kTag, kVersion, w.bytes());
}

std::string PeerGroups::restore(std::istream& in) {
  std::string payload;
  if (auto error = detectors::load_record(in, kTag, kVersion, payload); !error.empty()) return error;
  detectors::StateReader r(payload);
  auto get_tally = [&](PeerTally& t) {
    r.get(t.windows);
    r.get(t.members);
    for (std::size_t i = 0; i < kPeerFeatures.size(); ++i) {
      r.get(t.sum[i]);
      r.get(t.sum_squares[i]);
    }
  };
  std::map<std::uint64_t, Group> model;
  std::uint64_t groups = 0;
  r.get(groups);
  if (groups > kMaxGroups) return "peer groups: too many groups";
  for (std::uint64_t k = 0; k < groups && r.ok(); ++k) {
    std::uint64_t key = 0, epochs = 0;
    Group g;
    r.get(key);
    r.get_string(g.label, 256);
    r.get(epochs);
    if (epochs > kMaxEpochs) return "peer groups: too many epochs";
    for (std::uint64_t e = 0; e < epochs && r.ok(); ++e) {
      std::int64_t epoch = 0;
      r.get(epoch);
      get_tally(g.epochs[epoch]);
    }
    model.emplace(key, std::move(g));
  }
  PeerContribution open;
  std::uint64_t open_groups = 0;
  r.get(open_groups);
  if (open_groups > kMaxGroups) return "peer groups: too many open groups";
  for (std::uint64_t k = 0; k < open_groups && r.ok(); ++k) {
    std::uint64_t key = 0;
    std::string label;
    r.get(key);
    r.get_string(label, 256);
    get_tally(open.groups[key]);
    open.labels.emplace(key, std::move(label));
  }
  if (auto error = r.finish(); !error.empty()) return "peer groups: " + error;
  model_ = std::move(model);
  open_ = std::move(open);
  return {};
}

}  // namespace flowlier::models
