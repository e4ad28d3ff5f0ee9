// Engine's views for the live entity API (declared in Engine.hpp): what an entity's
// baseline expects now, its last windows and which episodes are open. Kept apart from
// the scoring code; nothing here changes what detection decides.
#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

#include "pipeline/Engine.hpp"
#include "pipeline/PeerGroupKey.hpp"
#include "pipeline/formats/Rfc3339.hpp"

namespace flowlier::pipeline {

namespace {
std::string time_text(std::int64_t seconds) { return formats::format_rfc3339(seconds * 1'000'000'000); }
double finite(double v) { return std::isfinite(v) ? v : 0.0; }

nlohmann::ordered_json episode_json(const EpisodeTracker::OpenView& v) {
  const AnomalyEvent& e = *v.announced;
  nlohmann::ordered_json j = {{"episode", e.episode},
                              {"entity", {{"kind", e.entity_kind}, {"id", e.entity_id}}},
                              {"severity", to_string(e.severity)},
                              {"category", e.category},
                              {"detector", e.detector},
                              {"feature", e.feature},
                              {"start", v.opened != 0 ? nlohmann::ordered_json(time_text(v.opened)) : nullptr},
                              {"last_active", time_text(v.last_active_end)},
                              {"windows", v.windows}};
  if (!e.related.empty()) {
    auto& list = j["related"] = nlohmann::ordered_json::array();
    for (const auto& r : e.related) list.push_back({{"kind", r.kind}, {"id", r.id}});
  }
  if (e.rule) j["rule"] = e.rule->name;
  return j;
}

// The entity's last windows, oldest first: values and scores keyed by feature name
// (a score is null while the feature's baseline warms up).
nlohmann::ordered_json recent_json(const models::RecentWindows& recent) {
  auto list = nlohmann::ordered_json::array();
  for (std::size_t i = 0; i < recent.size(); ++i) {
    const models::RecentWindows::Window w = recent.at(i);
    nlohmann::ordered_json values = nlohmann::ordered_json::object(), scores = nlohmann::ordered_json::object();
    for (std::size_t f = 0; f < models::kFeatureCount; ++f) {
      const std::string name(models::to_string(static_cast<models::Feature>(f)));
      const double v = w.values[f];
      // Whole values print as integers (38, not 38.0).
      values[name] = v == std::floor(v) && v < 1e15 ? nlohmann::ordered_json(static_cast<std::int64_t>(v))
                                                    : nlohmann::ordered_json(v);
      scores[name] = w.scores[f] ? nlohmann::ordered_json(*w.scores[f]) : nullptr;
    }
    list.push_back({{"end", time_text(w.end)}, {"values", std::move(values)}, {"scores", std::move(scores)}});
  }
  return list;
}
}  // namespace

void Engine::remember_window(const models::ClosedWindow& w, const WindowEvidence& ev) {
  if (recent_.size() <= w.slot) recent_.resize(windower_.slot_capacity());
  // The scores detection ranked the window's features by (after combining evidence).
  std::array<double, models::kFeatureCount> scores{};
  for (std::size_t f = 0; f < models::kFeatureCount; ++f) {
    scores[f] = ev.scores[f].result.warming_up ? std::numeric_limits<double>::quiet_NaN()
                                               : score_from_probability(ev.p[f], config_.scoring);
  }
  recent_[w.slot].record(w.end, ev.x, scores);
}

std::string Engine::entity_view_json(std::string_view kind, std::string_view id) const {
  // A scan of the slots: an API call, not the hot path.
  for (std::uint32_t slot = 0; slot < windower_.slot_capacity(); ++slot) {
    const models::EntityKey& key = windower_.key_of(slot);
    if (key.id.view() != id || models::to_string(key.kind) != kind) continue;
    nlohmann::ordered_json j = {{"kind", kind}, {"id", id}, {"shard", config_.shard_index},
                                {"as_of", time_text(last_close_point_)}};
    auto& features = j["baseline"] = nlohmann::ordered_json::object();
    if (config_.model == BaselineModel::flowlier && slot < baselines_.size()) {
      const models::EntityBaseline& baseline = baselines_[slot];
      // Scoring an empty window yields what the baseline expects and its band now.
      models::FeatureVector none{};
      for (auto fs : baseline.score(none, last_close_point_, config_.baseline)) {
        baseline.complete_bounds(fs, config_.baseline);
        const auto& r = fs.result;
        features[std::string(models::to_string(fs.feature))] = {
            {"detector", fs.detector}, {"expected", finite(r.expected)}, {"lower", finite(r.lower)},
            {"upper", std::isfinite(r.upper) ? nlohmann::ordered_json(r.upper) : nullptr},
            {"warming_up", r.warming_up}};
      }
    }
    j["peer_group"] = peer_group_json(key, slot);
    j["recent_windows"] = slot < recent_.size() ? recent_json(recent_[slot]) : nlohmann::ordered_json::array();
    auto& open = j["open_episodes"] = nlohmann::ordered_json::array();
    const std::uint64_t incident = key.incident();
    for (const auto& v : episodes_.open_views()) {
      if (v.incident == incident) open.push_back(episode_json(v));
    }
    return j.dump();
  }
  return {};
}

nlohmann::ordered_json Engine::peer_group_json(const models::EntityKey& key, std::uint32_t slot) const {
  const auto group = peers_on() ? peer_group_of(key) : std::nullopt;
  if (!group) return nullptr;
  const models::PeerSummary s = peers_.summary(group->hash, config_.peers);
  const std::uint32_t own = slot < baselines_.size() ? baselines_[slot].windows() : 0;
  const bool enough = s.members >= static_cast<std::int64_t>(config_.peers.min_members) &&
                      s.windows >= static_cast<std::int64_t>(config_.peers.min_windows);
  nlohmann::ordered_json j = {{"group", s.known ? s.label : group->label()},
                              {"members", s.members},
                              {"windows", s.windows},
                              // Whether this entity's windows are judged by the group now.
                              {"judged_by_peers", enough && own < config_.peers.judge_until}};
  auto& features = j["features"] = nlohmann::ordered_json::object();
  if (s.known) {
    for (std::size_t i = 0; i < models::kPeerFeatures.size(); ++i) {
      features[std::string(models::to_string(models::kPeerFeatures[i]))] = {{"typical", finite(s.typical[i])},
                                                                            {"upper", finite(s.upper[i])}};
    }
  }
  return j;
}

std::vector<std::string> Engine::open_episodes_json() const {
  std::vector<std::string> out;
  for (const auto& v : episodes_.open_views()) out.push_back(episode_json(v).dump());
  return out;
}

}  // namespace flowlier::pipeline
