#include "detectors/MahalanobisDetector.hpp"

#include <algorithm>
#include <cmath>
#include <istream>
#include <ostream>
#include <vector>

#include <Eigen/Cholesky>

#include "detectors/Probability.hpp"
#include "core/StateIo.hpp"

namespace flowlier::detectors {
namespace {

constexpr std::uint32_t kMaxDimension = 64;

MahalanobisConfig sanitized(MahalanobisConfig c) {
  c.dimension = std::clamp<std::uint32_t>(c.dimension, 1, kMaxDimension);
  if (!(c.half_life >= 1.0) || !std::isfinite(c.half_life)) c.half_life = 60.0;
  c.min_samples = std::max<std::uint32_t>(c.min_samples, 2);
  if (!(c.shrinkage >= 0.0 && c.shrinkage <= 1.0)) c.shrinkage = 0.05;
  if (!(c.ridge >= 0.0) || !std::isfinite(c.ridge)) c.ridge = 1e-6;
  if (!(c.min_variance > 0.0) || !std::isfinite(c.min_variance)) c.min_variance = 1e-4;
  return c;
}

}  // namespace

std::string MahalanobisConfig::validate() const {
  if (dimension < 1 || dimension > kMaxDimension) return "dimension must be in [1, 64]";
  if (!(half_life >= 1.0) || !std::isfinite(half_life)) return "half_life must be >= 1";
  if (min_samples < 2) return "min_samples must be >= 2";
  if (!(shrinkage >= 0.0 && shrinkage <= 1.0)) return "shrinkage must be in [0, 1]";
  if (!(ridge >= 0.0) || !std::isfinite(ridge)) return "ridge must be >= 0";
  if (!(min_variance > 0.0) || !std::isfinite(min_variance)) return "min_variance must be > 0";
  return {};
}

MahalanobisDetector::MahalanobisDetector(const MahalanobisConfig& config)
    : config_(sanitized(config)),
      alpha_(1.0 - std::exp2(-1.0 / config_.half_life)),
      mean_(Eigen::VectorXd::Zero(config_.dimension)),
      covariance_(Eigen::MatrixXd::Zero(config_.dimension, config_.dimension)) {}

bool MahalanobisDetector::accepts(const Eigen::VectorXd& x) const {
  return x.size() == static_cast<Eigen::Index>(config_.dimension) && x.allFinite();
}

bool MahalanobisDetector::update(const Eigen::VectorXd& x, std::int64_t /*time_s*/) {
  if (!accepts(x)) return false;
  if (count_ < UINT32_MAX) ++count_;
  const double a = std::max(alpha_, 1.0 / count_);
  const Eigen::VectorXd diff = x - mean_;
  mean_.noalias() += a * diff;
  // Multivariate West/Finch: C <- (1 - a) (C + a diff diff^T).
  covariance_ = (1.0 - a) * covariance_;
  covariance_.selfadjointView<Eigen::Lower>().rankUpdate(diff, (1.0 - a) * a);
  covariance_.triangularView<Eigen::StrictlyUpper>() = covariance_.transpose();
  return true;
}

Eigen::MatrixXd MahalanobisDetector::regularized_covariance() const {
  const double d = config_.dimension;
  const double lambda = std::max(config_.shrinkage, d / (count_ + d));
  Eigen::MatrixXd s = (1.0 - lambda) * covariance_;
  for (Eigen::Index i = 0; i < s.rows(); ++i) {
    s(i, i) = std::max(covariance_(i, i), 0.0) + config_.ridge + config_.min_variance;
  }
  return s;
}

MultivariateResult MahalanobisDetector::score(const Eigen::VectorXd& x, std::int64_t /*time_s*/) const {
  MultivariateResult result;
  result.warming_up = !is_warm();
  result.contributions = Eigen::VectorXd::Zero(config_.dimension);
  if (!accepts(x) || count_ == 0) return result;
  const Eigen::VectorXd diff = x - mean_;
  const Eigen::LDLT<Eigen::MatrixXd> factor(regularized_covariance());
  if (factor.info() != Eigen::Success) return result;
  const Eigen::VectorXd solved = factor.solve(diff);
  const Eigen::VectorXd parts = diff.cwiseProduct(solved);
  const double d2 = parts.sum();
  if (!std::isfinite(d2)) return result;
  result.distance2 = std::max(d2, 0.0);
  if (result.distance2 > 0.0) result.contributions = parts / d2;
  if (!result.warming_up) {
    result.tail_probability = chi_square_upper_tail(result.distance2, config_.dimension);
  }
  return result;
}

std::size_t MahalanobisDetector::memory_usage() const {
  return sizeof(*this) + static_cast<std::size_t>(mean_.size() + covariance_.size()) * sizeof(double);
}

std::string MahalanobisDetector::payload() const {
  StateWriter writer;
  writer.put<std::uint32_t>(config_.dimension);
  writer.put(count_);
  writer.put_bytes(mean_.data(), static_cast<std::size_t>(mean_.size()) * sizeof(double));
  writer.put_bytes(covariance_.data(), static_cast<std::size_t>(covariance_.size()) * sizeof(double));
  return writer.take();
}

void MahalanobisDetector::save(std::ostream& out) const { save_record(out, kTag, kVersion, payload()); }

std::uint64_t MahalanobisDetector::checksum() const { return fnv1a64(payload()); }

std::string MahalanobisDetector::restore(std::istream& in) {
  const std::size_t d = config_.dimension;
  std::string bytes;
  if (std::string error = load_record(in, kTag, kVersion, bytes, 64 + (d + d * d) * sizeof(double));
      !error.empty()) {
    return error;
  }
  StateReader reader(bytes);
  MahalanobisDetector next(config_);
  std::uint32_t dimension = 0;
  if (reader.get(dimension) && dimension != config_.dimension) {
    reader.fail("saved dimension " + std::to_string(dimension) + " differs from the configured " +
                std::to_string(config_.dimension));
  }
  reader.get(next.count_);
  for (std::size_t i = 0; i < d && reader.ok(); ++i) reader.get(next.mean_(static_cast<Eigen::Index>(i)));
  for (std::size_t i = 0; i < d * d && reader.ok(); ++i) reader.get(next.covariance_.data()[i]);
  if (reader.ok()) {
    if (!next.mean_.allFinite() || !next.covariance_.allFinite()) {
      reader.fail("state holds non-finite values");
    } else if (!next.covariance_.isApprox(next.covariance_.transpose()) ||
               (next.covariance_.diagonal().array() < 0.0).any()) {
      reader.fail("saved covariance is not symmetric with a non-negative diagonal");
    }
  }
  if (std::string error = reader.finish(); !error.empty()) return "mahalanobis: " + error;
  *this = std::move(next);
  return {};
}

}  // namespace flowlier::detectors
