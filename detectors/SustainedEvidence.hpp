#pragma once
// Evidence that keeps coming after an anchor window, combined with Fisher's method.
//
// One window of a new contact rarely carries enough evidence to page honestly (an
// entity's own history cannot put a first contact below ~1e-3), but a contact that
// keeps going adds a little evidence every window. A run starts at an anchor (the
// window's own p-values, e.g. new peer and new port) and takes one p-value per later
// window, up to max_windows. After each window the combined p is Fisher's
// P(chi2(2k) >= -2 sum ln p_i) over the k p-values so far, times max_windows (one
// look per window, Bonferroni), so under the null (each p uniform or
// conservative, windows independent) a run raises a combined p <= a with
// probability at most a, however long it lasts and wherever it stops.
// State: 16 bytes. Not thread-safe.
#include <cstdint>
#include <initializer_list>

#include "core/StateIo.hpp"

namespace flowlier::detectors {

struct SustainedConfig {
  std::uint32_t max_windows = 10;  // later windows combined after the anchor (and looks corrected for)
};

class SustainedEvidence {
 public:
  bool open() const { return looks_ > 0 || terms_ > 0; }
  // Starts a run from the anchor's p-values; an open run is replaced.
  void start(std::initializer_list<double> anchor);
  // Adds one later window's p-value; returns the combined p corrected for the looks,
  // and closes the run once max_windows windows have been added.
  double add(double p, const SustainedConfig& config);
  // What add(p) would return, without adding.
  double peek(double p, const SustainedConfig& config) const;
  void reset() { *this = SustainedEvidence(); }
  // The combined p of the p-values so far (uncorrected); 1 with none.
  double combined() const;
  std::uint32_t terms() const { return terms_; }

  void save(StateWriter& w) const;
  bool load(StateReader& r);

 private:
  double log_sum_ = 0;  // sum of ln p (<= 0)
  std::uint32_t terms_ = 0;
  std::uint32_t looks_ = 0;
};

}  // namespace flowlier::detectors
