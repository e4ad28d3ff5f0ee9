#pragma once
// Per-row anomaly score in [0, 1] for one univariate time series (NAB style), built
// from flowlier's univariate detectors.
//
// Each row is first scored against every enabled detector (two-sided tails), then
// absorbed. The evidence of a row is its surprise s = max over detectors of
// -log10(tail probability); detectors still warming up contribute nothing, and the
// row scores 0 until at least one detector is warm.
//
// Calibration turns s into [0, 1]:
// - fixed: score = s / (s + surprise_scale), the same map for every series;
// - rank:  the fraction of this series' earlier surprises (after warm-up) that are
//   strictly smaller, from a histogram of s (bins of 1/bins_per_decade), so a global
//   threshold means "rarer than a fixed share of this series' own history" whatever
//   the series' scale or noise. It reports 0 until rank_min_history rows are ranked.
// - blend: the geometric mean of the two (both must agree);
// - rank_each: each detector's surprise ranked against that detector's own history,
//   score = the max of those ranks (a detector that is surprised all the time, e.g. a
//   MAD of 0 on a quantised series, then no longer drowns the others).
// With tail_share > 0 a rank above the top tail_share of the history is refined by a
// generalised Pareto tail fitted to it (detectors/RankedTail.hpp): a surprise far beyond
// everything seen outscores one just at the history's top, which a plain rank cannot
// tell apart (both are "higher than all": 1.0).
// Suppression (optional): a score not above the highest score of the previous
// suppress_rows rows is multiplied by suppress_factor; one episode, one alarm.
//
// Deterministic, no clocks, no I/O. Memory: the detectors (~1 KB) plus one rank
// histogram per detector, or one overall for rank and blend (24 bytes * max_surprise * bins_per_decade
// each: ~144 KB at the default preset's 300 decades). O(window + log bins) per row.
// Non-finite values score 0 and are not absorbed. Not thread-safe.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "detectors/CountDetector.hpp"
#include "detectors/EwmaDetector.hpp"
#include "detectors/RankedTail.hpp"
#include "detectors/RobustZDetector.hpp"
#include "detectors/RollingZDetector.hpp"
#include "detectors/SeasonalDetector.hpp"

namespace flowlier::models {

enum class Calibration : std::uint8_t { fixed = 0, rank = 1, blend = 2, rank_each = 3 };

struct SeriesScorerConfig {
  bool use_ewma = true;
  bool use_robust_z = true;
  bool use_seasonal = true;
  bool use_rolling_z = false;
  // Negative-binomial counts; consulted only while every value seen is a non-negative
  // integer (a float series is not a count).
  bool use_count = false;
  detectors::EwmaConfig ewma{};
  detectors::RobustZConfig robust_z{};
  detectors::SeasonalConfig seasonal{};
  detectors::RollingZConfig rolling_z{};
  detectors::CountConfig count{};

  Calibration calibration = Calibration::rank_each;
  double surprise_scale = 6.0;         // fixed: s at which the score is 0.5
  double max_surprise = 30.0;          // rank: histogram range in decades of p
  std::uint32_t bins_per_decade = 20;  // rank: histogram resolution
  std::uint32_t rank_min_history = 50; // rank: rows ranked before scores leave 0
  double tail_share = 0.0;             // rank: top share refined by a fitted tail; 0 = plain rank
  std::uint32_t suppress_rows = 0;     // 0 = no suppression
  double suppress_factor = 0.5;        // in [0, 1]

  // The detectors' tails are forced to both by the scorer (a NAB anomaly is either way).
  // "" if valid, else a message naming the offending parameter.
  std::string validate() const;
};

// One row's outcome.
struct SeriesScore {
  double score = 0.0;     // in [0, 1]
  double surprise = 0.0;  // max over warm detectors of -log10(tail probability), >= 0
  bool warming_up = true; // no detector warm yet
};

class SeriesScorer {
 public:
  // Invalid parameters are clamped by the detectors; validate() first.
  explicit SeriesScorer(const SeriesScorerConfig& config = {});

  // Scores (value, time_s) against the baselines, then absorbs it. Rows should come in
  // time order; time_s is Unix seconds (the seasonal detector's bins use it).
  SeriesScore observe(double value, std::int64_t time_s);

  std::uint64_t rows() const { return rows_; }

  // Named configurations for `flowlier score-series --detector`: "default" (the
  // corpus-wide choice: EWMA + seasonal, rank_each with a fitted tail over the full
  // range of surprises, 100-row suppression; it differs
  // from a default-constructed config), and single-detector ones (rank_each each) ("ewma", "robust_z", "seasonal",
  // "rolling_z", "count"); std::nullopt for an unknown name.
  static std::optional<SeriesScorerConfig> preset(std::string_view name);
  static std::vector<std::string> preset_names();

 private:
  detectors::RankedTailConfig rank_config() const;
  double calibrate(detectors::RankedTail& r, double surprise);

  SeriesScorerConfig config_;
  detectors::EwmaDetector ewma_;
  detectors::RobustZDetector robust_z_;
  detectors::SeasonalDetector seasonal_;
  detectors::RollingZDetector rolling_z_;
  detectors::CountDetector count_;
  bool all_counts_ = true;
  std::optional<detectors::RankedTail> overall_;      // rank, blend: one over the max
  std::vector<detectors::RankedTail> per_detector_;  // rank_each: one per detector slot
  std::vector<double> recent_;  // ring of the last suppress_rows scores
  std::size_t recent_head_ = 0;
  std::uint64_t rows_ = 0;
};

}  // namespace flowlier::models
