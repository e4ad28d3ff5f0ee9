#include "models/SeriesScorer.hpp"

#include <algorithm>
#include <cmath>

namespace flowlier::models {

namespace {

double surprise_of(const detectors::DetectorResult& r) {
  if (r.warming_up) return 0.0;
  // tail_probability is clamped to [1e-300, 1]: s is finite, in [0, 300].
  return std::max(0.0, -std::log10(r.tail_probability));
}

// A NAB anomaly may go either way: every detector looks at both tails.
SeriesScorerConfig two_sided(SeriesScorerConfig c) {
  c.ewma.tail = detectors::Tail::both;
  c.robust_z.tail = detectors::Tail::both;
  c.seasonal.tail = detectors::Tail::both;
  c.rolling_z.tail = detectors::Tail::both;
  return c;
}

bool is_count(double v) { return v >= 0.0 && v < 9.0e15 && std::floor(v) == v; }

}  // namespace

std::string SeriesScorerConfig::validate() const {
  if (!(use_ewma || use_robust_z || use_seasonal || use_rolling_z || use_count)) return "no detector enabled";
  if (auto e = ewma.validate(); !e.empty()) return "ewma: " + e;
  if (auto e = robust_z.validate(); !e.empty()) return "robust_z: " + e;
  if (auto e = seasonal.validate(); !e.empty()) return "seasonal: " + e;
  if (auto e = rolling_z.validate(); !e.empty()) return "rolling_z: " + e;
  if (auto e = count.validate(); !e.empty()) return "count: " + e;
  if (calibration != Calibration::fixed && calibration != Calibration::rank && calibration != Calibration::blend &&
      calibration != Calibration::rank_each)
    return "calibration is invalid";
  if (!(surprise_scale > 0.0) || !std::isfinite(surprise_scale)) return "surprise_scale must be > 0";
  if (!(max_surprise >= 1.0) || max_surprise > 300.0) return "max_surprise must be in [1, 300]";
  if (bins_per_decade < 1 || bins_per_decade > 1000) return "bins_per_decade must be in [1, 1000]";
  if (!(tail_share >= 0.0 && tail_share <= 0.5)) return "tail_share must be in [0, 0.5]";
  if (!(suppress_factor >= 0.0 && suppress_factor <= 1.0)) return "suppress_factor must be in [0, 1]";
  if (suppress_rows > 100000) return "suppress_rows must be <= 100000";
  return "";
}

SeriesScorer::SeriesScorer(const SeriesScorerConfig& config)
    : config_(two_sided(config)),
      ewma_(config_.ewma),
      robust_z_(config_.robust_z),
      seasonal_(config_.seasonal),
      rolling_z_(config_.rolling_z) {
  if (config_.calibration == Calibration::rank || config_.calibration == Calibration::blend) overall_.emplace(rank_config());
  if (config_.calibration == Calibration::rank_each) per_detector_.assign(5, detectors::RankedTail(rank_config()));
  recent_.assign(std::min<std::uint32_t>(config_.suppress_rows, 100000), 0.0);
}

detectors::RankedTailConfig SeriesScorer::rank_config() const {
  detectors::RankedTailConfig c;
  c.max_surprise = config_.max_surprise;
  c.bins_per_decade = config_.bins_per_decade;
  c.tail_share = config_.tail_share;
  return c;
}

// Rank against the history first, then absorb: a value is never compared with itself.
double SeriesScorer::calibrate(detectors::RankedTail& r, double surprise) {
  const double rank = r.count() >= config_.rank_min_history ? r.score(surprise) : 0.0;
  r.update(surprise);
  return rank;
}

SeriesScore SeriesScorer::observe(double value, std::int64_t time_s) {
  ++rows_;
  SeriesScore out;
  if (!std::isfinite(value)) return out;

  bool any_warm = false;
  double s = 0.0;
  double best_rank = 0.0;
  auto take = [&](std::size_t slot, const detectors::DetectorResult& r) {
    if (r.warming_up) return;
    any_warm = true;
    const double d = surprise_of(r);
    s = std::max(s, d);
    if (config_.calibration == Calibration::rank_each) best_rank = std::max(best_rank, calibrate(per_detector_[slot], d));
  };
  if (config_.use_ewma) take(0, ewma_.score(value, time_s));
  if (config_.use_robust_z) take(1, robust_z_.score(value, time_s));
  if (config_.use_seasonal) take(2, seasonal_.score(value, time_s));
  if (config_.use_rolling_z) take(3, rolling_z_.score(value, time_s));
  all_counts_ = all_counts_ && is_count(value);
  if (config_.use_count && all_counts_) take(4, count_.score(value, config_.count));

  if (config_.use_ewma) ewma_.update(value, time_s);
  if (config_.use_robust_z) robust_z_.update(value, time_s);
  if (config_.use_seasonal) seasonal_.update(value, time_s);
  if (config_.use_rolling_z) rolling_z_.update(value, time_s);
  if (config_.use_count && all_counts_) count_.update(value, config_.count);

  out.surprise = s;
  out.warming_up = !any_warm;
  if (!any_warm) return out;

  const double fixed = s / (s + config_.surprise_scale);
  double score = fixed;
  switch (config_.calibration) {
    case Calibration::fixed: break;
    case Calibration::rank: score = calibrate(*overall_, s); break;
    case Calibration::blend: score = std::sqrt(calibrate(*overall_, s) * fixed); break;
    case Calibration::rank_each: score = best_rank; break;
  }

  if (!recent_.empty()) {
    const double recent_max = *std::max_element(recent_.begin(), recent_.end());
    const double raw = score;
    if (score <= recent_max) score *= config_.suppress_factor;
    // Remember the unsuppressed score: a plateau of alarms stays suppressed.
    recent_[recent_head_] = raw;
    recent_head_ = (recent_head_ + 1) % recent_.size();
  }
  out.score = std::clamp(score, 0.0, 1.0);
  return out;
}

std::optional<SeriesScorerConfig> SeriesScorer::preset(std::string_view name) {
  SeriesScorerConfig c;
  if (name == "default") {
    // The corpus-wide choice (QUALITY.md, NAB section): an EWMA level and the
    // time-of-day/week profile, each ranked against its own history, memories four
    // times the detectors' defaults, and one alarm per 100-row episode.
    c.use_robust_z = false;
    c.ewma.half_life = 120.0;
    // Ranks refined above the top 1 % by a fitted generalised Pareto tail (the usual
    // peaks-over-threshold choice), over every surprise a detector can report
    // (p >= 1e-300), so no two different surprises are tied in an overflow bin.
    c.tail_share = 0.01;
    c.max_surprise = 300.0;
    c.seasonal.bin_half_life = 240.0;
    c.seasonal.global_half_life = 480.0;
    c.calibration = Calibration::rank_each;
    c.suppress_rows = 100;
    c.suppress_factor = 0.5;
    return c;
  }
  c.use_ewma = c.use_robust_z = c.use_seasonal = c.use_rolling_z = c.use_count = false;
  if (name == "ewma") {
    c.use_ewma = true;
  } else if (name == "robust_z") {
    c.use_robust_z = true;
  } else if (name == "seasonal") {
    c.use_seasonal = true;
  } else if (name == "rolling_z") {
    c.use_rolling_z = true;
  } else if (name == "count") {
    c.use_count = true;
  } else {
    return std::nullopt;
  }
  return c;
}

std::vector<std::string> SeriesScorer::preset_names() {
  return {"default", "ewma", "robust_z", "seasonal", "rolling_z", "count"};
}

}  // namespace flowlier::models
