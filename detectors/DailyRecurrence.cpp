#include "detectors/DailyRecurrence.hpp"

#include <cmath>

#include "core/TimeMath.hpp"

namespace flowlier::detectors {

namespace {
constexpr std::int64_t kDay = core::kSecondsPerDay;
std::int64_t second_of_day(std::int64_t t) { return core::floor_mod(t, kDay); }  // also before 1970
std::int64_t day_of(std::int64_t t) { return core::floor_div(t, kDay); }
std::size_t hour_of(std::int64_t t) { return static_cast<std::size_t>(second_of_day(t) / 3600); }
}  // namespace

std::string DailyRecurrenceConfig::validate() const {
  if (!(half_life_days > 0)) return "half_life_days must be > 0";
  if (!(prior_onsets > 0) || !(prior_days > 0)) return "prior_onsets and prior_days must be > 0";
  return "";
}

void DailyRecurrence::advance(std::int64_t day, const DailyRecurrenceConfig& config) {
  if (last_day_ < 0) {
    last_day_ = day;
    days_ = 1;  // the day in progress counts as observed
    return;
  }
  if (day <= last_day_) return;
  const double elapsed = static_cast<double>(day - last_day_);
  const double decay = std::exp2(-elapsed / config.half_life_days);
  for (auto& c : onsets_) c = static_cast<float>(c * decay);
  // Each day observed contributes 1, decayed like an onset of that day would be.
  const double step = std::exp2(-1.0 / config.half_life_days);
  days_ = days_ * decay + (1 - decay) / (1 - step);
  last_day_ = day;
}

void DailyRecurrence::observe(std::int64_t t, bool active, const DailyRecurrenceConfig& config) {
  advance(day_of(t), config);
  if (active && !active_) onsets_[hour_of(t)] += 1;
  active_ = active;
}

double DailyRecurrence::probability(std::int64_t t, const DailyRecurrenceConfig& config) {
  advance(day_of(t), config);
  const std::size_t h = hour_of(t);
  const double near = onsets_[(h + 23) % 24] + onsets_[h] + onsets_[(h + 1) % 24];
  // Today's own onsets are in the counts already; a day still in progress counts as
  // observed, so "yesterday and today" is two onsets in two days.
  const double lambda = (near + config.prior_onsets) / (days_ + config.prior_days);
  return 1 - std::exp(-lambda);
}

void DailyRecurrence::save(StateWriter& w) const {
  w.put(onsets_);
  w.put(days_);
  w.put(last_day_);
  w.put(static_cast<std::uint8_t>(active_));
}

bool DailyRecurrence::load(StateReader& r) {
  DailyRecurrence next;
  r.get(next.onsets_);
  r.get(next.days_);
  r.get(next.last_day_);
  std::uint8_t active = 0;
  r.get(active);
  if (!r.ok() || active > 1) return false;
  next.active_ = active == 1;
  for (float c : next.onsets_) {
    if (!(c >= 0) || !std::isfinite(c)) return false;
  }
  if (!(next.days_ >= 0) || !std::isfinite(next.days_)) return false;
  *this = next;
  return true;
}

}  // namespace flowlier::detectors
