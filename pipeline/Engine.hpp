#pragma once
// The model part of flowlier as one object with no I/O: records in, anomaly events
// out, state saved and restored. `replay` drives it from files in one thread; `run`
// wraps the same object in ZeroMQ stages. Everything that must behave the same live
// and offline lives here.
//
//   engine.ingest(record)       route to entities, add to open windows
//   engine.advance(close_point) close windows ending at or before close_point, score,
//                               track episodes; events appended to take_events()
//   engine.save(out) / restore(in)
//
// Windows close only on advance(): the caller runs a WatermarkTracker over the
// record stream (replay: itself; sharded: the ingest stage broadcasts close points),
// so every shard closes exactly where a single engine would.
// Sharding: with shard_count > 1 the engine keeps only the entities whose incident
// hash (their host's, else their own: EntityKey::incident) falls in its shard,
// so an interface and its address always meet in one engine and make one episode.
// Not thread-safe.
#include <array>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "detectors/BeaconDetector.hpp"
#include "detectors/HalfSpaceTrees.hpp"
#include "models/EntityBaseline.hpp"
#include "models/RecentWindows.hpp"
#include "models/PeerGroups.hpp"
#include "models/TrailingOutlierBaseline.hpp"
#include "models/Windower.hpp"
#include "pipeline/AnomalyEvent.hpp"
#include "pipeline/EntityRouter.hpp"
#include "pipeline/EpisodeTracker.hpp"
#include "pipeline/FlowRecord.hpp"
#include "pipeline/PeerExchange.hpp"
#include "pipeline/RuleBook.hpp"
#include "pipeline/Scoring.hpp"
#include "pipeline/WatermarkTracker.hpp"

namespace flowlier::pipeline {

struct IsolationConfig {
  // Off by default: with the default min_alert_score it could only explain, and it
  // costs about a sixth of replay time. Turn it on with a min_alert_score <= 100 to
  // page on windows unlike the rest of the entity kind.
  bool enabled = false;
  detectors::HalfSpaceTreesConfig trees = default_trees();
  // Its tail probabilities are empirical (at best 1/calibration_size), so it alerts
  // only through this score floor; by default it explains rather than pages.
  double min_alert_score = 101;

  static detectors::HalfSpaceTreesConfig default_trees() {
    detectors::HalfSpaceTreesConfig c;
    c.dimension = models::kFeatureCount;
    c.trees = 25;
    c.depth = 10;
    c.window_size = 256;
    return c;
  }
};

// Which per-entity model scores windows: flowlier's own, or the trailing
// mean +- k sigma outlier rule users run today (for comparisons; see QUALITY.md).
enum class BaselineModel : std::uint8_t { flowlier, trailing_outlier };

struct EngineConfig {
  BaselineModel model = BaselineModel::flowlier;
  detectors::RollingZConfig outlier;  // the trailing_outlier model's window and threshold
  models::WindowerConfig windows;
  RouterConfig router;
  models::BaselineConfig baseline;
  ScoringConfig scoring;
  EpisodeConfig episodes;
  IsolationConfig isolation;
  // Periodic contacts with a new external peer (flowlier model only).
  detectors::BeaconConfig beacon;
  // Evidence combined over the windows after a first contact on a new port.
  detectors::SustainedConfig sustained;
  // Young addresses judged by their subnet's peers (flowlier model only).
  models::PeerConfig peers;
  std::uint32_t shard_index = 0;
  std::uint32_t shard_count = 1;
};

struct EngineStats {
  std::uint64_t records = 0;
  std::uint64_t status_records = 0;  // NODATA / SKIPDATA: no traffic to count
  std::uint64_t observations = 0;
  std::uint64_t other_shard = 0;  // observations for entities another shard owns
  std::uint64_t events_firing = 0;
  std::uint64_t events_resolved = 0;
  std::uint64_t events_by_severity[5] = {0, 0, 0, 0, 0};
  // Entity-feature windows scored while the baseline's self-check was widening its
  // tail (it had fired more often than its probabilities claimed).
  std::uint64_t self_corrections = 0;
};

class Engine {
 public:
  // 2: beacon candidates; 3: external_client_flows, port by role; 4: addresses keyed by host,
  // intermittent baselines, repeated sources; 6: peer groups
  static constexpr std::uint32_t kStateVersion = 6;

  explicit Engine(EngineConfig config);
  ~Engine();

  void ingest(const FlowRecord& record);
  // One observation routed elsewhere (IntakeRouter: shards in one process); ignored
  // unless this shard owns its entity.
  void ingest(const models::Observation& observation);
  void advance(std::int64_t close_point);
  // ingest() then advance() wherever the engine's own watermark crosses a window
  // boundary: what replay does, and what a sharded run reproduces with broadcast
  // close points.
  void process(const FlowRecord& record) {
    ingest(record);
    if (auto close_point = watermark_.observe(record)) advance(*close_point);
  }
  // End of input: closes every open window and resolves episodes whose quiet
  // period has passed by then.
  void flush();

  std::vector<AnomalyEvent> take_events();

  // Durable publication (the live service's episode journal): see
  // EpisodeTracker::take_changes. Off unless turned on.
  void record_episode_changes(bool on) { episodes_.record_changes(on); }
  std::string take_episode_changes() { return episodes_.take_changes(); }
  std::string apply_episode_changes(std::string_view bytes) { return episodes_.apply_changes(bytes); }

  // Called for every closed entity-window with its features, scores and the
  // baseline that scored them, before the baseline absorbs it (for traces and plots;
  // keep it cheap: count bands are open until baseline.complete_bounds()).
  using WindowObserver = std::function<void(const models::ClosedWindow&, const models::FeatureVector&,
                                            const models::WindowScores&, const models::EntityBaseline&)>;
  void set_window_observer(WindowObserver observer) { observer_ = std::move(observer); }

  // Operator rules, applied to each incident's finding before it reaches the episode
  // tracker: a suppressed finding neither opens nor keeps an episode. Shared by the
  // engines of a process (the book is thread-safe); null: no rules.
  void set_rules(std::shared_ptr<RuleBook> rules) { rules_ = std::move(rules); }

  // The engines of one process share peer-group tallies through this (one party per
  // engine, set before the first record); without one an engine's groups are its own
  // entities' (one engine alone; a --role scorer; a Kafka partition).
  void set_peer_exchange(std::shared_ptr<PeerExchange> exchange) { peer_exchange_ = std::move(exchange); }
  const models::PeerGroups& peer_groups() const { return peers_; }

  void save(std::ostream& out) const;
  // Restores a state written by save() with a compatible config. On failure returns
  // why and leaves the engine unchanged.
  std::string restore(std::istream& in);

  const EngineStats& stats() const { return stats_; }
  // Records whose window had closed when they came, in this process's life (not in the
  // state: EngineStats is saved as it is). WindowerStats::late counts observations.
  std::uint64_t late_records() const { return late_records_; }
  const models::WindowerStats& window_stats() const { return windower_.stats(); }
  std::size_t entity_count() const { return windower_.entity_count(); }
  std::size_t memory_usage() const;
  const EngineConfig& config() const { return config_; }

  // Read-only views for the live entity API (pipeline/EngineView.cpp), as JSON objects.
  // Not thread-safe like the rest: `run` calls them on the engine's own thread.
  // The entity's baseline per feature (expected, band, warm-up) as of the last close
  // point, its last windows' values and scores (since the process started: not in the
  // state) and its incident's open episodes; "" when this engine does not hold it.
  std::string entity_view_json(std::string_view kind, std::string_view id) const;
  std::vector<std::string> open_episodes_json() const;
  // The engine's own watermark (restored with the state): the live service's idle
  // timeout reads it to move event time on while no records arrive.
  const WatermarkTracker& watermark() const { return watermark_; }
  std::int64_t last_close_point() const { return last_close_point_; }

 private:
  // The entity view's "peer_group" (EngineView.cpp): null when the entity has none.
  nlohmann::ordered_json peer_group_json(const models::EntityKey& key, std::uint32_t slot) const;
  bool owns_hash(std::uint64_t key_hash) const {
    return config_.shard_count <= 1 || key_hash % config_.shard_count == config_.shard_index;
  }
  // One closed entity-window, one function per concern: its features, their scores,
  // the readings that combine several histories, the strongest finding, isolation,
  // beacons, and what the entity's models absorb.
  struct WindowEvidence {
    models::FeatureVector x{};
    models::WindowScores scores{};
    std::array<double, models::kFeatureCount> p{};        // after combining
    std::array<const char*, models::kFeatureCount> detector{};  // "sustained" where a run won
    bool new_upload = false;     // most bytes out went to a new external peer
    bool large_upload = false;   // an improbable upload out of the estate
    double usual_upload_hour = 1.0;  // DailyRecurrence: how usual an upload onset is now
  };
  void on_window_closed(const models::ClosedWindow& window);
  bool outlier_model() const { return config_.model == BaselineModel::trailing_outlier; }
  models::FeatureVector features_of(const models::ClosedWindow& window, models::EntityBaseline& baseline);
  models::WindowScores score_window(const models::ClosedWindow& window, const models::FeatureVector& x,
                                    const models::EntityBaseline& baseline);
  void combine_evidence(const models::ClosedWindow& window, models::EntityBaseline& baseline,
                        WindowEvidence& evidence) const;
  std::pair<int, double> strongest_finding(const WindowEvidence& evidence) const;
  AnomalyEvent finding(const models::ClosedWindow& window, const models::EntityBaseline& baseline,
                       const WindowEvidence& evidence, int feature_index, const char* detector, double probability,
                       double score) const;
  void report_finding(const models::ClosedWindow& window, const models::EntityBaseline& baseline,
                      const WindowEvidence& evidence, int strongest, double score);
  void score_isolation(const models::ClosedWindow& window, const models::EntityBaseline& baseline,
                       const WindowEvidence& evidence, int strongest);
  void absorb(const models::ClosedWindow& window, models::EntityBaseline& baseline, const WindowEvidence& evidence);
  // Keeps the window's values and scores for the entity API (EngineView.cpp); reads only.
  void remember_window(const models::ClosedWindow& window, const WindowEvidence& evidence);
  // Peer groups: a young address judged by its subnet, a grown one adding to it, and the
  // tallies exchanged (or taken alone) when a close point begins a new epoch.
  bool peers_on() const { return config_.peers.enabled && !outlier_model(); }
  void judge_by_peers(const models::ClosedWindow& window, const models::EntityBaseline& baseline,
                      const WindowEvidence& evidence);
  void add_to_peers(const models::ClosedWindow& window, const models::EntityBaseline& baseline,
                    const WindowEvidence& evidence);
  void cross_peer_epoch(std::int64_t close_point);
  // A finding waits until every window of its close point has been scored, so the
  // findings of one host's entities in one window become one incident (settle_findings).
  void defer(const models::ClosedWindow& window, std::uint8_t group, AnomalyEvent finding, std::int64_t hold_until = 0);
  void settle_findings();

  void score_beacons(const models::ClosedWindow& window, const models::WindowScores& scores);
  void reset_slot(std::uint32_t slot);
  void emit(std::vector<AnomalyEvent>& events);

  EngineConfig config_;
  EntityRouter router_;
  models::Windower windower_;
  std::vector<models::EntityBaseline> baselines_;  // by windower slot
  std::vector<models::TrailingOutlierBaseline> outliers_;  // by slot, trailing_outlier model only
  std::vector<std::unique_ptr<detectors::HalfSpaceTrees>> isolation_;  // by entity kind
  std::vector<detectors::BeaconDetector> beacons_;  // by windower slot (one pointer while empty)
  std::vector<models::RecentWindows> recent_;  // by windower slot, for the entity API
  models::PeerGroups peers_;
  std::shared_ptr<PeerExchange> peer_exchange_;
  std::int64_t peer_epoch_ = INT64_MIN;            // the epoch whose tally is open
  std::vector<std::int64_t> peer_member_epoch_;   // by slot: the last epoch it was counted a member
  struct DeferredFinding {
    std::uint64_t incident;
    std::uint8_t group;
    std::uint8_t kind;  // entity kind: the interface leads on ties
    std::int64_t hold_until;
    AnomalyEvent event;
  };
  std::vector<DeferredFinding> deferred_;
  EpisodeTracker episodes_;
  WatermarkTracker watermark_;
  std::vector<models::Observation> scratch_;
  std::vector<AnomalyEvent> pending_;
  std::vector<AnomalyEvent> step_;
  std::int64_t last_close_point_ = INT64_MIN / 2;
  EngineStats stats_;
  std::uint64_t late_records_ = 0;
  WindowObserver observer_;
  std::shared_ptr<RuleBook> rules_;
};

}  // namespace flowlier::pipeline
