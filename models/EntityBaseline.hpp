#pragma once
// The per-entity baseline of every window feature, and how it scores a window.
//
// Magnitudes (packets, bytes and the activity counts a user or job drives) are
// heavy-tailed and often zero (sessions, batch jobs, backups): whether the entity is
// active and how much it does when active are judged apart, with a Student-t tail in
// log space whose dof the entity learns (IntermittentDetector). Counts of small
// independent events (peers reaching the entity, ports, rejects, one source's repeats)
// use a negative-binomial baseline (CountDetector). Novelty (new peers, new ports)
// uses the Beta-Binomial rarity model. Levels use a short half-life (30 windows by
// default) so they follow the daily cycle; spreads are remembered about a day. Every
// p is floored by what the history can vouch for (evidence_power).
//
// Memory: a few hundred bytes per entity (see memory_usage()); the configs are
// shared, not copied per entity, except where a detector class embeds its own.
#include <array>
#include <cstdint>
#include <iosfwd>
#include <string>

#include "detectors/CountDetector.hpp"
#include "detectors/DailyRecurrence.hpp"
#include "detectors/IntermittentDetector.hpp"
#include "detectors/RarityDetector.hpp"
#include "detectors/SustainedEvidence.hpp"
#include "detectors/TailSelfCheck.hpp"
#include "models/Feature.hpp"
#include "models/RepeatedSources.hpp"

namespace flowlier::models {

struct BaselineConfig {
  detectors::IntermittentConfig volume;
  detectors::CountConfig counts{.half_life = 30.0, .variance_half_life = 720.0, .min_samples = 30};
  detectors::RarityConfig rarity{.min_windows = 30};
  detectors::SelfCheckConfig count_check;  // the counts' self-check (volumes carry their own)
  detectors::DailyRecurrenceConfig upload_hours;  // when uploads usually begin (backups)
  // A window's p is never below (windows of history + 1)^-evidence_power.
  double evidence_power = 3.0;
  // Every warm count updates the baseline clipped at this many spreads, so an attack
  // is not learned as normal while it lasts, yet the spread keeps learning.
  double count_clip_sigma = 3.0;
  // Memory of the repeated-sources count, in windows (half-life), and its baseline:
  // how persistent an entity's sources normally are changes slowly, so its level is
  // not the daily-cycle one of the other counts (a slow source ramps up gradually
  // and a 30-window level would follow it).
  double source_half_life = 15.0;
  // Memory of the bytes sent to each external destination, in windows (half-life):
  // low-and-slow exfiltration is defined over hours, an ordinary upload over minutes.
  double upload_half_life = 30.0;
  detectors::CountConfig sources{.half_life = 720.0, .variance_half_life = 1440.0, .min_samples = 30};
  const detectors::CountConfig& count_config(Feature f) const {
    return f == Feature::repeated_source_flows ? sources : counts;
  }
};

struct FeatureScore {
  Feature feature = Feature::flows;
  const char* detector = "";  // "volume", "activity", "count", "rare"
  detectors::DetectorResult result;
  // The model's own tail probability before its self-check widened it (== result's
  // when calibrated); the self-check learns from it.
  double raw_probability = 1.0;
  bool corrected = false;  // the self-check is widening this feature's tail
};

using WindowScores = std::array<FeatureScore, kFeatureCount>;

class EntityBaseline {
 public:
  static constexpr const char* kTag = "entity_baseline";
  static constexpr std::uint32_t kVersion = 5;  // 2: external_client_flows; 3: intermittent volumes, self-checks; 4: upload hours; 5: external uploads

  explicit EntityBaseline(const BaselineConfig& config = {});

  WindowScores score(const FeatureVector& features, std::int64_t time_s, const BaselineConfig& config) const;
  // Absorbs the window; `scores` are those score() returned for it.
  void update(const FeatureVector& features, const WindowScores& scores, std::int64_t time_s,
              const BaselineConfig& config);

  // Fills in band edges that score() leaves open because they cost a search
  // (count features); call it only for findings that will be reported.
  void complete_bounds(FeatureScore& score, const BaselineConfig& config) const;

  // Adds a closed window's unsolicited sources to the entity's memory of them and
  // returns the repeated_source_flows feature value (call once per window, before score()).
  double track_sources(const WindowAccumulator& window, std::int64_t window_end, std::int64_t window_seconds,
                       const BaselineConfig& config) {
    return sources_.absorb(window.sources(), window_end, window_seconds, config.source_half_life);
  }
  // The same for the bytes sent to external destinations: returns the
  // external_upload_bytes feature value (call once per window, before score()).
  double track_uploads(const WindowAccumulator& window, std::int64_t window_end, std::int64_t window_seconds,
                       const BaselineConfig& config) {
    return uploads_.absorb(window.uploads(), window_end, window_seconds, config.upload_half_life);
  }

  std::uint32_t windows() const { return windows_; }
  // The run of evidence after this entity's last first contact on a new port (the
  // engine decides when it starts and what it adds; saved with the baseline).
  const detectors::SustainedEvidence& contact_run() const { return contact_run_; }
  detectors::SustainedEvidence& contact_run() { return contact_run_; }
  // The run of evidence after the entity began an upload to a new external peer.
  const detectors::SustainedEvidence& upload_run() const { return upload_run_; }
  detectors::SustainedEvidence& upload_run() { return upload_run_; }
  // The hours of the day at which this entity begins large external uploads (its
  // backups and scheduled jobs): an upload run does not start at a usual hour.
  detectors::DailyRecurrence& upload_hours() { return upload_hours_; }
  void save(std::ostream& out) const;
  std::string restore(std::istream& in, const BaselineConfig& config);
  std::uint64_t checksum() const;
  std::size_t memory_usage() const { return sizeof(*this); }

 private:
  // Magnitudes: volumes, and the counts a user or a job drives in bursts (a
  // browser opens fifty connections at once): heavy-tailed, often zero.
  static constexpr std::array<Feature, 8> kVolume{Feature::packets,        Feature::bytes_in,
                                                  Feature::bytes_out,      Feature::external_upload_bytes,
                                                  Feature::flows,          Feature::external_flows,
                                                  Feature::fanout_peers,   Feature::external_client_flows};
  static constexpr std::size_t kVolumeCount = 4;  // the first kVolumeCount are byte/packet volumes
  // Counts of many small independent events (peers that reach the entity, probed
  // ports, rejected attempts, one source's repeated connections): negative-binomial,
  // in which a few more are news.
  static constexpr std::array<Feature, 4> kCounts{Feature::distinct_peers, Feature::distinct_ports,
                                                  Feature::rejected_flows, Feature::repeated_source_flows};
  std::array<detectors::IntermittentDetector, 8> volume_;
  std::array<detectors::CountDetector, 4> counts_;
  std::array<detectors::TailSelfCheck, 4> count_checks_;
  RepeatedSources sources_;
  RepeatedSources uploads_;  // decayed bytes per external destination
  std::array<detectors::RarityDetector, 2> novelty_;  // new_peers, new_ports
  detectors::SustainedEvidence contact_run_;
  detectors::SustainedEvidence upload_run_;
  detectors::DailyRecurrence upload_hours_;
  std::uint32_t windows_ = 0;
};

}  // namespace flowlier::models
