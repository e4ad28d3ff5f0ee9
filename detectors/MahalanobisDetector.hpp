#pragma once
// Exponentially weighted mean vector and covariance of a d-dimensional feature
// vector (the caller supplies it already transformed, e.g. log1p of each feature);
// score = squared Mahalanobis distance with a chi-square(d) tail, plus each
// dimension's share of that distance so an event can name the feature that drove it.
//
// Regularisation keeps the covariance invertible from the first samples:
//   S = (1 - l) C + l diag(C) + (ridge + min_variance) I,  l = max(shrinkage, d / (n + d))
// (more shrinkage toward the diagonal while n is small). Update is O(d^2); score
// factors S (LDLT, O(d^3)): fine for the d <= ~16 features of a window.
// Vectors of the wrong size or with non-finite entries are refused (update returns
// false, score reports tail probability 1).
#include <cstdint>
#include <iosfwd>
#include <string>

#include <Eigen/Core>

namespace flowlier::detectors {

struct MultivariateResult {
  double distance2 = 0.0;         // squared Mahalanobis distance
  double tail_probability = 1.0;  // chi-square(d) upper tail, in [1e-300, 1]
  bool warming_up = true;
  // contributions[i] = diff_i * (S^-1 diff)_i / distance2: each dimension's share of
  // the distance; sums to 1 (a share can be negative when a correlated feature
  // explains part of another's deviation). All zero when distance2 == 0.
  Eigen::VectorXd contributions;
};

struct MahalanobisConfig {
  std::uint32_t dimension = 4;     // d >= 1, <= 64
  double half_life = 60.0;         // samples
  std::uint32_t min_samples = 30;
  double shrinkage = 0.05;         // minimum weight of the diagonal target
  double ridge = 1e-6;             // added to the diagonal
  double min_variance = 1e-4;      // per-dimension variance floor (log space: ~1 %)

  std::string validate() const;
};

class MahalanobisDetector {
 public:
  static constexpr const char* kTag = "mahalanobis";
  static constexpr std::uint32_t kVersion = 1;

  explicit MahalanobisDetector(const MahalanobisConfig& config = {});

  // Returns false (and changes nothing) for a wrong-sized or non-finite vector.
  bool update(const Eigen::VectorXd& x, std::int64_t time_s);
  MultivariateResult score(const Eigen::VectorXd& x, std::int64_t time_s) const;

  void save(std::ostream& out) const;
  std::string restore(std::istream& in);
  std::uint64_t checksum() const;
  std::size_t memory_usage() const;
  bool is_warm() const { return count_ >= config_.min_samples; }

  std::uint32_t dimension() const { return config_.dimension; }
  std::uint32_t count() const { return count_; }
  const Eigen::VectorXd& mean() const { return mean_; }
  const Eigen::MatrixXd& covariance() const { return covariance_; }  // unregularised EW
  Eigen::MatrixXd regularized_covariance() const;

 private:
  std::string payload() const;
  bool accepts(const Eigen::VectorXd& x) const;

  MahalanobisConfig config_;
  double alpha_;
  std::uint32_t count_ = 0;
  Eigen::VectorXd mean_;
  Eigen::MatrixXd covariance_;
};

}  // namespace flowlier::detectors
