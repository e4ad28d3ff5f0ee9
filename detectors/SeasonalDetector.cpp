#include "detectors/SeasonalDetector.hpp"

#include <algorithm>
#include <cmath>
#include <istream>
#include <ostream>

#include "core/TimeMath.hpp"
#include "detectors/Probability.hpp"
#include "core/StateIo.hpp"

namespace flowlier::detectors {
namespace {

constexpr std::int64_t kDay = core::kSecondsPerDay;
constexpr double kStudentTUntil = 30.0;

double to_log(double x) { return std::copysign(std::log1p(std::abs(x)), x); }
double from_log(double y) { return std::copysign(std::expm1(std::min(std::abs(y), 700.0)), y); }

double alpha_for(double half_life) { return 1.0 - std::exp2(-1.0 / half_life); }

SeasonalConfig sanitized(SeasonalConfig c) {
  if (!(c.bin_half_life >= 1.0) || !std::isfinite(c.bin_half_life)) c.bin_half_life = 60.0;
  if (!(c.global_half_life >= 1.0) || !std::isfinite(c.global_half_life)) c.global_half_life = 120.0;
  c.min_samples = std::max<std::uint32_t>(c.min_samples, 2);
  c.min_history_s = std::clamp<std::int64_t>(c.min_history_s, 0, 366 * kDay);
  if (!(c.prior_samples >= 0.0) || !std::isfinite(c.prior_samples)) c.prior_samples = 5.0;
  if (!(c.weekly_prior_samples >= 0.0) || !std::isfinite(c.weekly_prior_samples)) c.weekly_prior_samples = 2.0;
  c.weekly_after_s = std::clamp<std::int64_t>(c.weekly_after_s, 0, 366 * kDay);
  c.utc_offset_s = std::clamp<std::int64_t>(c.utc_offset_s, -kDay, kDay);
  if (c.tail != Tail::lower && c.tail != Tail::both) c.tail = Tail::upper;
  if (!(c.band_sigma > 0.0) || !std::isfinite(c.band_sigma)) c.band_sigma = 3.0;
  if (!(c.min_log_std > 0.0) || !std::isfinite(c.min_log_std)) c.min_log_std = 0.05;
  return c;
}

// EW update of one bin with weight max(alpha, 1/n) (West/Finch).
void absorb(SeasonalDetector::Bin& bin, double x, double alpha) {
  if (bin.count < UINT32_MAX) ++bin.count;
  const double a = std::max(alpha, 1.0 / bin.count);
  const double diff = x - bin.mean;
  const double increment = a * diff;
  bin.mean = static_cast<float>(bin.mean + increment);
  bin.variance = static_cast<float>((1.0 - a) * (bin.variance + diff * increment));
}

// Mean, variance (with the uncertainty of the mean) and effective n of one bin.
struct Estimate {
  double mean;
  double variance;
  double n_eff;
};

Estimate estimate(const SeasonalDetector::Bin& bin, double alpha) {
  const double n_eff = std::min(static_cast<double>(bin.count), (2.0 - alpha) / alpha);
  double variance = bin.variance;
  if (n_eff > 1.0) variance *= n_eff / (n_eff - 1.0);
  if (n_eff > 0.0) variance += variance / n_eff;
  return {bin.mean, variance, n_eff};
}

Estimate blend(const Estimate& specific, const Estimate& fallback, double prior) {
  const double w = specific.n_eff / (specific.n_eff + prior);
  if (!(w > 0.0)) return fallback;
  // The fallback acts as a prior for the bin: a young bin borrows its level and its
  // (wider) variance. No extra spread term: the fallback variance already holds the
  // spread between bins, so adding it again would blunt well-populated bins.
  return {w * specific.mean + (1.0 - w) * fallback.mean,
          w * specific.variance + (1.0 - w) * fallback.variance, std::max(specific.n_eff, 1.0)};
}

bool valid_bin(const SeasonalDetector::Bin& bin) {
  return std::isfinite(bin.mean) && std::isfinite(bin.variance) && bin.variance >= 0.0f;
}

}  // namespace

std::string SeasonalConfig::validate() const {
  if (!(bin_half_life >= 1.0) || !std::isfinite(bin_half_life)) return "bin_half_life must be >= 1";
  if (!(global_half_life >= 1.0) || !std::isfinite(global_half_life)) {
    return "global_half_life must be >= 1";
  }
  if (min_samples < 2) return "min_samples must be >= 2";
  if (min_history_s < 0 || min_history_s > 366 * kDay) return "min_history_s must be in [0, 366 days]";
  if (!(prior_samples >= 0.0) || !std::isfinite(prior_samples)) return "prior_samples must be >= 0";
  if (!(weekly_prior_samples >= 0.0) || !std::isfinite(weekly_prior_samples)) {
    return "weekly_prior_samples must be >= 0";
  }
  if (weekly_after_s < 0 || weekly_after_s > 366 * kDay) return "weekly_after_s must be in [0, 366 days]";
  if (utc_offset_s < -kDay || utc_offset_s > kDay) return "utc_offset_s must be within one day";
  if (!(band_sigma > 0.0) || !std::isfinite(band_sigma)) return "band_sigma must be > 0";
  if (!(min_log_std > 0.0) || !std::isfinite(min_log_std)) return "min_log_std must be > 0";
  return {};
}

SeasonalDetector::SeasonalDetector(const SeasonalConfig& config)
    : config_(sanitized(config)),
      bin_alpha_(alpha_for(config_.bin_half_life)),
      global_alpha_(alpha_for(config_.global_half_life)) {
  if (config_.weekly) weekly_.resize(168);
}

int SeasonalDetector::hour_of(std::int64_t time_s) const {
  const std::int64_t local = time_s + config_.utc_offset_s;
  const std::int64_t second_of_day = core::floor_mod(local, kDay);
  return static_cast<int>(second_of_day / 3600);
}

int SeasonalDetector::week_bin_of(std::int64_t time_s) const {
  const std::int64_t local = time_s + config_.utc_offset_s;
  const std::int64_t day = core::floor_div(local, kDay);  // also before 1970
  const auto day_of_week = static_cast<int>(core::floor_mod(day + 4, 7));  // 1970-01-01 was a Thursday
  return day_of_week * 24 + hour_of(time_s);
}

bool SeasonalDetector::is_warm_at(std::int64_t time_s) const {
  return count_ >= config_.min_samples &&
         std::max(time_s, last_time_s_) - first_time_s_ >= config_.min_history_s;
}

bool SeasonalDetector::is_warm() const { return is_warm_at(last_time_s_); }

void SeasonalDetector::update(double value, std::int64_t time_s) {
  if (!std::isfinite(value)) return;
  const double x = to_log(value);
  if (count_ == 0) {
    first_time_s_ = last_time_s_ = time_s;
  } else {
    first_time_s_ = std::min(first_time_s_, time_s);
    last_time_s_ = std::max(last_time_s_, time_s);
  }
  if (count_ < UINT32_MAX) ++count_;
  const double a = std::max(global_alpha_, 1.0 / count_);
  const double diff = x - global_mean_;
  global_mean_ += a * diff;
  global_variance_ = (1.0 - a) * (global_variance_ + diff * a * diff);
  absorb(hourly_[static_cast<std::size_t>(hour_of(time_s))], x, bin_alpha_);
  if (!weekly_.empty()) absorb(weekly_[static_cast<std::size_t>(week_bin_of(time_s))], x, bin_alpha_);
}

DetectorResult SeasonalDetector::score(double value, std::int64_t time_s) const {
  DetectorResult result;
  result.value = std::isfinite(value) ? value : 0.0;
  result.warming_up = !is_warm_at(time_s);
  if (count_ == 0) {
    result.expected = result.lower = result.upper = result.value;
    return result;
  }
  const Bin global_bin{static_cast<float>(global_mean_), static_cast<float>(global_variance_), count_};
  const Estimate global = estimate(global_bin, global_alpha_);
  Estimate e = blend(estimate(hourly_[static_cast<std::size_t>(hour_of(time_s))], bin_alpha_), global,
                     config_.prior_samples);
  if (!weekly_.empty() && last_time_s_ - first_time_s_ >= config_.weekly_after_s) {
    e = blend(estimate(weekly_[static_cast<std::size_t>(week_bin_of(time_s))], bin_alpha_), e,
              config_.weekly_prior_samples);
  }
  const double sd = std::max(std::sqrt(std::max(e.variance, 0.0)), config_.min_log_std);
  result.expected = from_log(e.mean);
  result.lower = from_log(e.mean - config_.band_sigma * sd);
  result.upper = from_log(e.mean + config_.band_sigma * sd);
  if (result.warming_up || !std::isfinite(value)) return result;
  const double z = (to_log(value) - e.mean) / sd;
  result.tail_probability = e.n_eff < kStudentTUntil && e.n_eff > 1.0
                                ? student_t_tail(z, e.n_eff - 1.0, config_.tail)
                                : normal_tail(z, config_.tail);
  return result;
}

std::string SeasonalDetector::payload() const {
  StateWriter writer;
  writer.put(global_mean_);
  writer.put(global_variance_);
  writer.put(count_);
  writer.put(first_time_s_);
  writer.put(last_time_s_);
  writer.put_vector(std::vector<Bin>(hourly_.begin(), hourly_.end()));
  writer.put_vector(weekly_);
  return writer.take();
}

void SeasonalDetector::save(std::ostream& out) const { save_record(out, kTag, kVersion, payload()); }

std::uint64_t SeasonalDetector::checksum() const { return fnv1a64(payload()); }

std::string SeasonalDetector::restore(std::istream& in) {
  std::string bytes;
  if (std::string error = load_record(in, kTag, kVersion, bytes, 8192); !error.empty()) return error;
  StateReader reader(bytes);
  SeasonalDetector next(config_);
  std::vector<Bin> hourly;
  std::vector<Bin> weekly;
  reader.get(next.global_mean_);
  reader.get(next.global_variance_);
  reader.get(next.count_);
  reader.get(next.first_time_s_);
  reader.get(next.last_time_s_);
  reader.get_vector(hourly, 24);
  reader.get_vector(weekly, 168);
  if (reader.ok()) {
    if (hourly.size() != 24) {
      reader.fail("expected 24 hour bins, found " + std::to_string(hourly.size()));
    } else if (weekly.size() != weekly_.size()) {
      reader.fail("saved state has " + std::to_string(weekly.size()) + " weekly bins, configuration wants " +
                  std::to_string(weekly_.size()) + " (weekly setting changed?)");
    } else if (!std::isfinite(next.global_mean_) || !std::isfinite(next.global_variance_) ||
               next.global_variance_ < 0.0 || next.first_time_s_ > next.last_time_s_ ||
               !std::all_of(hourly.begin(), hourly.end(), valid_bin) ||
               !std::all_of(weekly.begin(), weekly.end(), valid_bin)) {
      reader.fail("state holds non-finite or inconsistent values");
    }
  }
  if (std::string error = reader.finish(); !error.empty()) return "seasonal: " + error;
  std::copy(hourly.begin(), hourly.end(), next.hourly_.begin());
  next.weekly_ = std::move(weekly);
  *this = std::move(next);
  return {};
}

}  // namespace flowlier::detectors
