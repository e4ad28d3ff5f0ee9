#include "lab/Evaluator.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "core/TimeMath.hpp"
#include "lab/TimeText.hpp"

namespace flowlier::lab {

namespace {

constexpr const char* severities[] = {"info", "low", "medium", "high", "critical"};

int severity_rank(const std::string& name) {
  for (int i = 0; i < 5; ++i) {
    if (name == severities[i]) return i;
  }
  return -1;
}

struct Event {
  std::int64_t time = 0;
  std::int64_t window_start = 0;
  std::int64_t window_end = 0;
  std::string entity;
  std::string kind;
  bool firing = false;
  int severity = -1;  // index into severities; -1 when absent or unknown
  std::string detector;
  std::string feature;
  std::string category;
  std::vector<std::string> contributors;  // their values (peers, ports)
};

std::string optional_string(const nlohmann::json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Returns an empty reason when the line is a usable event.
std::string parse_event(const std::string& line, Event& event) {
  const auto j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded()) return "not valid JSON";
  if (!j.is_object()) return "not a JSON object";
  const auto status = j.find("status");
  if (status == j.end() || !status->is_string()) return "status: missing or not a string";
  const auto& s = status->get_ref<const std::string&>();
  if (s != "firing" && s != "resolved") return "status: expected firing or resolved, got " + s;
  const auto time = j.find("time");
  if (time == j.end() || !time->is_string()) return "time: missing or not a string";
  const auto t = parse_rfc3339(time->get_ref<const std::string&>());
  if (!t) return "time: not an RFC 3339 time";
  const auto entity = j.find("entity");
  if (entity == j.end() || !entity->is_object()) return "entity: missing or not an object";
  const auto kind = entity->find("kind");
  if (kind == entity->end() || !kind->is_string()) return "entity.kind: missing or not a string";
  const auto id = entity->find("id");
  if (id == entity->end() || !id->is_string() || id->get_ref<const std::string&>().empty()) {
    return "entity.id: missing, empty or not a string";
  }
  const auto episode = j.find("episode");
  if (episode == j.end() || !episode->is_string()) return "episode: missing or not a string";
  event.time = *t;
  event.window_start = *t;
  event.window_end = *t;
  if (const auto w = j.find("window"); w != j.end() && w->is_object()) {
    const auto ws = parse_rfc3339(optional_string(*w, "start"));
    const auto we = parse_rfc3339(optional_string(*w, "end"));
    if (!ws || !we || *we < *ws) return "window: start/end missing, not RFC 3339 or end before start";
    event.window_start = *ws;
    event.window_end = *we;
  }
  event.entity = id->get<std::string>();
  event.kind = kind->get<std::string>();
  event.firing = s == "firing";
  event.severity = severity_rank(optional_string(j, "severity"));
  event.detector = optional_string(j, "detector");
  event.feature = optional_string(j, "feature");
  event.category = optional_string(j, "category");
  if (const auto c = j.find("contributors"); c != j.end() && c->is_array()) {
    for (const auto& item : *c) {
      if (item.is_object()) event.contributors.push_back(optional_string(item, "value"));
    }
  }
  return {};
}

std::string duration_text(std::int64_t seconds) {
  const char* sign = seconds < 0 ? "-" : "";
  seconds = seconds < 0 ? -seconds : seconds;
  if (seconds >= 3600) return fmt::format("{}{}h{:02}m{:02}s", sign, seconds / 3600, seconds / 60 % 60, seconds % 60);
  return fmt::format("{}{}m{:02}s", sign, seconds / 60, seconds % 60);
}

// What an entity id is in the estate: its host's role and zoo members.
struct Attribution {
  std::string role;
  std::vector<std::string> zoo;
};

class EstateIndex {
 public:
  explicit EstateIndex(const Labels& labels) {
    for (const auto& h : labels.estate) {
      by_id_[h.interface] = &h;
      by_id_[h.address] = &h;
      if (!h.pods.empty()) pods_[h.pods.substr(0, h.pods.rfind('.') + 1)] = &h;  // "10.0.32."
    }
    for (const auto& c : labels.benign_changes) {
      for (const auto& e : c.entities) changes_[e.id].push_back("change:" + c.type);
    }
  }

  Attribution of(const Event& ev) const {
    Attribution a;
    const EstateHost* host = nullptr;
    if (const auto it = by_id_.find(ev.entity); it != by_id_.end()) host = it->second;
    if (!host) {
      for (const auto& [prefix, h] : pods_) {
        if (ev.entity.rfind(prefix, 0) == 0) host = h;
      }
    }
    if (host) {
      a.role = host->role;
      a.zoo = host->zoo;
    } else {
      a.role = "kind:" + ev.kind;
    }
    if (const auto it = changes_.find(ev.entity); it != changes_.end()) {
      a.zoo.insert(a.zoo.end(), it->second.begin(), it->second.end());
    }
    return a;
  }

 private:
  std::map<std::string, const EstateHost*> by_id_;
  std::map<std::string, const EstateHost*> pods_;
  std::map<std::string, std::vector<std::string>> changes_;
};

// One alert episode: (entity, bucket). The first event says what fired.
struct Episode {
  bool matched = false;
  int severity = -1;
  Event first;
};

}  // namespace

EvalOptions options_for(LabelsFormat format) {
  EvalOptions o;
  o.format = format;
  if (format == LabelsFormat::real_capture) {
    o.lead_minutes = 2;
    o.grace_minutes = 10;
    o.match_window = true;
    o.match_contributors = true;
  }
  return o;
}

EvalReport evaluate(const Labels& labels, std::istream& events, const EvalOptions& options) {
  EvalReport report;
  report.options = options;
  report.labels_format = options.format;
  const std::int64_t bucket = std::max<std::int64_t>(options.bucket_minutes, 1) * 60;
  const std::int64_t grace = std::max<std::int64_t>(options.grace_minutes, 0) * 60;
  const std::int64_t lead = std::max<std::int64_t>(options.lead_minutes, 0) * 60;
  const int paging_rank = std::max(severity_rank(options.paging_severity), 0);
  const EstateIndex estate(labels);

  std::vector<std::set<std::string>> keys;
  for (const auto& inc : labels.incidents) {
    IncidentResult r;
    r.id = inc.id;
    r.type = inc.type;
    r.start = inc.start;
    r.end = inc.end;
    report.incidents.push_back(std::move(r));
    std::set<std::string> k;
    for (const auto& e : inc.entities) k.insert(e.id);
    for (const auto& a : inc.actors) k.insert(a);
    keys.push_back(std::move(k));
  }

  auto names_incident = [&](const Event& ev, const std::set<std::string>& k) {
    if (k.contains(ev.entity)) return true;
    if (!options.match_contributors) return false;
    return std::any_of(ev.contributors.begin(), ev.contributors.end(),
                       [&](const std::string& c) { return k.contains(c); });
  };
  auto in_time = [&](const Event& ev, const IncidentResult& r) {
    if (options.match_window) return ev.window_start <= r.end + grace && ev.window_end >= r.start - lead;
    return ev.time >= r.start - lead && ev.time <= r.end + grace;
  };

  std::map<std::pair<std::string, std::int64_t>, Episode> episodes;
  std::set<std::pair<std::string, std::int64_t>> warmup;
  std::set<std::pair<std::string, std::int64_t>> outside;
  std::string line;
  std::size_t number = 0;
  while (std::getline(events, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) {
      ++report.blank_lines;
      continue;
    }
    Event ev;
    const std::string reason = parse_event(line, ev);
    if (!reason.empty()) {
      ++report.malformed_count;
      if (report.malformed.size() < 100) report.malformed.push_back({number, reason});
      continue;
    }
    if (!ev.firing) {
      ++report.other_events;
      continue;
    }
    ++report.firing_events;
    bool matched = false;
    std::set<std::string> matched_types;
    for (std::size_t i = 0; i < keys.size(); ++i) {
      auto& r = report.incidents[i];
      if (!in_time(ev, r) || !names_incident(ev, keys[i])) continue;
      matched = true;
      matched_types.insert(r.type);
      const std::int64_t ttd = ev.time - r.start;
      if (!r.detected || ttd < r.time_to_detect) {
        r.time_to_detect = ttd;
        r.first_category = ev.category.empty() ? "-" : ev.category;
      }
      r.detected = true;
      r.paged = r.paged || ev.severity >= paging_rank;
      ++r.matching_events;
    }
    for (const auto& type : matched_types) ++report.confusion[type][ev.category.empty() ? "-" : ev.category];
    auto key = std::make_pair(ev.entity, core::floor_div(ev.time, bucket));
    if (ev.time < labels.warmup_end) {
      warmup.insert(std::move(key));
    } else if (ev.time > labels.end + grace) {
      outside.insert(std::move(key));
    } else {
      auto [it, inserted] = episodes.try_emplace(std::move(key));
      Episode& e = it->second;
      if (inserted) e.first = ev;
      e.matched = e.matched || matched;
      e.severity = std::max(e.severity, ev.severity);
    }
  }
  report.lines = number;

  std::map<std::string, TypeRecall> by_type;
  for (const auto& r : report.incidents) {
    auto& t = by_type[r.type];
    t.type = r.type;
    ++t.incidents;
    if (r.detected) {
      ++t.detected;
      ++report.detected;
    }
    if (r.paged) ++report.paged;
  }
  for (auto& [name, t] : by_type) report.by_type.push_back(t);
  report.recall = report.incidents.empty()
                      ? 0.0
                      : static_cast<double>(report.detected) / static_cast<double>(report.incidents.size());

  std::map<std::tuple<std::string, std::string, std::string>, FalseSource> sources;
  report.alert_episodes = episodes.size();
  for (const auto& [key, e] : episodes) {
    const bool paging = e.severity >= paging_rank;
    if (paging) ++report.paging_episodes;
    if (e.matched) {
      ++report.matching_episodes;
      if (paging) ++report.paging_matching_episodes;
      continue;
    }
    const Attribution a = estate.of(e.first);
    auto& s = sources[{a.role, e.first.detector, e.first.feature}];
    s.role = a.role;
    s.detector = e.first.detector;
    s.feature = e.first.feature;
    ++s.episodes;
    if (paging) ++s.paging;
    for (const auto& member : a.zoo) {
      ++report.false_by_zoo[member];
      if (paging) ++report.paging_false_by_zoo[member];
    }
  }
  for (auto& [key, s] : sources) report.false_sources.push_back(std::move(s));
  std::stable_sort(report.false_sources.begin(), report.false_sources.end(),
                   [](const FalseSource& a, const FalseSource& b) {
                     return std::tie(b.paging, b.episodes) < std::tie(a.paging, a.episodes);
                   });
  report.false_episodes = report.alert_episodes - report.matching_episodes;
  report.paging_false_episodes = report.paging_episodes - report.paging_matching_episodes;
  if (report.alert_episodes > 0) {
    report.precision = static_cast<double>(report.matching_episodes) / static_cast<double>(report.alert_episodes);
  }
  if (report.paging_episodes > 0) {
    report.paging_precision =
        static_cast<double>(report.paging_matching_episodes) / static_cast<double>(report.paging_episodes);
  }
  report.warmup_episodes = warmup.size();
  report.outside_episodes = outside.size();
  report.evaluated_days = static_cast<double>(std::max<std::int64_t>(labels.end - labels.warmup_end, 0)) / 86400.0;
  if (report.evaluated_days > 0) {
    report.false_episodes_per_day = static_cast<double>(report.false_episodes) / report.evaluated_days;
    report.paging_false_episodes_per_day = static_cast<double>(report.paging_false_episodes) / report.evaluated_days;
  }
  return report;
}

std::string format_report(const EvalReport& r) {
  std::string out;
  auto add = [&out](const std::string& s) { out += s; };
  std::size_t type_width = 13;
  for (const auto& i : r.incidents) type_width = std::max(type_width, i.type.size());
  add(fmt::format("{:<8} {:<{}} {:<21} {:<9} {:>10} {:>7}  {}\n", "incident", "type", type_width, "start", "detected",
                  "ttd", "events", "first category"));
  for (const auto& i : r.incidents) {
    add(fmt::format("{:<8} {:<{}} {:<21} {:<9} {:>10} {:>7}  {}\n", i.id, i.type, type_width, format_rfc3339(i.start),
                    i.detected ? (i.paged ? "paged" : "yes") : "no", i.detected ? duration_text(i.time_to_detect) : "-",
                    i.matching_events, i.first_category));
  }
  add(fmt::format("\nrecall {}/{} = {:.3f} ({} by a paging event)\n", r.detected, r.incidents.size(), r.recall,
                  r.paged));
  for (const auto& t : r.by_type) {
    add(fmt::format("  {:<13} {}/{}\n", t.type, t.detected, t.incidents));
  }
  add(fmt::format("\nalert episodes (entity, {}-min bucket) after warm-up: {} ({} matching, {} false)\n",
                  r.options.bucket_minutes, r.alert_episodes, r.matching_episodes, r.false_episodes));
  add(r.precision ? fmt::format("precision {:.3f}\n", *r.precision)
                  : std::string("precision n/a (no alert episodes)\n"));
  add(fmt::format("false alert episodes per day {:.2f} (over {:.2f} evaluated days)\n", r.false_episodes_per_day,
                  r.evaluated_days));
  add(fmt::format("paging (severity >= {}): {} episodes, {} false, {:.2f} false per day\n", r.options.paging_severity,
                  r.paging_episodes, r.paging_false_episodes, r.paging_false_episodes_per_day));
  add(fmt::format("excluded episodes: {} in warm-up, {} after the labelled span\n", r.warmup_episodes,
                  r.outside_episodes));
  if (!r.false_sources.empty()) {
    add("false episodes by role, detector, feature (paging / all):\n");
    for (std::size_t i = 0; i < r.false_sources.size() && i < 10; ++i) {
      const auto& s = r.false_sources[i];
      add(fmt::format("  {:<14} {:<10} {:<22} {:>5} / {}\n", s.role, s.detector, s.feature, s.paging, s.episodes));
    }
  }
  add(fmt::format("event lines {}: {} firing, {} other status, {} blank, {} malformed\n", r.lines, r.firing_events,
                  r.other_events, r.blank_lines, r.malformed_count));
  for (const auto& m : r.malformed) add(fmt::format("  malformed line {}: {}\n", m.line, m.reason));
  if (r.malformed_count > r.malformed.size()) {
    add(fmt::format("  ... and {} more malformed lines\n", r.malformed_count - r.malformed.size()));
  }
  return out;
}

std::string report_to_json(const EvalReport& r) {
  using ordered = nlohmann::ordered_json;
  ordered j;
  j["schema"] = "flowlier.eval.v1";
  j["labels_format"] = to_string(r.labels_format);
  j["bucket_minutes"] = r.options.bucket_minutes;
  j["grace_minutes"] = r.options.grace_minutes;
  j["lead_minutes"] = r.options.lead_minutes;
  j["paging_severity"] = r.options.paging_severity;
  ordered incidents = ordered::array();
  for (const auto& i : r.incidents) {
    ordered o;
    o["id"] = i.id;
    o["type"] = i.type;
    o["start"] = format_rfc3339(i.start);
    o["end"] = format_rfc3339(i.end);
    o["detected"] = i.detected;
    o["paged"] = i.paged;
    o["time_to_detect_seconds"] = i.detected ? ordered(i.time_to_detect) : ordered(nullptr);
    o["matching_events"] = i.matching_events;
    o["first_category"] = i.detected ? ordered(i.first_category) : ordered(nullptr);
    incidents.push_back(std::move(o));
  }
  j["incidents"] = std::move(incidents);
  j["detected"] = r.detected;
  j["recall"] = r.recall;
  j["paged"] = r.paged;
  ordered by_type = ordered::object();
  for (const auto& t : r.by_type) {
    by_type[t.type] = ordered{{"incidents", t.incidents},
                              {"detected", t.detected},
                              {"recall", static_cast<double>(t.detected) / static_cast<double>(t.incidents)}};
  }
  j["recall_by_type"] = std::move(by_type);
  j["alert_episodes"] = r.alert_episodes;
  j["matching_episodes"] = r.matching_episodes;
  j["false_episodes"] = r.false_episodes;
  j["precision"] = r.precision ? ordered(*r.precision) : ordered(nullptr);
  j["evaluated_days"] = r.evaluated_days;
  j["false_episodes_per_day"] = r.false_episodes_per_day;
  j["paging"] = ordered{{"alert_episodes", r.paging_episodes},
                        {"matching_episodes", r.paging_matching_episodes},
                        {"false_episodes", r.paging_false_episodes},
                        {"precision", r.paging_precision ? ordered(*r.paging_precision) : ordered(nullptr)},
                        {"false_episodes_per_day", r.paging_false_episodes_per_day}};
  j["warmup_episodes"] = r.warmup_episodes;
  j["outside_episodes"] = r.outside_episodes;
  ordered confusion = ordered::object();
  for (const auto& [type, row] : r.confusion) {
    ordered o = ordered::object();
    for (const auto& [category, n] : row) o[category] = n;
    confusion[type] = std::move(o);
  }
  j["confusion"] = std::move(confusion);
  ordered sources = ordered::array();
  for (const auto& s : r.false_sources) {
    sources.push_back(ordered{{"role", s.role},
                              {"detector", s.detector},
                              {"feature", s.feature},
                              {"episodes", s.episodes},
                              {"paging", s.paging}});
  }
  j["false_sources"] = std::move(sources);
  ordered zoo = ordered::object();
  for (const auto& [member, n] : r.false_by_zoo) {
    const auto p = r.paging_false_by_zoo.find(member);
    zoo[member] = ordered{{"episodes", n}, {"paging", p == r.paging_false_by_zoo.end() ? 0 : p->second}};
  }
  j["false_by_zoo"] = std::move(zoo);
  ordered malformed = ordered::array();
  for (const auto& m : r.malformed) malformed.push_back(ordered{{"line", m.line}, {"reason", m.reason}});
  j["events"] =
      ordered{{"lines", r.lines},       {"firing", r.firing_events},      {"other_status", r.other_events},
              {"blank", r.blank_lines}, {"malformed", r.malformed_count}, {"malformed_lines", std::move(malformed)}};
  return j.dump(2) + "\n";
}

}  // namespace flowlier::lab
