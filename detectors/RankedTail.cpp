#include "detectors/RankedTail.hpp"

#include <algorithm>
#include <cmath>
#include <istream>
#include <ostream>

#include "core/StateIo.hpp"

namespace flowlier::detectors {
namespace {

constexpr double kMicro = 1e6;  // surprises are summed in integer micro-decades
constexpr double kMilli = 1e3;  // and their squares in milli-decades squared

RankedTailConfig sanitized(RankedTailConfig c) {
  if (!(c.max_surprise >= 1.0) || !std::isfinite(c.max_surprise)) c.max_surprise = 30.0;
  c.max_surprise = std::min(c.max_surprise, 300.0);
  c.bins_per_decade = std::clamp<std::uint32_t>(c.bins_per_decade, 1, 1000);
  if (!(c.tail_share >= 0.0) || !std::isfinite(c.tail_share)) c.tail_share = 0.0;
  c.tail_share = std::min(c.tail_share, 0.5);
  c.min_tail_rows = std::max<std::uint32_t>(c.min_tail_rows, 1);
  return c;
}

std::size_t lowest_bit(std::size_t i) { return i & (~i + 1); }

}  // namespace

std::string RankedTailConfig::validate() const {
  if (!(max_surprise >= 1.0) || max_surprise > 300.0) return "max_surprise must be in [1, 300]";
  if (bins_per_decade < 1 || bins_per_decade > 1000) return "bins_per_decade must be in [1, 1000]";
  if (!(tail_share >= 0.0 && tail_share <= 0.5)) return "tail_share must be in [0, 0.5]";
  if (min_tail_rows < 1) return "min_tail_rows must be >= 1";
  return {};
}

RankedTail::RankedTail(const RankedTailConfig& config)
    : config_(sanitized(config)),
      bins_(static_cast<std::size_t>(std::ceil(config_.max_surprise * config_.bins_per_decade)) + 1),
      counts_(bins_ + 1, 0),
      sums_(bins_ + 1, 0),
      squares_(bins_ + 1, 0) {}

double RankedTail::clamped(double surprise) const {
  if (!(surprise > 0.0)) return 0.0;
  return std::min(surprise, config_.max_surprise);
}

std::size_t RankedTail::bin_of(double surprise) const {
  // The ceiling bin holds every surprise at the range's end (-log10(1e-300) is a hair
  // below 300 in floating point).
  if (clamped(surprise) >= config_.max_surprise * (1.0 - 1e-12)) return bins_ - 1;
  const auto bin = static_cast<std::size_t>(clamped(surprise) * config_.bins_per_decade);
  return std::min(bin, bins_ - 1);
}

void RankedTail::add(std::size_t bin, std::uint64_t rows, std::uint64_t micro, std::uint64_t squares) {
  for (std::size_t i = bin + 1; i <= bins_; i += lowest_bit(i)) {
    counts_[i] += rows;
    sums_[i] += micro;
    squares_[i] += squares;
  }
  count_ += rows;
  total_ += micro;
  total_squares_ += squares;
}

void RankedTail::update(double surprise) {
  const auto milli = static_cast<std::uint64_t>(std::llround(clamped(surprise) * kMilli));
  add(bin_of(surprise), 1, static_cast<std::uint64_t>(std::llround(clamped(surprise) * kMicro)), milli * milli);
}

std::uint64_t RankedTail::count_below(std::size_t bin) const {
  std::uint64_t n = 0;
  for (std::size_t i = bin; i > 0; i -= lowest_bit(i)) n += counts_[i];
  return n;
}

std::uint64_t RankedTail::sum_below(std::size_t bin) const {
  std::uint64_t s = 0;
  for (std::size_t i = bin; i > 0; i -= lowest_bit(i)) s += sums_[i];
  return s;
}

std::uint64_t RankedTail::squares_below(std::size_t bin) const {
  std::uint64_t s = 0;
  for (std::size_t i = bin; i > 0; i -= lowest_bit(i)) s += squares_[i];
  return s;
}

std::size_t RankedTail::tail_start(std::uint64_t rows) const {
  // The largest b with count_below(b) <= count_ - rows, by descending the tree.
  const std::uint64_t target = count_ - std::min(rows, count_);
  std::size_t pos = 0;
  std::uint64_t below = 0;
  std::size_t step = 1;
  while (step * 2 <= bins_) step *= 2;
  for (; step > 0; step /= 2) {
    if (pos + step <= bins_ && below + counts_[pos + step] <= target) {
      pos += step;
      below += counts_[pos];
    }
  }
  return pos;
}

double RankedTail::score(double surprise) const {
  if (count_ == 0) return 0.0;
  const double n = static_cast<double>(count_);
  const std::size_t bin = bin_of(surprise);
  const double rank = static_cast<double>(count_below(bin)) / n;
  if (config_.tail_share <= 0.0) return rank;

  const auto wanted = static_cast<std::uint64_t>(
      std::max(static_cast<double>(config_.min_tail_rows), std::ceil(config_.tail_share * n)));
  const std::size_t start = tail_start(wanted);
  if (bin <= start) return rank;  // inside the body (or the tail's first bin): the rank is exact enough
  if (bin == bins_ - 1) return rank;  // censored at the ceiling: nothing to extrapolate into
  const std::uint64_t tail_rows = count_ - count_below(start);
  if (tail_rows == 0) return rank;
  const double u = static_cast<double>(start) / config_.bins_per_decade;  // the tail's lower edge
  const double mean = static_cast<double>(total_ - sum_below(start)) / kMicro / static_cast<double>(tail_rows);
  const double m = mean - u;  // mean excess
  const double second = static_cast<double>(total_squares_ - squares_below(start)) / (kMilli * kMilli) /
                        static_cast<double>(tail_rows);
  const double v = std::max(0.0, second - mean * mean);  // variance of the excesses
  // Generalised Pareto by the method of moments (Hosking & Wallis 1987): the shape is
  // below 1/2 by construction, and kept >= 0 (never lighter than exponential, whose
  // scale is then the mean excess); the scale never below a calibrated detector's.
  double shape = v > 0.0 ? 0.5 * (1.0 - m * m / v) : 0.0;
  double scale = v > 0.0 ? 0.5 * m * (m * m / v + 1.0) : m;
  if (shape <= 0.0) {
    shape = 0.0;
    scale = m;
  }
  scale = std::max(scale, kCalibratedScale);
  const double excess = clamped(surprise) - u;
  const double survival = shape > 0.0 ? std::pow(1.0 + shape * excess / scale, -1.0 / shape) : std::exp(-excess / scale);
  const double share = static_cast<double>(tail_rows) / n * survival;
  return 1.0 - share;
}

std::size_t RankedTail::memory_usage() const {
  return sizeof(*this) +
         (counts_.capacity() + sums_.capacity() + squares_.capacity()) * sizeof(std::uint64_t);
}

std::string RankedTail::payload() const {
  // Sparse: (bin, rows, micro-decades, milli-decades squared) of every occupied bin,
  // read back from the trees' prefix differences.
  StateWriter w;
  std::vector<std::uint64_t> occupied;
  std::uint64_t rows_before = 0, micro_before = 0, squares_before = 0;
  for (std::size_t b = 0; b < bins_; ++b) {
    const std::uint64_t rows = count_below(b + 1), micro = sum_below(b + 1), squares = squares_below(b + 1);
    if (rows != rows_before) {
      occupied.push_back(b);
      occupied.push_back(rows - rows_before);
      occupied.push_back(micro - micro_before);
      occupied.push_back(squares - squares_before);
    }
    rows_before = rows;
    micro_before = micro;
    squares_before = squares;
  }
  w.put<std::uint64_t>(bins_);
  w.put_vector(occupied);
  return w.take();
}

void RankedTail::save(std::ostream& out) const { save_record(out, kTag, kVersion, payload()); }

std::uint64_t RankedTail::checksum() const { return fnv1a64(payload()); }

std::string RankedTail::restore(std::istream& in) {
  std::string bytes;
  const std::size_t max_payload = 16 + 32 * bins_ + 8;
  if (std::string error = load_record(in, kTag, kVersion, bytes, max_payload); !error.empty()) return error;
  StateReader reader(bytes);
  std::uint64_t bins = 0;
  std::vector<std::uint64_t> occupied;
  reader.get(bins);
  reader.get_vector(occupied, 4 * bins_);
  if (reader.ok() && bins != bins_) {
    reader.fail("saved state has " + std::to_string(bins) + " bins, configuration wants " + std::to_string(bins_) +
                " (max_surprise or bins_per_decade changed?)");
  }
  RankedTail next(config_);
  if (reader.ok() && occupied.size() % 4 != 0) reader.fail("occupied bins come in (bin, rows, sum, squares) records");
  for (std::size_t i = 0; reader.ok() && i + 3 < occupied.size(); i += 4) {
    const std::uint64_t bin = occupied[i], rows = occupied[i + 1], micro = occupied[i + 2], squares = occupied[i + 3];
    const double lowest = static_cast<double>(bin) / config_.bins_per_decade * kMicro;
    if (bin >= bins_ || rows == 0 || (i > 0 && bin <= occupied[i - 4]) ||
        static_cast<double>(micro) + 1.0 < lowest * static_cast<double>(rows)) {
      reader.fail("occupied bin " + std::to_string(bin) + " is out of order, empty or below its range");
      break;
    }
    next.add(bin, rows, micro, squares);
  }
  if (std::string error = reader.finish(); !error.empty()) return "ranked_tail: " + error;
  *this = std::move(next);
  return {};
}

}  // namespace flowlier::detectors
