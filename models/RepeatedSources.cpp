#include "models/RepeatedSources.hpp"

#include <algorithm>
#include <cmath>

namespace flowlier::models {

double RepeatedSources::absorb(const TopContributors<PeerAddress, 4>& window_sources, std::int64_t window_end,
                               std::int64_t window_seconds, double half_life_windows) {
  // Decay by the windows elapsed since the last update (an idle entity skips windows).
  if (last_end_ != 0 && window_end > last_end_ && window_seconds > 0) {
    const double elapsed = static_cast<double>(window_end - last_end_) / static_cast<double>(window_seconds);
    const double keep = std::exp2(-elapsed / std::max(1.0, half_life_windows));
    for (auto& s : sources_) s.count = static_cast<float>(s.count * keep);
  }
  last_end_ = std::max(last_end_, window_end);
  std::size_t n = 0;
  // Certain counts: with many sources in a window (a flood) the space-saving slots
  // inherit each other's weight, which is no source coming back.
  const auto entries = window_sources.sorted_certain(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto& e = entries[i];
    if (e.weight <= 0) continue;
    auto same = std::find_if(sources_.begin(), sources_.end(), [&](const Source& s) { return s.count > 0 && s.peer == e.key; });
    if (same != sources_.end()) {
      same->count = static_cast<float>(same->count + e.weight);
      continue;
    }
    // A newcomer replaces the weakest tracked source if it is heavier.
    auto weakest = std::min_element(sources_.begin(), sources_.end(),
                                    [](const Source& a, const Source& b) { return a.count < b.count; });
    if (weakest->count < e.weight) *weakest = Source{e.key, static_cast<float>(e.weight)};
  }
  return top().count;
}

RepeatedSources::Source RepeatedSources::top() const {
  return *std::max_element(sources_.begin(), sources_.end(),
                           [](const Source& a, const Source& b) { return a.count < b.count; });
}

void RepeatedSources::save(detectors::StateWriter& w) const {
  w.put(sources_);
  w.put(last_end_);
}

bool RepeatedSources::load(detectors::StateReader& r) {
  RepeatedSources next;
  r.get(next.sources_);
  r.get(next.last_end_);
  if (!r.ok()) return false;
  for (const auto& s : next.sources_) {
    if (!std::isfinite(s.count) || s.count < 0) {
      r.fail("repeated sources hold an invalid count");
      return false;
    }
  }
  *this = next;
  return true;
}

}  // namespace flowlier::models
