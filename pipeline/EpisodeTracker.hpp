#pragma once
// Turns per-window findings into episodes, so one incident is one firing event, a
// few updates when it gets worse, and one resolved event - not an event per window.
//
// Per (incident key, feature group): a finding with score >= open_score opens an episode
// (event "firing"); while open, findings >= keep_score keep it alive (hysteresis) and
// an update is emitted only when the severity rises; after quiet_windows windows
// without such a finding (an idle entity counts as quiet) it resolves.
// The incident key names what one page is about: a host (its interface and its
// address are one incident), or an entity of its own. The resolve event repeats the
// last firing event (feature, category, severity as announced), not a later finding.
// Deterministic: episodes are kept in key order; ids derive from incident, group and
// the opening window.
#include <cstdint>
#include <iosfwd>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pipeline/AnomalyEvent.hpp"

namespace flowlier::pipeline {

struct EpisodeConfig {
  double open_score = 50;
  double keep_score = 30;
  std::uint32_t quiet_windows = 5;
};

class EpisodeTracker {
 public:
  static constexpr const char* kTag = "episodes";
  static constexpr std::uint32_t kVersion = 3;  // 2: hold_until; 3: incident keys, announced event

  EpisodeTracker(EpisodeConfig config, std::int64_t window_seconds);

  // One finding: the group's strongest deviation in one closed window of one entity.
  // `hold_until` (event time) keeps the episode open at least that long even without
  // findings: a finding that recurs on its own schedule (a beacon's next check-in)
  // is not over after quiet_windows.
  void observe(std::uint64_t incident, std::uint8_t group, const AnomalyEvent& finding,
               std::vector<AnomalyEvent>& out, std::int64_t hold_until = 0);
  // Resolves episodes quiet since `close_point` - quiet_windows windows.
  void expire(std::int64_t close_point, std::vector<AnomalyEvent>& out);
  std::size_t open_count() const { return open_.size(); }
  bool is_open(std::uint64_t incident, std::uint8_t group) const { return open_.contains(Key{incident, group}); }

  // What the live API shows of an open episode: its last firing event and counters.
  struct OpenView {
    std::uint64_t incident = 0;
    const AnomalyEvent* announced = nullptr;
    std::uint32_t windows = 0;
    std::int64_t last_active_end = 0;
    std::int64_t opened = 0;  // its first window's start; 0 if unknown (restored from an older state)
  };
  std::vector<OpenView> open_views() const {
    std::vector<OpenView> out;
    for (const auto& [key, e] : open_) out.push_back({key.first, &e.announced, e.windows, e.last_active_end, e.opened});
    return out;
  }

  void save(std::ostream& out) const;
  std::string restore(std::istream& in);

  // Durable publication (service/EpisodeJournal): with recording on, every episode that
  // emits an event is remembered; take_changes() returns their states as they are now
  // (open with its counters, or gone), serialized, and forgets them. A restart applies
  // them over an older snapshot with apply_changes(), so episodes published after the
  // snapshot are neither orphaned nor re-opened under another id.
  void record_changes(bool on) { recording_ = on; }
  std::string take_changes();
  std::string apply_changes(std::string_view bytes);

 private:
  struct Episode {
    std::string id;
    std::uint32_t events = 0;
    std::uint32_t windows = 0;
    std::int64_t last_active_end = 0;
    std::int64_t hold_until = 0;
    Severity max_sent = Severity::info;
    double peak_score = 0;
    AnomalyEvent announced;  // the last firing event sent: the resolve event repeats it
    std::int64_t opened = 0;  // its first window's start (OpenView), saved in the stored event's JSON
  };
  using Key = std::pair<std::uint64_t, std::uint8_t>;  // incident, group

  void note_change(const Key& key) {
    if (recording_) changed_.push_back(key);
  }

  EpisodeConfig config_;
  std::int64_t window_seconds_;
  std::map<Key, Episode> open_;
  bool recording_ = false;
  std::vector<Key> changed_;  // since the last take_changes(), in emission order
};

}  // namespace flowlier::pipeline
