#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>

#include "detectors/DailyRecurrence.hpp"

using namespace flowlier::detectors;

namespace {
constexpr std::int64_t kDay = 86400, kHour = 3600, kMinute = 60;
constexpr std::int64_t kStart = 1772409600;  // 2026-03-02T00:00:00Z

// A day of one-minute windows with one 30-minute job starting at `job_hour` (or none).
void live_a_day(DailyRecurrence& r, std::int64_t day_start, int job_hour, const DailyRecurrenceConfig& c) {
  for (std::int64_t t = day_start; t < day_start + kDay; t += kMinute) {
    const bool job = job_hour >= 0 && t >= day_start + job_hour * kHour && t < day_start + job_hour * kHour + 30 * kMinute;
    r.observe(t, job, c);
  }
}
}  // namespace

TEST_CASE("an onset at an hour never used is improbable; yesterday's job makes it usual", "[recurrence]") {
  const DailyRecurrenceConfig c;
  REQUIRE(c.validate().empty());
  DailyRecurrence r;
  live_a_day(r, kStart, 1, c);  // a backup at 01:00 on day one
  const std::int64_t day2 = kStart + kDay;
  // 01:10 on day two: the job's hour. 13:00: never.
  const double at_job_hour = r.probability(day2 + kHour + 10 * kMinute, c);
  const double at_noon = r.probability(day2 + 13 * kHour, c);
  CHECK(at_job_hour > 0.2);
  CHECK(at_noon < 0.02);
  // Neighbouring hours count (schedules drift): 02:05 still reads as the job's time.
  CHECK(r.probability(day2 + 2 * kHour + 5 * kMinute, c) > 0.2);
  CHECK(r.probability(day2 + 3 * kHour + 5 * kMinute, c) < 0.02);
}

TEST_CASE("an onset is counted once per run, not once per window", "[recurrence]") {
  const DailyRecurrenceConfig c;
  DailyRecurrence once, every_minute_new;
  live_a_day(once, kStart, 1, c);  // one 30-minute run
  for (std::int64_t t = kStart; t < kStart + kDay; t += kMinute) {
    // 30 separate one-minute runs in the same hour.
    const std::int64_t m = (t - kStart) / kMinute;
    every_minute_new.observe(t, m >= 60 && m < 120 && m % 2 == 0, c);
  }
  const std::int64_t probe = kStart + kDay + kHour;
  CHECK(once.probability(probe, c) < every_minute_new.probability(probe, c));
  // One onset a day old, decayed by one day of the half-life, over 1 + that decay days.
  const double decay = std::exp2(-1 / c.half_life_days);
  const double lambda = (decay + c.prior_onsets) / (1 + decay + c.prior_days);
  CHECK(once.probability(probe, c) == Approx(1 - std::exp(-lambda)).epsilon(1e-6));
}

TEST_CASE("a schedule that stopped fades with the half-life", "[recurrence]") {
  const DailyRecurrenceConfig c{.half_life_days = 2};
  DailyRecurrence r;
  live_a_day(r, kStart, 1, c);
  const double next_day = r.probability(kStart + kDay + kHour, c);
  for (int d = 1; d < 10; ++d) live_a_day(r, kStart + d * kDay, -1, c);
  const double later = r.probability(kStart + 10 * kDay + kHour, c);
  CHECK(later < next_day / 10);
}

TEST_CASE("recurrence state saves and restores exactly; corrupt state is refused", "[recurrence]") {
  const DailyRecurrenceConfig c;
  DailyRecurrence r;
  live_a_day(r, kStart, 5, c);
  r.observe(kStart + kDay, true, c);  // mid-run at the save
  StateWriter w;
  r.save(w);
  DailyRecurrence back;
  StateReader in(w.bytes());
  REQUIRE(back.load(in));
  const std::int64_t t = kStart + kDay + 5 * kHour;
  CHECK(back.probability(t, c) == r.probability(t, c));
  // Still in the run: the next active window is no new onset for either.
  back.observe(kStart + kDay + kMinute, true, c);
  r.observe(kStart + kDay + kMinute, true, c);
  CHECK(back.probability(kStart + kDay, c) == r.probability(kStart + kDay, c));

  std::string bytes = w.bytes();
  bytes[0] = static_cast<char>(0xff);  // the first count becomes a NaN / negative float
  bytes[1] = static_cast<char>(0xff);
  bytes[2] = static_cast<char>(0xff);
  bytes[3] = static_cast<char>(0xff);
  StateReader bad(bytes);
  DailyRecurrence refused;
  CHECK_FALSE(refused.load(bad));
  StateReader truncated(std::string_view(w.bytes()).substr(0, 10));
  CHECK_FALSE(refused.load(truncated));
}
