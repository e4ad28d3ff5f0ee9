#pragma once
// Time-of-day (and optionally day-of-week) profile of one feature of one entity.
//
// Values are modelled in signed-log1p space (sign(x) * log1p(|x|)), where diurnal
// swings and multiplicative noise become additive. Each of 24 hour-of-day bins keeps
// an EW mean, EW variance and a sample count; with `weekly`, 168 day-of-week x hour
// bins are kept too and consulted only once `weekly_after_s` of event time has been
// seen (two weeks by default). A global EW level backs bins with few samples:
//   expected = w * bin + (1 - w) * global,  w = n_bin / (n_bin + prior_samples),
// (variance blended the same way), and a week
// bin likewise over the hour profile with weekly_prior_samples.
// So a peak several times the night-time level scores as normal once a day or two of
// history exists. Times are Unix seconds (UTC + utc_offset_s decides the bin).
// Memory: ~0.4 KB hourly only, ~2.4 KB with weekly bins (floats). O(1) update/score.
#include <array>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "detectors/DetectorResult.hpp"

namespace flowlier::detectors {

struct SeasonalConfig {
  double bin_half_life = 60.0;       // samples of the same bin
  double global_half_life = 120.0;   // samples overall
  std::uint32_t min_samples = 24;    // overall observations before scoring
  std::int64_t min_history_s = 86400;  // event-time span before scoring (one full day)
  double prior_samples = 5.0;        // hour bins with fewer samples lean on the global level
  double weekly_prior_samples = 2.0;  // week bins with fewer samples lean on the hour profile
  bool weekly = true;                // keep day-of-week x hour bins
  std::int64_t weekly_after_s = 14 * 86400;  // use them once this much history exists
  std::int64_t utc_offset_s = 0;     // local time for the bins
  Tail tail = Tail::upper;
  double band_sigma = 3.0;           // in log space
  double min_log_std = 0.05;         // sd floor in log space (~5 %)

  std::string validate() const;
};

class SeasonalDetector {
 public:
  static constexpr const char* kTag = "seasonal";
  static constexpr std::uint32_t kVersion = 1;

  struct Bin {
    float mean = 0.0f;      // EW mean in log space
    float variance = 0.0f;  // EW variance in log space
    std::uint32_t count = 0;
  };

  explicit SeasonalDetector(const SeasonalConfig& config = {});

  void update(double value, std::int64_t time_s);
  DetectorResult score(double value, std::int64_t time_s) const;

  void save(std::ostream& out) const;
  std::string restore(std::istream& in);
  std::uint64_t checksum() const;
  std::size_t memory_usage() const { return sizeof(*this) + weekly_.capacity() * sizeof(Bin); }
  bool is_warm() const;  // enough samples and history as of the last update
  bool is_warm_at(std::int64_t time_s) const;

  std::uint32_t count() const { return count_; }
  const Bin& hour_bin(int hour) const { return hourly_[static_cast<std::size_t>(hour % 24)]; }

  // Bin indices for a time (hour 0-23; week bin = day_of_week(0 = Sunday) * 24 + hour).
  int hour_of(std::int64_t time_s) const;
  int week_bin_of(std::int64_t time_s) const;

 private:
  std::string payload() const;

  SeasonalConfig config_;
  double bin_alpha_;
  double global_alpha_;
  double global_mean_ = 0.0;
  double global_variance_ = 0.0;
  std::uint32_t count_ = 0;
  std::int64_t first_time_s_ = 0;
  std::int64_t last_time_s_ = 0;
  std::array<Bin, 24> hourly_{};
  std::vector<Bin> weekly_;  // 168 bins when config.weekly, else empty
};

}  // namespace flowlier::detectors
