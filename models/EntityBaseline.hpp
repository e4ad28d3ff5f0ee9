#pragma once
// The per-entity baseline of every window feature, and how it scores a window.
//
// Volumes (packets, bytes) are multiplicative and heavy-tailed: an EWMA of log1p
// with a Student-t/normal tail. Counts (flows, distinct peers and ports, rejects,
// external flows) use a negative-binomial baseline (CountDetector). Novelty (new
// peers, new ports) uses the Beta-Binomial rarity model. The EWMAs use a short
// half-life (30 windows by default) so they follow the daily cycle instead of
// paging on it; their variance absorbs the remaining lag.
//
// Memory: a few hundred bytes per entity (see memory_usage()); the configs are
// shared, not copied per entity, except where a detector class embeds its own.
#include <array>
#include <cstdint>
#include <iosfwd>
#include <string>

#include "detectors/CountDetector.hpp"
#include "detectors/EwmaDetector.hpp"
#include "detectors/RarityDetector.hpp"
#include "detectors/SustainedEvidence.hpp"
#include "models/Feature.hpp"

namespace flowlier::models {

struct BaselineConfig {
  detectors::EwmaConfig volume{
      .half_life = 30.0, .variance_half_life = 720.0, .min_samples = 30, .tail = detectors::Tail::upper,
      .min_std = 0.1};  // log space: volumes always wobble by 10%
  detectors::CountConfig counts{.half_life = 30.0, .variance_half_life = 720.0, .min_samples = 30};
  detectors::RarityConfig rarity{.min_windows = 30};
  // A window whose feature is this improbable updates the baseline with the band
  // edge instead of its value, so an attack is not learned as normal while it lasts.
  double winsorize_probability = 1e-4;
};

struct FeatureScore {
  Feature feature = Feature::flows;
  const char* detector = "";  // "ewma", "count", "rare"
  detectors::DetectorResult result;
};

using WindowScores = std::array<FeatureScore, kFeatureCount>;

class EntityBaseline {
 public:
  static constexpr const char* kTag = "entity_baseline";
  static constexpr std::uint32_t kVersion = 2;  // 2: external_client_flows

  explicit EntityBaseline(const BaselineConfig& config = {});

  WindowScores score(const FeatureVector& features, std::int64_t time_s, const BaselineConfig& config) const;
  // Absorbs the window; `scores` are those score() returned for it.
  void update(const FeatureVector& features, const WindowScores& scores, std::int64_t time_s,
              const BaselineConfig& config);

  // Fills in band edges that score() leaves open because they cost a search
  // (count features); call it only for findings that will be reported.
  void complete_bounds(FeatureScore& score, const BaselineConfig& config) const;

  std::uint32_t windows() const { return windows_; }
  // The run of evidence after this entity's last first contact on a new port (the
  // engine decides when it starts and what it adds; saved with the baseline).
  const detectors::SustainedEvidence& contact_run() const { return contact_run_; }
  detectors::SustainedEvidence& contact_run() { return contact_run_; }
  void save(std::ostream& out) const;
  std::string restore(std::istream& in, const BaselineConfig& config);
  std::uint64_t checksum() const;
  std::size_t memory_usage() const { return sizeof(*this); }

 private:
  static constexpr std::array<Feature, 3> kVolume{Feature::packets, Feature::bytes_in, Feature::bytes_out};
  static constexpr std::array<Feature, 7> kCounts{Feature::flows,          Feature::distinct_peers,
                                                  Feature::distinct_ports, Feature::rejected_flows,
                                                  Feature::external_flows, Feature::fanout_peers,
                                                  Feature::external_client_flows};
  std::array<detectors::EwmaDetector, 3> volume_;
  std::array<detectors::CountDetector, 7> counts_;
  std::array<detectors::RarityDetector, 2> novelty_;  // new_peers, new_ports
  detectors::SustainedEvidence contact_run_;
  std::uint32_t windows_ = 0;
};

}  // namespace flowlier::models
