#pragma once
// How rare a surprise is against the history of surprises of one detector on one
// series: a score in [0, 1] that is 1 minus the estimated share of rows at least as
// surprising. A surprise is -log10 of a detector's tail probability (>= 0, decades).
//
// - Body: the empirical rank, the share of earlier surprises in lower histogram bins
//   (bins of 1 / bins_per_decade decades). It calibrates a detector that is wrong about
//   its own tail (a quantised series, a variance floor) against what it actually says
//   on this series.
// - Tail (tail_share > 0): a rank cannot tell a surprise just above the history's top
//   from one ten decades beyond it, and in a long series the top per mille of ordinary
//   rows is as high as a new record. Above the lower edge u of the top tail_share of
//   the history (at least min_tail_rows rows), exceedances are modelled as generalised
//   Pareto (peaks over threshold):
//     P(S >= s) = (rows in the tail / rows) * (1 + shape * (s - u) / scale)^(-1 / shape)
//   (exponential, exp(-(s - u) / scale), at shape 0), fitted by the method of moments
//   to the tail rows' excesses over u (Hosking & Wallis 1987). The shape is kept >= 0:
//   a detector that is wrong about a heavy-tailed series (a Gaussian on bursts) has a
//   heavy tail of surprises, so big ones recur more often than an exponential says;
//   never lighter than exponential. The scale is never below 1 / ln 10 decades: that
//   is the scale of a detector whose probabilities are right (P(S >= s) = 10^-s), so
//   the extrapolation is never more confident than the detector itself, and ties or
//   quantised surprises (a tail of identical values, no spread) fall back on the
//   detector's own decades instead of an arbitrarily thin tail.
// - The last bin holds everything at or above max_surprise: those surprises are
//   censored (the detector said "at least this"), so they get the rank, not a fit.
//
// The histogram spans [0, max_surprise] decades; larger surprises are clamped into the
// last bin (use 300, the smallest probability a detector reports, to keep every
// surprise apart). Deterministic, no clocks or I/O.
// Memory: three Fenwick trees over the bins (24 bytes per bin: ~144 KB at 300 decades
// and 20 bins per decade). Sums are kept as integers (micro-decades; squares in
// milli-decades squared), so they are exact and a restored history scores bit for bit
// like the original. Cost: O(log bins) per update and score. Not thread-safe.
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace flowlier::detectors {

struct RankedTailConfig {
  double max_surprise = 30.0;          // decades covered by the histogram, in [1, 300]
  std::uint32_t bins_per_decade = 20;  // resolution, in [1, 1000]
  double tail_share = 0.0;             // top share fitted by the exponential tail; 0 = plain rank
  std::uint32_t min_tail_rows = 10;    // the tail fit uses at least this many rows

  // "" if valid, else a message naming the offending parameter.
  std::string validate() const;
};

class RankedTail {
 public:
  static constexpr const char* kTag = "ranked_tail";
  static constexpr std::uint32_t kVersion = 1;
  // The exponential scale (decades) of a calibrated detector's surprises: the scale's floor.
  static constexpr double kCalibratedScale = 0.43429448190325176;  // 1 / ln 10

  // Invalid parameters are clamped (validate() first).
  explicit RankedTail(const RankedTailConfig& config = {});

  // Adds one surprise to the history (negative or NaN counts as 0).
  void update(double surprise);
  // 1 - the estimated share of the history at least as surprising; 0 with no history.
  double score(double surprise) const;

  std::uint64_t count() const { return count_; }

  void save(std::ostream& out) const;
  std::string restore(std::istream& in);
  std::uint64_t checksum() const;
  std::size_t memory_usage() const;

 private:
  std::size_t bin_of(double surprise) const;
  double clamped(double surprise) const;
  std::uint64_t count_below(std::size_t bin) const;  // rows in bins < bin
  std::uint64_t sum_below(std::size_t bin) const;    // their surprises' sum, micro-decades
  std::uint64_t squares_below(std::size_t bin) const;
  void add(std::size_t bin, std::uint64_t rows, std::uint64_t micro, std::uint64_t squares);
  std::size_t tail_start(std::uint64_t rows) const;  // the highest bin with >= rows at or above it
  std::string payload() const;

  RankedTailConfig config_;
  std::size_t bins_;
  std::vector<std::uint64_t> counts_;  // Fenwick tree, 1-based
  std::vector<std::uint64_t> sums_;    // Fenwick tree of the clamped surprises (micro-decades)
  std::vector<std::uint64_t> squares_; // Fenwick tree of their squares (milli-decades squared)
  std::uint64_t count_ = 0;
  std::uint64_t total_ = 0;            // micro-decades
  std::uint64_t total_squares_ = 0;
};

}  // namespace flowlier::detectors
