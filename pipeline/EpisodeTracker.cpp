#include "pipeline/EpisodeTracker.hpp"

#include <algorithm>
#include <istream>
#include <optional>
#include <ostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/StateIo.hpp"
#include "pipeline/formats/Rfc3339.hpp"

namespace flowlier::pipeline {

namespace {
std::string episode_id(std::uint64_t incident, std::uint8_t group, std::int64_t window_start) {
  std::string text = fmt::format("{:016x}|{}|{}", incident, group, window_start);
  return fmt::format("{:016x}", detectors::fnv1a64(text));
}

// Events are persisted as their JSON; only the fields the resolve event reuses.
AnomalyEvent event_from_json(const std::string& text) {
  AnomalyEvent e;
  auto j = nlohmann::json::parse(text);
  e.id = j.value("id", "");
  e.episode = j.value("episode", "");
  e.entity_kind = j["entity"].value("kind", "");
  e.entity_id = j["entity"].value("id", "");
  if (j["entity"].contains("labels")) e.labels = j["entity"]["labels"].get<std::map<std::string, std::string>>();
  e.detector = j.value("detector", "");
  e.feature = j.value("feature", "");
  e.value = j.value("value", 0.0);
  e.expected = j.value("expected", 0.0);
  if (j.contains("bounds")) e.bounds = std::make_pair(j["bounds"][0].get<double>(), j["bounds"][1].get<double>());
  e.score = j.value("score", 0.0);
  e.severity = parse_severity(j.value("severity", "info")).value_or(Severity::info);
  e.category = j.value("category", "");
  e.explanation = j.value("explanation", "");
  for (const auto& c : j.value("contributors", nlohmann::json::array())) {
    e.contributors.push_back({c.value("key", ""), c.value("value", ""), c.value("share", 0.0), c.value("base", "")});
  }
  for (const auto& r : j.value("related", nlohmann::json::array())) {
    e.related.push_back({r.value("kind", ""), r.value("id", "")});
  }
  if (j.contains("rule")) {
    const auto& r = j["rule"];
    e.rule = RuleMark{r.value("name", ""), r.value("action", ""), r.value("reason", "")};
  }
  e.tail_probability = j.value("tail_probability", 1.0);
  e.windows = j.value("windows", 1u);
  e.time = formats::parse_rfc3339(j.value("time", "")).value_or(0) / 1'000'000'000;
  e.window_start = formats::parse_rfc3339(j["window"].value("start", "")).value_or(0) / 1'000'000'000;
  e.window_end = formats::parse_rfc3339(j["window"].value("end", "")).value_or(0) / 1'000'000'000;
  return e;
}

// The episode's start rides in its stored event as "episode_start", a key of the state
// only (published events do not carry it). Inside the JSON, not a new binary field, so
// the layout of states and journals is unchanged: an older binary ignores the key, and
// this one reads states written before it (opened_from_json).
constexpr const char* kStartKey = "episode_start";

std::string stored_event_json(const AnomalyEvent& announced, std::int64_t opened) {
  std::string json = announced.to_json();
  if (opened == 0 || json.empty() || json.back() != '}') return json;
  json.pop_back();
  return json + fmt::format(",\"{}\":{}}}", kStartKey, opened);
}

// The start saved with the episode; else, from a state written before it was saved:
// the first window of an episode that announced once (its announced event is the one
// that opened it), and 0 (unknown) when it announced again since.
std::int64_t opened_from_json(const std::string& text, const AnomalyEvent& announced, std::uint32_t events) {
  const auto j = nlohmann::json::parse(text);
  if (j.contains(kStartKey)) return j[kStartKey].get<std::int64_t>();
  return events == 1 ? announced.window_start : 0;
}
}  // namespace

// One episode's fields, as save() and take_changes() write them.
template <typename Key, typename Episode>
static void put_episode(detectors::StateWriter& w, const Key& key, const Episode& e) {
  w.put(key.first);
  w.put(key.second);
  w.put_string(e.id);
  w.put(e.events);
  w.put(e.windows);
  w.put(e.last_active_end);
  w.put(e.hold_until);
  w.put(e.max_sent);
  w.put(e.peak_score);
  w.put_string(stored_event_json(e.announced, e.opened));
}

// Reads what put_episode wrote; "" or why it could not.
template <typename Key, typename Episode>
static std::string get_episode(detectors::StateReader& r, Key& key, Episode& e) {
  std::uint64_t incident = 0;
  std::uint8_t group = 0;
  std::string json;
  r.get(incident);
  r.get(group);
  r.get_string(e.id, 64);
  r.get(e.events);
  r.get(e.windows);
  r.get(e.last_active_end);
  r.get(e.hold_until);
  r.get(e.max_sent);
  r.get(e.peak_score);
  r.get_string(json, 1 << 20);
  if (!r.ok()) return "truncated episode";
  try {
    e.announced = event_from_json(json);
    e.opened = opened_from_json(json, e.announced, e.events);
  } catch (const std::exception& error) {
    return fmt::format("episode state holds an unreadable event: {}", error.what());
  }
  key = Key{incident, group};
  return {};
}

EpisodeTracker::EpisodeTracker(EpisodeConfig config, std::int64_t window_seconds)
    : config_(config), window_seconds_(window_seconds) {}

void EpisodeTracker::observe(std::uint64_t incident, std::uint8_t group, const AnomalyEvent& finding,
                             std::vector<AnomalyEvent>& out, std::int64_t hold_until) {
  const Key k{incident, group};
  auto it = open_.find(k);
  if (it == open_.end()) {
    if (finding.score < config_.open_score) return;
    Episode e;
    e.id = episode_id(incident, group, finding.window_start);
    e.opened = finding.window_start;
    it = open_.emplace(k, std::move(e)).first;
  } else if (finding.score < config_.keep_score) {
    return;
  }
  Episode& e = it->second;
  ++e.windows;
  e.last_active_end = finding.window_end;
  e.hold_until = std::max(e.hold_until, hold_until);
  e.peak_score = std::max(e.peak_score, finding.score);
  if (e.events == 0 || finding.severity > e.max_sent) {
    AnomalyEvent event = finding;
    event.episode = e.id;
    event.windows = e.windows;
    event.status = EventStatus::firing;
    event.id = fmt::format("{}-{}", e.id, e.events++);
    e.max_sent = std::max(e.max_sent, finding.severity);
    e.announced = event;
    out.push_back(std::move(event));
    note_change(k);
  }
}

void EpisodeTracker::expire(std::int64_t close_point, std::vector<AnomalyEvent>& out) {
  const std::int64_t quiet = static_cast<std::int64_t>(config_.quiet_windows) * window_seconds_;
  for (auto it = open_.begin(); it != open_.end();) {
    Episode& e = it->second;
    const std::int64_t resolve_at = std::max(e.last_active_end + quiet, e.hold_until);
    if (resolve_at > close_point) {
      ++it;
      continue;
    }
    AnomalyEvent event = e.announced;
    event.status = EventStatus::resolved;
    event.windows = e.windows;
    event.id = fmt::format("{}-r", e.id);
    event.time = resolve_at;
    event.window_start = event.time - window_seconds_;
    event.window_end = event.time;
    event.score = e.peak_score;
    event.severity = e.max_sent;  // a resolve closes what was announced, at its level
    event.explanation = fmt::format("resolved: {} quiet windows after {} anomalous window(s); {}",
                                    config_.quiet_windows, e.windows, e.announced.explanation);
    out.push_back(std::move(event));
    note_change(it->first);
    it = open_.erase(it);
  }
}

void EpisodeTracker::save(std::ostream& out) const {
  detectors::StateWriter w;
  w.put<std::uint64_t>(open_.size());
  for (const auto& [key, e] : open_) put_episode(w, key, e);
  detectors::save_record(out, kTag, kVersion, w.bytes());
}

std::string EpisodeTracker::restore(std::istream& in) {
  std::string payload;
  if (auto error = detectors::load_record(in, kTag, kVersion, payload); !error.empty()) return error;
  detectors::StateReader r(payload);
  std::map<Key, Episode> next;
  std::uint64_t count = 0;
  r.get(count);
  for (std::uint64_t i = 0; i < count && r.ok(); ++i) {
    Key key;
    Episode e;
    if (auto error = get_episode(r, key, e); !error.empty()) {
      if (!r.ok()) break;
      return error;
    }
    next.emplace(std::move(key), std::move(e));
  }
  if (auto error = r.finish(); !error.empty()) return error;
  open_ = std::move(next);
  return {};
}

std::string EpisodeTracker::take_changes() {
  detectors::StateWriter w;
  std::vector<Key> keys;
  for (auto& key : changed_) {
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(std::move(key));
  }
  changed_.clear();
  w.put<std::uint64_t>(keys.size());
  for (const auto& key : keys) {
    const auto it = open_.find(key);
    w.put<std::uint8_t>(it != open_.end());
    if (it != open_.end()) {
      put_episode(w, key, it->second);
    } else {
      w.put(key.first);
      w.put(key.second);
    }
  }
  return w.take();
}

std::string EpisodeTracker::apply_changes(std::string_view bytes) {
  detectors::StateReader r(bytes);
  std::uint64_t count = 0;
  r.get(count);
  std::vector<std::pair<Key, std::optional<Episode>>> changes;
  for (std::uint64_t i = 0; i < count && r.ok(); ++i) {
    std::uint8_t open = 0;
    r.get(open);
    Key key;
    if (open) {
      Episode e;
      if (auto error = get_episode(r, key, e); !error.empty()) return error;
      changes.emplace_back(std::move(key), std::move(e));
    } else {
      std::uint64_t incident = 0;
      std::uint8_t group = 0;
      r.get(incident);
      r.get(group);
      changes.emplace_back(Key{incident, group}, std::nullopt);
    }
  }
  if (auto error = r.finish(); !error.empty()) return error;
  for (auto& [key, episode] : changes) {
    if (episode) {
      open_[key] = std::move(*episode);
    } else {
      open_.erase(key);
    }
  }
  return {};
}

}  // namespace flowlier::pipeline
