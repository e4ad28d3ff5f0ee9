#include "models/TrailingOutlierBaseline.hpp"

#include <istream>
#include <ostream>

namespace flowlier::models {

namespace {
template <std::size_t... I>
std::array<detectors::RollingZDetector, kFeatureCount> make(const detectors::RollingZConfig& c,
                                                            std::index_sequence<I...>) {
  return {((void)I, detectors::RollingZDetector(c))...};
}
}  // namespace

TrailingOutlierBaseline::TrailingOutlierBaseline(const detectors::RollingZConfig& config)
    : detectors_(make(config, std::make_index_sequence<kFeatureCount>{})) {}

WindowScores TrailingOutlierBaseline::score(const FeatureVector& x, std::int64_t t) const {
  WindowScores out;
  for (std::size_t i = 0; i < kFeatureCount; ++i) {
    auto r = detectors_[i].score(x[i], t);
    // The operator is a threshold, not a probability: outside the band alerts.
    r.tail_probability = !r.warming_up && (r.value > r.upper || r.value < r.lower) ? 1e-300 : 1.0;
    out[i] = {static_cast<Feature>(i), "outlier", r};
  }
  return out;
}

void TrailingOutlierBaseline::update(const FeatureVector& x, std::int64_t t) {
  for (std::size_t i = 0; i < kFeatureCount; ++i) detectors_[i].update(x[i], t);
}

void TrailingOutlierBaseline::save(std::ostream& out) const {
  for (const auto& d : detectors_) d.save(out);
}

std::string TrailingOutlierBaseline::restore(std::istream& in) {
  auto next = detectors_;
  for (auto& d : next) {
    if (auto error = d.restore(in); !error.empty()) return error;
  }
  detectors_ = next;
  return {};
}

}  // namespace flowlier::models
