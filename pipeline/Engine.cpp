#include "pipeline/Engine.hpp"

#include <algorithm>
#include <cmath>
#include <istream>
#include <ostream>
#include <sstream>

#include <fmt/format.h>

#include "core/StateIo.hpp"
#include "pipeline/Explanation.hpp"
#include "pipeline/PeerGroupKey.hpp"
#include "pipeline/StateSettings.hpp"

namespace flowlier::pipeline {

namespace {
using models::Feature;

// Episodes are tracked per entity and detector family: one incident on one host is
// one episode whichever features it moves (a scan raises ports, rejects and flows at
// once); population findings, a different judgement, keep their own.
constexpr std::uint8_t kBaselineGroup = 0;
constexpr std::uint8_t kIsolationGroup = 1;
constexpr std::uint8_t kBeaconGroup = 2;
constexpr const char* kEngineTag = "engine";

// An event about one closed window of one entity; the caller fills in what was found.
AnomalyEvent event_for(const models::ClosedWindow& w) {
  AnomalyEvent e;
  e.time = w.end;
  e.window_start = w.start;
  e.window_end = w.end;
  e.entity_kind = std::string(models::to_string(w.key.kind));
  e.entity_id = std::string(w.key.id.view());
  return e;
}

// When two features of a group are equally improbable (both at the probability
// floor), report the one an operator reads most directly.
int preference(Feature f) {
  switch (f) {
    case Feature::bytes_out: return 0;
    case Feature::distinct_ports: return 0;
    case Feature::rejected_flows: return 0;
    case Feature::new_ports: return 0;
    case Feature::bytes_in: return 1;
    case Feature::distinct_peers: return 1;
    case Feature::fanout_peers: return 1;
    case Feature::new_peers: return 1;
    case Feature::flows: return 2;
    case Feature::external_flows: return 2;
    case Feature::external_client_flows: return 2;
    case Feature::repeated_source_flows: return 1;
    case Feature::external_upload_bytes: return 1;
    case Feature::packets: return 3;
  }
  return 4;
}

// Below this a novelty probability counts as evidence for the joint reading.
constexpr double kNoveltyEvidence = 0.05;

constexpr std::size_t kNewPeers = static_cast<std::size_t>(Feature::new_peers);
constexpr std::size_t kNewPorts = static_cast<std::size_t>(Feature::new_ports);
constexpr std::size_t kBytesOut = static_cast<std::size_t>(Feature::bytes_out);
constexpr std::size_t kBytesIn = static_cast<std::size_t>(Feature::bytes_in);
constexpr std::size_t kExternalClientFlows = static_cast<std::size_t>(Feature::external_client_flows);
}  // namespace

Engine::Engine(EngineConfig config)
    : config_(std::move(config)),
      router_(config_.router),
      windower_(config_.windows),
      episodes_(config_.episodes, config_.windows.window_seconds),
      watermark_(config_.windows.window_seconds, config_.windows.allowed_lateness_seconds) {
  windower_.set_evict_handler([this](std::uint32_t slot, const models::EntityKey&) { reset_slot(slot); });
  isolation_.resize(models::kEntityKindCount);
}

void Engine::reset_slot(std::uint32_t slot) {
  if (slot < baselines_.size()) baselines_[slot] = models::EntityBaseline(config_.baseline);
  if (slot < outliers_.size()) outliers_[slot] = models::TrailingOutlierBaseline(config_.outlier);
  if (slot < beacons_.size()) beacons_[slot] = detectors::BeaconDetector();
  if (slot < recent_.size()) recent_[slot] = models::RecentWindows();
  if (slot < peer_member_epoch_.size()) peer_member_epoch_[slot] = INT64_MIN;
}

Engine::~Engine() = default;

void Engine::ingest(const FlowRecord& record) {
  ++stats_.records;
  if (!record.is_traffic()) {
    ++stats_.status_records;
    return;
  }
  router_.route(record, scratch_);
  if (!scratch_.empty() &&
      WatermarkTracker::is_closed(scratch_.front().time_s, config_.windows.window_seconds, last_close_point_)) {
    ++late_records_;
  }
  for (const auto& o : scratch_) ingest(o);
}

void Engine::ingest(const models::Observation& o) {
  // Hashed once: shard ownership and the entity table both need it.
  const std::uint64_t key_hash = o.entity.hash();
  if (!owns_hash(o.entity.incident(key_hash))) {
    ++stats_.other_shard;
    return;
  }
  ++stats_.observations;
  bool new_peer = false;
  const std::uint32_t slot = windower_.ingest_slot(o, key_hash, new_peer);
  // Beaconing is timed per contact, not per window: every flow the entity starts to an
  // external peer (the detector ignores known peers unless they are candidates).
  if (slot != models::Windower::kNoSlot && o.external_peer && o.client && o.has_peer && !o.rejected && !o.continues &&
      config_.beacon.enabled && config_.model == BaselineModel::flowlier) {
    if (beacons_.size() <= slot) beacons_.resize(windower_.slot_capacity());
    beacons_[slot].observe({o.time_s, o.peer_hash, o.peer, o.service_port, o.local_port, o.protocol}, new_peer,
                           config_.beacon);
  }
}

void Engine::advance(std::int64_t close_point) {
  if (close_point <= last_close_point_) return;
  last_close_point_ = close_point;
  // Close points broadcast by a sharded intake: this engine never observes the whole
  // stream, so its watermark follows them (and a snapshot restores it).
  if (close_point > watermark_.close_point()) {
    watermark_.restore(std::max(watermark_.newest(), close_point + config_.windows.allowed_lateness_seconds),
                       close_point);
  }
  cross_peer_epoch(close_point);
  windower_.close_until(close_point, [this](const models::ClosedWindow& w) { on_window_closed(w); });
  settle_findings();
  episodes_.expire(close_point, step_);
  emit(step_);
}

void Engine::flush() {
  std::int64_t last_end = last_close_point_;
  windower_.flush([&](const models::ClosedWindow& w) {
    on_window_closed(w);
    last_end = std::max(last_end, w.end);
  });
  if (last_end > last_close_point_) last_close_point_ = last_end;
  settle_findings();
  episodes_.expire(last_close_point_, step_);
  emit(step_);
}

std::vector<AnomalyEvent> Engine::take_events() {
  std::vector<AnomalyEvent> out;
  out.swap(pending_);
  return out;
}

void Engine::emit(std::vector<AnomalyEvent>& events) {
  for (auto& e : events) {
    if (e.status == EventStatus::firing) ++stats_.events_firing;
    else ++stats_.events_resolved;
    ++stats_.events_by_severity[static_cast<int>(e.severity)];
    pending_.push_back(std::move(e));
  }
  events.clear();
}

void Engine::on_window_closed(const models::ClosedWindow& w) {
  if (baselines_.size() <= w.slot) baselines_.resize(windower_.slot_capacity(), models::EntityBaseline(config_.baseline));
  models::EntityBaseline& baseline = baselines_[w.slot];
  WindowEvidence ev;
  ev.x = features_of(w, baseline);
  ev.scores = score_window(w, ev.x, baseline);
  for (const auto& fs : ev.scores) stats_.self_corrections += fs.corrected ? 1 : 0;
  combine_evidence(w, baseline, ev);
  const auto [strongest, strongest_score] = strongest_finding(ev);
  const double keep = std::min(config_.episodes.keep_score, config_.episodes.open_score);
  if (strongest >= 0 && strongest_score >= keep) report_finding(w, baseline, ev, strongest, strongest_score);
  if (peers_on() && baseline.windows() < config_.peers.judge_until) judge_by_peers(w, baseline, ev);
  if (config_.isolation.enabled) score_isolation(w, baseline, ev, strongest);
  if (!outlier_model()) score_beacons(w, ev.scores);
  if (observer_) observer_(w, ev.x, ev.scores, baseline);
  remember_window(w, ev);  // the entity API's recent_windows (EngineView.cpp)
  absorb(w, baseline, ev);
}

models::FeatureVector Engine::features_of(const models::ClosedWindow& w, models::EntityBaseline& baseline) {
  models::FeatureVector x = w.accumulator.features();
  // The features that span windows: sources that keep coming back, and destinations
  // that keep receiving (low-and-slow uploads add up there).
  x[static_cast<std::size_t>(Feature::repeated_source_flows)] =
      baseline.track_sources(w.accumulator, w.end, config_.windows.window_seconds, config_.baseline);
  x[static_cast<std::size_t>(Feature::external_upload_bytes)] =
      baseline.track_uploads(w.accumulator, w.end, config_.windows.window_seconds, config_.baseline);
  return x;
}

models::WindowScores Engine::score_window(const models::ClosedWindow& w, const models::FeatureVector& x,
                                          const models::EntityBaseline& baseline) {
  if (!outlier_model()) return baseline.score(x, w.end, config_.baseline);
  if (outliers_.size() <= w.slot) {
    outliers_.resize(windower_.slot_capacity(), models::TrailingOutlierBaseline(config_.outlier));
  }
  return outliers_[w.slot].score(x, w.end);
}

void Engine::combine_evidence(const models::ClosedWindow& w, models::EntityBaseline& baseline,
                              WindowEvidence& ev) const {
  const auto& scores = ev.scores;
  for (std::size_t i = 0; i < models::kFeatureCount; ++i) {
    ev.p[i] = scores[i].result.tail_probability;
    ev.detector[i] = scores[i].detector;
  }
  // A new peer on a new port (the unusual-port / first-contact pattern) combines two
  // separate histories, peers and ports, that each say "never before".
  const auto& new_peers = scores[kNewPeers].result;
  const auto& new_ports = scores[kNewPorts].result;
  if (!new_peers.warming_up && !new_ports.warming_up && new_peers.tail_probability < kNoveltyEvidence &&
      new_ports.tail_probability < kNoveltyEvidence) {
    ev.p[kNewPorts] = std::min(ev.p[kNewPorts], new_peers.tail_probability * new_ports.tail_probability);
  }
  if (outlier_model()) return;

  // An upload to an external peer the entity never reached before: how much and to
  // whom are separate evidence (the volume baseline and the peer history), read
  // together as the analyst does.
  const auto& bytes_out = scores[kBytesOut].result;
  ev.new_upload = !bytes_out.warming_up && !new_peers.warming_up && uploads_to_external_peer(ev.x, w.accumulator, true);
  if (ev.new_upload) ev.p[kBytesOut] = std::min(ev.p[kBytesOut], bytes_out.tail_probability * new_peers.tail_probability);
  // Large uploads out of the estate: when they usually begin (a nightly backup's hour)
  // is asked before this window is counted, so an onset never vouches for itself.
  ev.large_upload = !bytes_out.warming_up && bytes_out.tail_probability < kNoveltyEvidence &&
                    uploads_to_external_peer(ev.x, w.accumulator, false);
  ev.usual_upload_hour = baseline.upload_hours().probability(w.end, config_.baseline.upload_hours);
  // Runs: an upload to a new external peer that keeps going adds each later window's
  // bytes_out evidence, a first contact on a new port its external client flows
  // (Fisher, corrected for the looks; detectors/SustainedEvidence). A heavy-tailed host
  // cannot page on one window of it; ten minutes of it can.
  auto sustain = [&](const detectors::SustainedEvidence& run, std::size_t feature) {
    if (!run.open() || scores[feature].result.warming_up) return;
    const double sustained = run.peek(scores[feature].result.tail_probability, config_.sustained);
    if (sustained < ev.p[feature]) {
      ev.p[feature] = sustained;
      ev.detector[feature] = "sustained";
    }
  };
  sustain(baseline.upload_run(), kBytesOut);
  sustain(baseline.contact_run(), kExternalClientFlows);
}

std::pair<int, double> Engine::strongest_finding(const WindowEvidence& ev) const {
  const auto& scores = ev.scores;
  // Compared on the capped score, so features that are all "certainly anomalous"
  // tie and the most readable one (bytes over packets) is reported.
  int strongest = -1;
  double strongest_score = -1;
  for (std::size_t i = 0; i < models::kFeatureCount; ++i) {
    if (scores[i].result.warming_up) continue;
    const double score = score_from_probability(ev.p[i], config_.scoring);
    if (score > strongest_score ||
        (score == strongest_score && preference(scores[i].feature) < preference(scores[strongest].feature))) {
      strongest = static_cast<int>(i);
      strongest_score = score;
    }
  }
  // Packets move with bytes: when a byte count is about as improbable, it is the
  // reading an operator expects (and it says the direction).
  if (strongest >= 0 && scores[strongest].feature == Feature::packets) {
    for (const std::size_t i : {kBytesOut, kBytesIn}) {
      if (!scores[i].result.warming_up && ev.p[i] <= 10 * ev.p[strongest]) {
        return {static_cast<int>(i), score_from_probability(ev.p[i], config_.scoring)};
      }
    }
  }
  return {strongest, strongest_score};
}

AnomalyEvent Engine::finding(const models::ClosedWindow& w, const models::EntityBaseline& baseline,
                             const WindowEvidence& ev, int feature_index, const char* detector, double probability,
                             double score) const {
  models::FeatureScore fs = ev.scores[feature_index];
  baseline.complete_bounds(fs, config_.baseline);
  AnomalyEvent e = event_for(w);
  e.detector = detector;
  e.feature = std::string(models::to_string(fs.feature));
  e.value = fs.result.value;
  e.expected = fs.result.expected;
  e.bounds = std::make_pair(fs.result.lower, fs.result.upper);
  e.tail_probability = probability;
  e.score = score;
  e.severity = severity_from_score(score, config_.scoring);
  e.contributors = contributors_for(fs.feature, w.accumulator);
  e.category = categorize(fs.feature, ev.x, ev.scores, w.accumulator, e.contributors);
  e.explanation = explain(e, e.contributors);
  return e;
}

void Engine::report_finding(const models::ClosedWindow& w, const models::EntityBaseline& baseline,
                            const WindowEvidence& ev, int strongest, double score) {
  const auto index = static_cast<std::size_t>(strongest);
  AnomalyEvent e = finding(w, baseline, ev, strongest, ev.detector[index], ev.p[index], score);
  if (ev.detector[index] != ev.scores[index].detector) {
    // A run's combined evidence: say so, and name what it was.
    if (index == kBytesOut) {
      e.category = "exfiltration";
      e.explanation = explain(e, e.contributors) +
                      fmt::format("; combined over {} windows since an upload to a new external peer began",
                                  baseline.upload_run().terms() + 1);
    } else {
      // A contact that began on a new port and kept going; when it carries a large
      // upload out of the estate, that is what it is.
      e.category = ev.large_upload ? "exfiltration" : "unusual-port";
      e.explanation = explain(e, e.contributors) +
                      fmt::format("; combined over {} windows since a first contact on a new port",
                                  baseline.contact_run().terms() + 1);
    }
  }
  defer(w, kBaselineGroup, std::move(e));
}

void Engine::score_isolation(const models::ClosedWindow& w, const models::EntityBaseline& baseline,
                             const WindowEvidence& ev, int strongest) {
  auto& trees = isolation_[static_cast<std::size_t>(w.key.kind)];
  if (!trees) trees = std::make_unique<detectors::HalfSpaceTrees>(config_.isolation.trees);
  Eigen::VectorXd v(static_cast<Eigen::Index>(models::kFeatureCount));
  for (std::size_t i = 0; i < models::kFeatureCount; ++i) v[static_cast<Eigen::Index>(i)] = std::log1p(ev.x[i]);
  const auto r = trees->score(v, w.end);
  trees->update(v, w.end);
  if (r.warming_up || strongest < 0) return;
  const double score = score_from_probability(r.tail_probability, config_.scoring);
  if (score >= config_.isolation.min_alert_score) {
    defer(w, kIsolationGroup, finding(w, baseline, ev, strongest, "isolation", r.tail_probability, score));
  }
}

void Engine::absorb(const models::ClosedWindow& w, models::EntityBaseline& baseline, const WindowEvidence& ev) {
  if (outlier_model()) {
    outliers_[w.slot].update(ev.x, w.end);
    return;
  }
  const auto& scores = ev.scores;
  const auto& new_peers = scores[kNewPeers].result;
  const auto& new_ports = scores[kNewPorts].result;
  const auto& bytes_out = scores[kBytesOut].result;
  auto& run = baseline.contact_run();
  if (run.open() && !scores[kExternalClientFlows].result.warming_up) {
    run.add(scores[kExternalClientFlows].result.tail_probability, config_.sustained);
  }
  // A port the entity never connected to before starts a new run (its own family of
  // looks), anchored on the port's novelty alone. The peer's novelty is no gate: a
  // host that meets new addresses all day (CDNs, SaaS) says little by meeting one
  // more, while a new port is news on most hosts; the run's later windows decide.
  if (!new_ports.warming_up && new_ports.tail_probability < kNoveltyEvidence) run.start({new_ports.tail_probability});
  auto& upload = baseline.upload_run();
  if (upload.open() && !bytes_out.warming_up) upload.add(bytes_out.tail_probability, config_.sustained);
  // Its anchor: "this much, and to a peer never reached before", the larger of the
  // two p-values (an entity that meets new peers all day anchors weakly). What makes
  // the run is the upload going on, window after window, to that new peer. An upload
  // at the hour this entity's scheduled uploads begin is its job, even to an address
  // it has not met lately (object stores answer from new ones nightly).
  if (ev.new_upload && bytes_out.tail_probability < kNoveltyEvidence && ev.usual_upload_hour < kNoveltyEvidence) {
    upload.start({std::max(bytes_out.tail_probability, new_peers.tail_probability)});
  }
  baseline.upload_hours().observe(w.end, ev.large_upload, config_.baseline.upload_hours);
  if (peers_on() && baseline.windows() >= config_.peers.contribute_after) add_to_peers(w, baseline, ev);
  baseline.update(ev.x, scores, w.end, config_.baseline);
}

void Engine::judge_by_peers(const models::ClosedWindow& w, const models::EntityBaseline& baseline,
                            const WindowEvidence& ev) {
  const auto group = peer_group_of(w.key);
  if (!group) return;
  const models::PeerReading r = peers_.judge(group->hash, ev.x, config_.peers);
  if (!r.judged) return;
  const double score = score_from_probability(r.tail_probability, config_.scoring);
  if (score < std::min(config_.episodes.keep_score, config_.episodes.open_score)) return;
  const Feature feature = models::kPeerFeatures[r.feature];
  AnomalyEvent e = event_for(w);
  e.detector = "peer_group";
  e.feature = std::string(models::to_string(feature));
  e.value = r.value;
  e.expected = r.expected;
  e.bounds = std::make_pair(0.0, r.upper);
  e.tail_probability = r.tail_probability;
  e.score = score;
  e.severity = severity_from_score(score, config_.scoring);
  e.contributors = contributors_for(feature, w.accumulator);
  // The category reads the window as the peers judged it: its own young baseline finds
  // little significant yet.
  models::WindowScores judged = ev.scores;
  for (std::size_t i = 0; i < models::kPeerFeatures.size(); ++i) {
    auto& result = judged[static_cast<std::size_t>(models::kPeerFeatures[i])].result;
    result.tail_probability = std::min(result.warming_up ? 1.0 : result.tail_probability, r.feature_probability[i]);
    result.warming_up = false;
  }
  e.category = categorize(feature, ev.x, judged, w.accumulator, e.contributors);
  e.explanation = explain(e, e.contributors) +
                  fmt::format("; unlike its peers: {} hosts in {} (its own baseline has {} windows)", r.members,
                              r.label, baseline.windows());
  defer(w, kBaselineGroup, std::move(e));
}

void Engine::add_to_peers(const models::ClosedWindow& w, const models::EntityBaseline&, const WindowEvidence& ev) {
  const auto group = peer_group_of(w.key);
  if (!group) return;
  if (peer_member_epoch_.size() <= w.slot) peer_member_epoch_.resize(windower_.slot_capacity(), INT64_MIN);
  const bool first = peer_member_epoch_[w.slot] != peer_epoch_;
  peer_member_epoch_[w.slot] = peer_epoch_;
  peers_.contribute(group->hash, ev.x, first);
  if (!peers_.labelled(group->hash)) peers_.label(group->hash, group->label());
}

void Engine::cross_peer_epoch(std::int64_t close_point) {
  if (!peers_on()) return;
  const std::int64_t epoch = config_.peers.epoch_of(close_point);
  if (peer_epoch_ == INT64_MIN) peer_epoch_ = epoch;
  if (epoch <= peer_epoch_) return;
  // Every engine of the process crosses the same epochs (they share the close points),
  // so each hands its tally and all absorb the same sum.
  models::PeerContribution tally = peers_.seal();
  if (peer_exchange_) tally = peer_exchange_->exchange(peer_epoch_, tally);
  peers_.absorb(peer_epoch_, tally, config_.peers);
  peer_epoch_ = epoch;
}

void Engine::score_beacons(const models::ClosedWindow& w, const models::WindowScores& scores) {
  if (w.slot >= beacons_.size()) return;
  auto& beacon = beacons_[w.slot];
  if (beacon.empty()) return;
  // The first contacts of this window become candidates only if the window's novelty
  // was itself improbable for this entity.
  const auto& novelty = scores[static_cast<std::size_t>(Feature::new_peers)].result;
  beacon.settle(w.start, w.end, !novelty.warming_up, novelty.tail_probability, config_.beacon);
  const detectors::BeaconFinding f = beacon.score(config_.beacon);
  if (!f.present) return;
  const double score = score_from_probability(f.tail_probability, config_.scoring);
  const Severity severity = severity_from_score(score, config_.scoring);
  // A beacon checks in for hours: one episode for as long as it keeps its schedule.
  // Each check-in holds the episode open until two periods later (updates only when
  // the severity rises); once it has resolved, only a higher severity opens a new one.
  const bool escalates = severity != Severity::info && static_cast<std::uint8_t>(severity) > f.reported;
  const bool continues = f.reported > 0 && score >= config_.episodes.keep_score &&
                         episodes_.is_open(w.key.incident(), kBeaconGroup);
  if (!escalates && !continues) return;
  if (escalates) beacon.mark_reported(f.candidate, static_cast<std::uint8_t>(severity));
  AnomalyEvent e = event_for(w);
  e.detector = "beacon";
  e.feature = "contact_interval_cv";
  e.value = f.cv;
  e.expected = 1.0;  // exponential intervals: contacts with no schedule
  e.tail_probability = f.tail_probability;
  e.score = score;
  e.severity = severity;
  e.category = "beaconing";
  e.contributors = beacon_contributors(f);
  e.explanation = explain_beacon(e, f);
  // Rounded up to a window end, so the resolve event lands on a window boundary too.
  const std::int64_t window = config_.windows.window_seconds;
  const std::int64_t next_due = f.last_contact + static_cast<std::int64_t>(std::ceil(2.0 * f.mean_interval));
  const std::int64_t hold = (next_due / window + (next_due % window > 0 ? 1 : 0)) * window;
  defer(w, kBeaconGroup, std::move(e), hold);
}

void Engine::defer(const models::ClosedWindow& w, std::uint8_t group, AnomalyEvent finding, std::int64_t hold_until) {
  deferred_.push_back({w.key.incident(), group, static_cast<std::uint8_t>(w.key.kind), hold_until,
                       std::move(finding)});
}

void Engine::settle_findings() {
  if (deferred_.empty()) return;
  // Window by window, one incident (host) and group at a time, strongest first; the
  // windower's close order already makes this deterministic, the sort makes it exact.
  std::stable_sort(deferred_.begin(), deferred_.end(), [](const DeferredFinding& a, const DeferredFinding& b) {
    if (a.event.window_end != b.event.window_end) return a.event.window_end < b.event.window_end;
    if (a.incident != b.incident) return a.incident < b.incident;
    if (a.group != b.group) return a.group < b.group;
    if (a.event.score != b.event.score) return a.event.score > b.event.score;
    return a.kind < b.kind;
  });
  for (std::size_t i = 0; i < deferred_.size();) {
    std::size_t j = i + 1;
    std::int64_t hold = deferred_[i].hold_until;
    AnomalyEvent& lead = deferred_[i].event;
    for (; j < deferred_.size() && deferred_[j].event.window_end == lead.window_end &&
           deferred_[j].incident == deferred_[i].incident && deferred_[j].group == deferred_[i].group;
         ++j) {
      const AnomalyEvent& other = deferred_[j].event;
      hold = std::max(hold, deferred_[j].hold_until);
      // The same entity's other finding (its own baseline's beside its peers') adds no one.
      if (other.entity_kind == lead.entity_kind && other.entity_id == lead.entity_id) continue;
      RelatedEntity related{other.entity_kind, other.entity_id};
      if (std::find(lead.related.begin(), lead.related.end(), related) == lead.related.end()) {
        lead.related.push_back(std::move(related));
      }
    }
    // Rules act where episodes open, on findings that would open or keep one (so their
    // counts mean something): a suppressed incident does not page or hold one open.
    const auto& ep = config_.episodes;
    const bool counts = lead.score >= (episodes_.is_open(deferred_[i].incident, deferred_[i].group) ? ep.keep_score
                                                                                                     : ep.open_score);
    if (!counts || !rules_ || rules_->apply(lead)) {
      episodes_.observe(deferred_[i].incident, deferred_[i].group, lead, step_, hold);
    }
    i = j;
  }
  deferred_.clear();
}

std::size_t Engine::memory_usage() const {
  std::size_t bytes = sizeof(*this) + windower_.memory_usage() + router_.memory_usage() +
                      baselines_.capacity() * sizeof(models::EntityBaseline) +
                      recent_.capacity() * sizeof(models::RecentWindows) +
                      (beacons_.capacity() - beacons_.size()) * sizeof(detectors::BeaconDetector);
  for (const auto& b : beacons_) bytes += b.memory_usage();
  bytes += peer_member_epoch_.capacity() * sizeof(std::int64_t);
  for (const auto& trees : isolation_) {
    if (trees) bytes += trees->memory_usage();
  }
  return bytes;
}

void Engine::save(std::ostream& out) const {
  detectors::StateWriter w;
  w.put(last_close_point_);
  w.put(watermark_.newest());
  w.put(watermark_.close_point());
  w.put(stats_);
  windower_.save(w);
  router_.save(w);
  std::ostringstream parts;
  std::uint64_t used = 0;
  for (std::size_t s = 0; s < baselines_.size(); ++s) used += s < windower_.slot_capacity() ? 1 : 0;
  w.put(used);
  for (std::size_t s = 0; s < used; ++s) baselines_[s].save(parts);
  episodes_.save(parts);
  for (const auto& trees : isolation_) {
    const bool present = trees != nullptr;
    parts.put(present ? 1 : 0);
    if (present) trees->save(parts);
  }
  // Beacon candidates: only the slots that hold some (most entities hold none).
  detectors::StateWriter bw;
  std::uint64_t tracked = 0;
  for (std::size_t s = 0; s < beacons_.size() && s < windower_.slot_capacity(); ++s) tracked += beacons_[s].empty() ? 0 : 1;
  bw.put(tracked);
  for (std::size_t s = 0; s < beacons_.size() && s < windower_.slot_capacity(); ++s) {
    if (beacons_[s].empty()) continue;
    std::ostringstream one;
    beacons_[s].save(one);
    bw.put(static_cast<std::uint32_t>(s));
    bw.put_string(one.str());
  }
  detectors::save_record(parts, "beacons", 1, bw.bytes());
  // Peer groups: the model, the open epoch's tally, and which slots it already counts.
  {
    detectors::StateWriter pw;
    pw.put(peer_epoch_);
    std::vector<std::int64_t> members(peer_member_epoch_.begin(),
                                      peer_member_epoch_.begin() +
                                          static_cast<std::ptrdiff_t>(std::min(peer_member_epoch_.size(),
                                                                               windower_.slot_capacity())));
    pw.put_vector(members);
    std::ostringstream model;
    peers_.save(model);
    pw.put_string(model.str());
    detectors::save_record(parts, "peers", 1, pw.bytes());
  }
  w.put_string(parts.str());
  save_state_settings(out, config_);  // checked first by restore(): see StateSettings.hpp
  detectors::save_record(out, kEngineTag, kStateVersion, w.bytes());
}

std::string Engine::restore(std::istream& in) {
  if (auto error = check_state_settings(in, config_); !error.empty()) return error;
  std::string payload;
  if (auto error = detectors::load_record(in, kEngineTag, kStateVersion, payload); !error.empty()) {
    return "engine state: " + error;
  }
  detectors::StateReader r(payload);
  auto next = std::make_unique<Engine>(config_);
  std::int64_t newest = 0, close_point = 0;
  r.get(next->last_close_point_);
  r.get(newest);
  r.get(close_point);
  r.get(next->stats_);
  if (auto error = next->windower_.load(r); !error.empty()) return "engine state (windows): " + error;
  if (auto error = next->router_.load(r); !error.empty()) return "engine state (router): " + error;
  std::uint64_t used = 0;
  std::string parts_text;
  r.get(used);
  r.get_string(parts_text, std::size_t{1} << 40);
  if (auto error = r.finish(); !error.empty()) return "engine state: " + error;
  if (used > next->windower_.slot_capacity()) return "engine state: more baselines than entity slots";
  std::istringstream parts(parts_text);
  next->baselines_.assign(used, models::EntityBaseline(config_.baseline));
  for (auto& b : next->baselines_) {
    if (auto error = b.restore(parts, config_.baseline); !error.empty()) return "engine state (baseline): " + error;
  }
  if (auto error = next->episodes_.restore(parts); !error.empty()) return "engine state (episodes): " + error;
  for (auto& trees : next->isolation_) {
    const int present = parts.get();
    if (present != 0 && present != 1) return "engine state (isolation): truncated";
    if (present == 1) {
      trees = std::make_unique<detectors::HalfSpaceTrees>(config_.isolation.trees);
      if (auto error = trees->restore(parts); !error.empty()) return "engine state (isolation): " + error;
    }
  }
  {
    std::string beacon_payload;
    if (auto error = detectors::load_record(parts, "beacons", 1, beacon_payload); !error.empty()) {
      return "engine state (beacons): " + error;
    }
    detectors::StateReader br(beacon_payload);
    std::uint64_t tracked = 0;
    br.get(tracked);
    if (br.ok() && tracked > next->windower_.slot_capacity()) return "engine state (beacons): more than entity slots";
    next->beacons_.resize(next->windower_.slot_capacity());
    for (std::uint64_t i = 0; i < tracked && br.ok(); ++i) {
      std::uint32_t slot = 0;
      std::string one;
      br.get(slot);
      br.get_string(one, 4096);
      if (!br.ok()) break;
      if (slot >= next->beacons_.size()) return "engine state (beacons): slot out of range";
      std::istringstream in_one(one);
      if (auto error = next->beacons_[slot].restore(in_one); !error.empty()) return "engine state (beacons): " + error;
    }
    if (auto error = br.finish(); !error.empty()) return "engine state (beacons): " + error;
  }
  {
    std::string peer_payload;
    if (auto error = detectors::load_record(parts, "peers", 1, peer_payload); !error.empty()) {
      return "engine state (peer groups): " + error;
    }
    detectors::StateReader pr(peer_payload);
    std::string model;
    pr.get(next->peer_epoch_);
    pr.get_vector(next->peer_member_epoch_, next->windower_.slot_capacity());
    pr.get_string(model, std::size_t{1} << 32);
    if (auto error = pr.finish(); !error.empty()) return "engine state (peer groups): " + error;
    std::istringstream model_in(model);
    if (auto error = next->peers_.restore(model_in); !error.empty()) return "engine state: " + error;
  }
  // Commit: move the restored parts into this engine (the evict handler stays bound to `this`).
  last_close_point_ = next->last_close_point_;
  watermark_.restore(newest, close_point);
  stats_ = next->stats_;
  auto handler = [this](std::uint32_t slot, const models::EntityKey&) { reset_slot(slot); };
  windower_ = std::move(next->windower_);
  windower_.set_evict_handler(handler);
  router_ = std::move(next->router_);
  baselines_ = std::move(next->baselines_);
  episodes_ = std::move(next->episodes_);
  isolation_ = std::move(next->isolation_);
  beacons_ = std::move(next->beacons_);
  recent_.clear();  // not in the state; its slots would name other entities
  peers_ = std::move(next->peers_);
  peer_epoch_ = next->peer_epoch_;
  peer_member_epoch_ = std::move(next->peer_member_epoch_);
  return {};
}

}  // namespace flowlier::pipeline
