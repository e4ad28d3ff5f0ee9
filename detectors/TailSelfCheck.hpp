#pragma once
// A baseline's check of its own calibration: how often its tail probability fell
// below `level`, against how often it should (a `level` share of the windows).
// Only the first window of a run below the level counts: one sustained attack is one
// surprise, not a hundred (features that span windows stay high after it), while
// behaviour the model has not learnt surprises it again and again.
//
// A calibrated model sees p < level in about that share of windows. A model that
// fires more often than it claims (a heavy tail it does not know, behaviour it has
// not learnt yet) is widened: factor() is the observed rate over the claimed one,
// and callers multiply their tail probabilities by it. The rate is an exponentially
// weighted share with a calibrated prior worth `prior_windows`, so a few early
// exceedances do not widen anything, and a correction fades as the model recovers.
//
// State: two floats. Pure arithmetic; not thread-safe for concurrent update.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "core/StateIo.hpp"

namespace flowlier::detectors {

struct SelfCheckConfig {
  double level = 1e-3;        // the tail probability watched
  double half_life = 2880;    // windows: about two days at one window a minute
  double prior_windows = 1000;  // a calibrated prior worth this many windows (1 / level)
};

class TailSelfCheck {
 public:
  // Below this factor a model counts as calibrated (no correction counted).
  static constexpr double kCorrecting = 3.0;

  // The factor to multiply tail probabilities by: >= 1.
  double factor(const SelfCheckConfig& c) const {
    const double rate = (exceeded_ + c.level * c.prior_windows) / (weight_ + c.prior_windows);
    return std::max(1.0, rate / c.level);
  }
  // One scored window's raw (uncorrected) tail probability.
  void observe(double raw_probability, const SelfCheckConfig& c) {
    const double keep = std::exp2(-1.0 / std::max(1.0, c.half_life));
    const bool below = raw_probability < c.level;
    exceeded_ = static_cast<float>(keep * exceeded_ + (below && !in_run_ ? 1.0 : 0.0));
    weight_ = static_cast<float>(keep * weight_ + 1.0);
    in_run_ = below;
  }
  bool correcting(const SelfCheckConfig& c) const { return factor(c) >= kCorrecting; }
  // For persistence: the two sums, and a check that restored ones are sane.
  void save(StateWriter& w) const {
    w.put(exceeded_);
    w.put(weight_);
    w.put(static_cast<std::uint8_t>(in_run_ ? 1 : 0));
  }
  // On bad state fails the reader and leaves this unchanged.
  bool load(StateReader& r) {
    float exceeded = 0, weight = 0;
    std::uint8_t run = 0;
    r.get(exceeded);
    r.get(weight);
    r.get(run);
    if (!r.ok()) return false;
    if (!std::isfinite(exceeded) || !std::isfinite(weight) || exceeded < 0 || weight < exceeded || run > 1) {
      r.fail("self-check state is invalid");
      return false;
    }
    exceeded_ = exceeded;
    weight_ = weight;
    in_run_ = run == 1;
    return true;
  }

 private:
  float exceeded_ = 0;
  float weight_ = 0;
  bool in_run_ = false;  // the last window was below the level
};

}  // namespace flowlier::detectors
