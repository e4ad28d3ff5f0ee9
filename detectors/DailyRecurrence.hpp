#pragma once
// How usual it is for an entity to begin something (a large upload) at this hour of
// the day: nightly backups, a reporting job at 06:00, a weekly sync.
//
// Jobs that run on a schedule recur at the same hour: an upload of 5 GB at 01:00 that
// happened yesterday (and the day before) is the backup, even when its target is an
// address the entity has not met recently (object stores answer from new addresses
// every night). Each onset is counted in its hour-of-day bin; counts decay with a
// half-life in days. The probability that at least one onset falls in this hour or
// its two neighbours (schedules drift) on a given day is, for an onset rate lambda
// per day estimated with a small prior,
//   p = 1 - exp(-lambda),  lambda = (onsets in the 3 bins + prior) / (days + prior_days)
// so with no history p is small ("never at this hour") and with yesterday's job
// p is about 0.4 ("usual now").
//
// State: 24 counts, the days observed, the last day, a flag (120 bytes). O(24) on a day change,
// O(1) otherwise. Not thread-safe.
#include <array>
#include <cstdint>
#include <string>

#include "core/StateIo.hpp"

namespace flowlier::detectors {

struct DailyRecurrenceConfig {
  double half_life_days = 7;  // a schedule dropped a week ago counts half
  double prior_onsets = 0.02;  // onsets per 3-hour span...
  double prior_days = 1;       // ...worth this many days
  std::string validate() const;
};

class DailyRecurrence {
 public:
  // P(an onset in this hour or its neighbours on a day like the ones seen), for t.
  // Ask before observe() of the same window, so an onset does not vouch for itself.
  double probability(std::int64_t t, const DailyRecurrenceConfig& config);
  // One window at Unix second t: active or not. The first active window after an
  // inactive one is an onset and is counted.
  void observe(std::int64_t t, bool active, const DailyRecurrenceConfig& config);

  void save(StateWriter& w) const;
  bool load(StateReader& r);

 private:
  void advance(std::int64_t day, const DailyRecurrenceConfig& config);
  std::array<float, 24> onsets_{};
  double days_ = 0;             // days observed (decayed like the counts)
  std::int64_t last_day_ = -1;  // -1: nothing seen yet
  bool active_ = false;         // the last window observed was active
};

}  // namespace flowlier::detectors
