#pragma once
// A heavy-tailed magnitude that is often zero (admin sessions, batch jobs, backups,
// uploads of a mostly idle host), judged in two parts: how often the entity is active
// at all in a window, and how much it does when it is.
//
//   P(X >= x) = P(active) * P(M >= x | active)      for x > 0;  1 for x == 0
//
// - Activity: an exponentially weighted rate of windows with x > 0 (a day of windows
//   by default), shrunk towards a prior so that never-active is not "impossible".
// - Magnitude: EW level and spread of log1p(x) over active windows only, so quiet
//   nights neither drag the level to zero nor shrink the spread (the lock-out of an
//   EWMA fed zeros). Updates have bounded influence: the residual enters clipped at
//   clip_sigma spreads, so a one-off attack moves the baseline little, while behaviour
//   that recurs keeps pushing the level and spread until it is normal.
// - Tail: Student-t in log space, with the degrees of freedom the history supports.
//   Magnitudes of real traffic are heavy-tailed, some far more than others: a web
//   server's minutes are smooth, a workstation's jump 100x when its user downloads.
//   The EW excess kurtosis k of the (clipped) log magnitudes gives the dof by the
//   method of moments, nu = 4 + 6 / k (a t with nu dof has excess kurtosis 6/(nu-4)),
//   shrunk towards tail_dof while few windows stand behind it and kept within
//   [min_dof, max_dof]. A normal tail on a few hundred windows would claim p = 1e-300
//   for a 30 kB session; this tail claims only what the entity's own history shows.
// - Peaks over threshold: windows more than 2 spreads above the level are counted
//   with their excess (EW, the spread's half-life), and the tail beyond is also read
//   as rate * exp(-(z - 2) / mean excess). The score takes the more conservative of
//   the two tails. Bounded influence keeps level and spread from learning a
//   bimodal host (tiny control traffic, now and then a 50 MB image pull); its
//   exceedances do learn it: pulls seen a few times a day stop being news.
// - Self-check (TailSelfCheck): a model that fires more often than its probabilities
//   claim has them multiplied by the observed over the claimed rate until it has
//   widened itself. Windows scored while correcting are counted (corrections()).
//
// State: a handful of floats (48 bytes, no heap); parameters come from the shared config.
// Cost: O(1) update and score. Not thread-safe for concurrent update.
#include <cstdint>
#include <iosfwd>
#include <limits>
#include <string>

#include "detectors/DetectorResult.hpp"
#include "detectors/TailSelfCheck.hpp"

namespace flowlier::detectors {

struct IntermittentConfig {
  double activity_half_life = 1440;  // windows: the activity rate remembers about a day
  double activity_prior = 0.01;      // prior activity rate...
  double activity_prior_weight = 20;  // ...worth this many windows
  double level_half_life = 30;       // active windows: the level follows the daily cycle
  double spread_half_life = 720;     // active windows: the spread is remembered longer
  std::uint32_t min_active = 20;     // active windows before the magnitude is judged
  double tail_dof = 10;              // prior Student-t degrees of freedom of log magnitudes...
  double tail_prior_windows = 1440;  // ...worth this many active windows (a day: tails need evidence)
  double min_dof = 3, max_dof = 30;  // the range the learnt dof is kept in
  double min_std = 0.25;             // log space: magnitudes always vary by a quarter
  double clip_sigma = 3;             // bounded influence of one window on level and spread
  bool exceedance_tail = true;       // also read the tail from the entity's own exceedances
  double band_sigma = 3;             // band for explanations: level +- band_sigma spreads
  SelfCheckConfig check;
  std::string validate() const;
};

class IntermittentDetector {
 public:
  static constexpr const char* kTag = "intermittent";
  static constexpr std::uint32_t kVersion = 2;  // 2: exceedances

  // value = x; expected = typical magnitude when active (or 0 if never active);
  // bounds = the magnitude band when active; tail = P(X >= x) as above, self-corrected.
  // `raw`, when given, receives the tail before the self-check's correction.
  DetectorResult score(double x, const IntermittentConfig& config, double* raw = nullptr) const;
  // Absorbs one window's value (every window, active or not). `raw` is what score()
  // gave for it, when known (it saves computing the tail again); NaN = compute it.
  void update(double x, const IntermittentConfig& config, double raw = std::numeric_limits<double>::quiet_NaN());

  void save(std::ostream& out) const;
  std::string restore(std::istream& in);
  std::uint64_t checksum() const;
  std::size_t memory_usage() const { return sizeof(*this); }

  double activity_rate(const IntermittentConfig& config) const;
  std::uint32_t active_windows() const { return active_; }
  std::uint32_t windows() const { return windows_; }
  // Windows scored while the self-check was widening the tail.
  std::uint32_t corrections() const { return corrections_; }
  // The factor the self-check multiplies tail probabilities by (>= 1).
  double correction_factor(const IntermittentConfig& config) const;
  // The tail's degrees of freedom, as learnt from the magnitudes so far.
  double tail_dof(const IntermittentConfig& config) const;

 private:
  // The raw (uncorrected) tail and the band, shared by score() and update().
  DetectorResult raw_score(double x, const IntermittentConfig& config) const;
  double spread_sd(const IntermittentConfig& config) const;
  // P(Z > z) from the entity's own exceedances of kExceedanceZ (0 at or below it:
  // the Student-t alone judges the body).
  double exceedance_tail(double z, const IntermittentConfig& config) const;
  static constexpr double kExceedanceZ = 2.0;
  static constexpr double kPriorWindowsPerExceedance = 44.0;  // 1 / P(normal > 2)
  static constexpr double kPriorExceedances = 2.0;
  static constexpr double kPriorMeanExcess = 0.5;  // spreads; a normal's is ~0.37

  float level_ = 0;        // EW mean of log1p(x) over active windows
  float spread_ = 0;       // EW variance of log1p(x) over active windows
  float fourth_ = 0;       // EW fourth central moment, same weights
  float activity_ = 0;     // EW rate of active windows
  float activity_n_ = 0;   // EW weight behind activity_ (saturates near 1 / alpha)
  float exceed_ = 0;       // EW count of warm active windows above kExceedanceZ
  float excess_ = 0;       // EW sum of their excess z - kExceedanceZ
  TailSelfCheck check_;
  std::uint32_t active_ = 0;
  std::uint32_t windows_ = 0;
  std::uint32_t corrections_ = 0;
};

}  // namespace flowlier::detectors
