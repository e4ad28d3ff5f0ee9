#pragma once
// The sources that keep coming back to an entity: unsolicited inbound flows per
// remote address, counted with exponential decay across windows.
//
// Internet background scanning reaches an exposed host from many sources, each a
// probe or two; a brute force, a slow scan or a burst on one port comes from one
// source again and again, often only a few flows a minute. Counting per source
// over several windows (half-life a few windows) lets a slow, sustained source
// stand out where a per-window count cannot: at 1.5 flows/min a source builds up to
// ~11 with a 5-window half-life, while single probes stay at 1.
// The same decayed per-address totals serve a second quantity: the bytes an entity
// sends to each external destination (EntityBaseline::track_uploads), where a
// low-and-slow upload adds up the same way.
//
// State: four sources (address, decayed count) and the time of the last update:
// about 90 bytes per entity. Deterministic; not thread-safe.
#include <array>
#include <cstdint>

#include "core/StateIo.hpp"
#include "models/TopContributors.hpp"
#include "models/WindowAccumulator.hpp"

namespace flowlier::models {

class RepeatedSources {
 public:
  static constexpr std::size_t kSlots = 4;
  struct Source {
    PeerAddress peer{};
    float count = 0;  // decayed unsolicited inbound flows
  };

  // Decays the tracked counts to `window_end` and adds one closed window's sources;
  // returns the largest decayed count afterwards (the feature value).
  double absorb(const TopContributors<PeerAddress, 4>& window_sources, std::int64_t window_end,
                std::int64_t window_seconds, double half_life_windows);

  // The source with the largest count (count 0 when none).
  Source top() const;

  void save(detectors::StateWriter& w) const;
  bool load(detectors::StateReader& r);

 private:
  std::array<Source, kSlots> sources_{};
  std::int64_t last_end_ = 0;
};

}  // namespace flowlier::models
