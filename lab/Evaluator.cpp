#include "lab/Evaluator.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "lab/TimeText.hpp"

namespace flowlier::lab {

namespace {

struct Event {
  std::int64_t time = 0;
  std::string entity;
  bool firing = false;
};

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
  event.entity = id->get<std::string>();
  event.firing = s == "firing";
  return {};
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0) ? 1 : 0); }

std::string duration_text(std::int64_t seconds) {
  const char* sign = seconds < 0 ? "-" : "";
  seconds = seconds < 0 ? -seconds : seconds;
  if (seconds >= 3600) return fmt::format("{}{}h{:02}m{:02}s", sign, seconds / 3600, seconds / 60 % 60, seconds % 60);
  return fmt::format("{}{}m{:02}s", sign, seconds / 60, seconds % 60);
}

}  // namespace

EvalReport evaluate(const Labels& labels, std::istream& events, const EvalOptions& options) {
  EvalReport report;
  report.options = options;
  const std::int64_t bucket = std::max<std::int64_t>(options.bucket_minutes, 1) * 60;
  const std::int64_t grace = std::max<std::int64_t>(options.grace_minutes, 0) * 60;

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

  // (entity id, bucket) -> matched anything
  std::map<std::pair<std::string, std::int64_t>, bool> episodes;
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
    for (std::size_t i = 0; i < keys.size(); ++i) {
      auto& r = report.incidents[i];
      if (ev.time < r.start || ev.time > r.end + grace || !keys[i].contains(ev.entity)) continue;
      matched = true;
      const std::int64_t ttd = ev.time - r.start;
      if (!r.detected || ttd < r.time_to_detect) r.time_to_detect = ttd;
      r.detected = true;
      ++r.matching_events;
    }
    auto key = std::make_pair(ev.entity, floor_div(ev.time, bucket));
    if (ev.time < labels.warmup_end) {
      warmup.insert(std::move(key));
    } else if (ev.time > labels.end + grace) {
      outside.insert(std::move(key));
    } else {
      auto [it, inserted] = episodes.emplace(std::move(key), matched);
      if (!inserted) it->second = it->second || matched;
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
  }
  for (auto& [name, t] : by_type) report.by_type.push_back(t);
  report.recall = report.incidents.empty()
                      ? 0.0
                      : static_cast<double>(report.detected) / static_cast<double>(report.incidents.size());

  report.alert_episodes = episodes.size();
  for (const auto& [key, matched] : episodes) {
    if (matched) ++report.matching_episodes;
  }
  report.false_episodes = report.alert_episodes - report.matching_episodes;
  if (report.alert_episodes > 0) {
    report.precision = static_cast<double>(report.matching_episodes) / static_cast<double>(report.alert_episodes);
  }
  report.warmup_episodes = warmup.size();
  report.outside_episodes = outside.size();
  report.evaluated_days = static_cast<double>(std::max<std::int64_t>(labels.end - labels.warmup_end, 0)) / 86400.0;
  report.false_episodes_per_day =
      report.evaluated_days > 0 ? static_cast<double>(report.false_episodes) / report.evaluated_days : 0.0;
  return report;
}

std::string format_report(const EvalReport& r) {
  std::string out;
  auto add = [&out](const std::string& s) { out += s; };
  add(fmt::format("{:<8} {:<13} {:<21} {:<9} {:>10} {:>7}\n", "incident", "type", "start", "detected", "ttd", "events"));
  for (const auto& i : r.incidents) {
    add(fmt::format("{:<8} {:<13} {:<21} {:<9} {:>10} {:>7}\n", i.id, i.type, format_rfc3339(i.start),
                    i.detected ? "yes" : "no", i.detected ? duration_text(i.time_to_detect) : "-", i.matching_events));
  }
  add(fmt::format("\nrecall {}/{} = {:.3f}\n", r.detected, r.incidents.size(), r.recall));
  for (const auto& t : r.by_type) {
    add(fmt::format("  {:<13} {}/{}\n", t.type, t.detected, t.incidents));
  }
  add(fmt::format("\nalert episodes (entity, {}-min bucket) after warm-up: {} ({} matching, {} false)\n",
                  r.options.bucket_minutes, r.alert_episodes, r.matching_episodes, r.false_episodes));
  add(r.precision ? fmt::format("precision {:.3f}\n", *r.precision) : std::string("precision n/a (no alert episodes)\n"));
  add(fmt::format("false alert episodes per day {:.2f} (over {:.2f} evaluated days)\n", r.false_episodes_per_day,
                  r.evaluated_days));
  add(fmt::format("excluded episodes: {} in warm-up, {} after the labelled span\n", r.warmup_episodes, r.outside_episodes));
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
  j["bucket_minutes"] = r.options.bucket_minutes;
  j["grace_minutes"] = r.options.grace_minutes;
  ordered incidents = ordered::array();
  for (const auto& i : r.incidents) {
    ordered o;
    o["id"] = i.id;
    o["type"] = i.type;
    o["start"] = format_rfc3339(i.start);
    o["end"] = format_rfc3339(i.end);
    o["detected"] = i.detected;
    o["time_to_detect_seconds"] = i.detected ? ordered(i.time_to_detect) : ordered(nullptr);
    o["matching_events"] = i.matching_events;
    incidents.push_back(std::move(o));
  }
  j["incidents"] = std::move(incidents);
  j["detected"] = r.detected;
  j["recall"] = r.recall;
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
  j["warmup_episodes"] = r.warmup_episodes;
  j["outside_episodes"] = r.outside_episodes;
  ordered malformed = ordered::array();
  for (const auto& m : r.malformed) malformed.push_back(ordered{{"line", m.line}, {"reason", m.reason}});
  j["events"] = ordered{{"lines", r.lines},
                        {"firing", r.firing_events},
                        {"other_status", r.other_events},
                        {"blank", r.blank_lines},
                        {"malformed", r.malformed_count},
                        {"malformed_lines", std::move(malformed)}};
  return j.dump(2) + "\n";
}

}  // namespace flowlier::lab
