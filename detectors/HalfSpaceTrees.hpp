#pragma once
// Streaming half-space trees (Tan, Ting & Liu, IJCAI 2011): a POPULATION model, one
// per entity kind, fed the normalized feature vectors of all its entities.
//
// Inputs are scaled to [0, 1] per dimension, by the configured range or by a learned
// one (running min/max plus a margin; the first window is buffered so the first
// reference masses use a settled range; the range is refreshed at each window
// boundary; values outside are clamped). Each of `trees` complete trees of `depth`
// levels splits a random dimension at the middle of a randomly perturbed work range.
// Nodes count a reference mass r (the previous window) and a latest mass l (the
// current one); every `window_size` points r := l, l := 0. The raw score of x is the
// sum over trees of r(node) * 2^depth(node) at the first node on x's path with
// r <= 0.1 * window_size (or the leaf): high = dense = normal.
// Calibration: the raw score is turned into a tail probability by its rank among the
// last `calibration_size` scores of updated points (lower score = rarer), with a
// linear extrapolation below the lowest one, so output is in (0, 1] like the other
// detectors. Warming up until one window is complete and min_calibration scores exist.
//
// Determinism: trees come from a seeded std::mt19937_64 (fully specified by the standard),
// converted to uniforms by our own code, so they do not
// depend on the library's distributions; same seed and inputs -> identical
// scores. The RNG is only consumed at construction; its state is saved anyway.
// Memory: trees * 2^(depth+1) * 8 bytes of masses + trees * 2^depth * 6 bytes of
// splits (~2.2 MB at the defaults 25 x 12). update/score: O(trees * depth).
#include <cstdint>
#include <iosfwd>
#include <random>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "detectors/DetectorResult.hpp"

namespace flowlier::detectors {

struct HalfSpaceTreesConfig {
  std::uint32_t dimension = 4;      // 1..64
  std::uint32_t trees = 25;         // 1..256
  std::uint32_t depth = 12;         // 1..16
  std::uint32_t window_size = 256;  // points per mass window, >= 8
  std::uint64_t seed = 42;
  // Fixed input range per dimension (both empty: learn it). Sizes must equal dimension.
  std::vector<double> range_min;
  std::vector<double> range_max;
  double range_margin = 0.1;             // learned range: add this fraction of the span each side
  std::uint32_t calibration_size = 1024;  // recent raw scores kept for calibration
  std::uint32_t min_calibration = 128;    // scores needed before results count
  double size_limit_fraction = 0.1;       // node mass limit as a fraction of window_size

  std::string validate() const;
};

struct HalfSpaceTreesResult {
  double raw_score = 0.0;         // mass score, higher = more normal
  double tail_probability = 1.0;  // share of recent scores at or below this one, in (0, 1]
  bool warming_up = true;
};

class HalfSpaceTrees {
 public:
  static constexpr const char* kTag = "half_space_trees";
  static constexpr std::uint32_t kVersion = 1;

  explicit HalfSpaceTrees(const HalfSpaceTreesConfig& config = {});

  // Returns false (and changes nothing) for a wrong-sized or non-finite vector.
  bool update(const Eigen::VectorXd& x, std::int64_t time_s);
  HalfSpaceTreesResult score(const Eigen::VectorXd& x, std::int64_t time_s) const;

  void save(std::ostream& out) const;
  std::string restore(std::istream& in);
  std::uint64_t checksum() const;
  std::size_t memory_usage() const;
  bool is_warm() const;

  std::uint64_t count() const { return count_; }
  std::uint64_t windows_completed() const { return windows_completed_; }

 private:
  std::string payload() const;
  bool accepts(const Eigen::VectorXd& x) const;
  void scale(const double* x, double* out) const;
  double raw_score(const double* scaled) const;
  void insert(const double* scaled);
  void roll_window();
  void refresh_learned_range();
  double calibrate(double raw) const;
  void remember_score(double raw);
  std::size_t nodes_per_tree() const { return (std::size_t{2} << config_.depth) - 1; }
  std::size_t internal_per_tree() const { return (std::size_t{1} << config_.depth) - 1; }

  HalfSpaceTreesConfig config_;
  bool learn_range_;
  std::mt19937_64 rng_;
  std::vector<std::uint16_t> split_dimension_;  // trees * internal nodes, heap order
  std::vector<float> split_value_;              // in scaled [0, 1] units (work ranges exceed it)
  std::vector<std::uint32_t> reference_mass_;   // trees * nodes
  std::vector<std::uint32_t> latest_mass_;
  std::vector<double> scale_low_;               // current scaling, per dimension
  std::vector<double> scale_high_;
  std::vector<double> observed_min_;            // learned mode: running extremes
  std::vector<double> observed_max_;
  std::vector<double> first_window_;            // learned mode: raw points of window 1
  std::vector<double> recent_scores_;           // ring, calibration_size
  std::vector<double> sorted_scores_;           // the same values, sorted
  std::uint32_t recent_head_ = 0;
  std::uint32_t window_count_ = 0;              // points in the current window
  std::uint64_t windows_completed_ = 0;
  std::uint64_t count_ = 0;
};

}  // namespace flowlier::detectors
