#pragma once
// The baseline most users run today, kept to compare flowlier against: per entity
// and feature, mean +- 3 sigma over a trailing window of N windows, both directions
// (Sumo Logic's `outlier` operator at its defaults: window 10, threshold 3,
// consecutive 1). A value outside the band scores p = 0 (alert), inside p = 1.
#include <array>
#include <cstdint>
#include <iosfwd>
#include <string>

#include "detectors/RollingZDetector.hpp"
#include "models/EntityBaseline.hpp"

namespace flowlier::models {

class TrailingOutlierBaseline {
 public:
  explicit TrailingOutlierBaseline(const detectors::RollingZConfig& config);

  WindowScores score(const FeatureVector& features, std::int64_t time_s) const;
  void update(const FeatureVector& features, std::int64_t time_s);
  void save(std::ostream& out) const;
  std::string restore(std::istream& in);

 private:
  std::array<detectors::RollingZDetector, kFeatureCount> detectors_;
};

}  // namespace flowlier::models
