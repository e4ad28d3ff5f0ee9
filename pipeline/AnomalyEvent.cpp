#include "pipeline/AnomalyEvent.hpp"

#include <cmath>

#include <nlohmann/json.hpp>

#include "pipeline/formats/Rfc3339.hpp"

namespace flowlier::pipeline {

namespace {
constexpr const char* kSeverities[] = {"info", "low", "medium", "high", "critical"};

// JSON has no NaN or infinity; the schema wants numbers.
double finite(double v) { return std::isfinite(v) ? v : (v > 0 ? 1e308 : (v < 0 ? -1e308 : 0.0)); }
double rounded(double v) { return std::round(finite(v) * 1000.0) / 1000.0; }
}  // namespace

const char* to_string(Severity s) { return kSeverities[static_cast<int>(s)]; }
const char* to_string(EventStatus s) { return s == EventStatus::firing ? "firing" : "resolved"; }

std::optional<Severity> parse_severity(std::string_view name) {
  for (int i = 0; i < 5; ++i) {
    if (name == kSeverities[i]) return static_cast<Severity>(i);
  }
  return std::nullopt;
}

std::string AnomalyEvent::to_json() const {
  nlohmann::ordered_json j;
  j["schema"] = "flowlier.anomaly.v1";
  j["id"] = id;
  j["episode"] = episode;
  j["status"] = to_string(status);
  j["time"] = formats::format_rfc3339(time * 1'000'000'000);
  j["window"] = {{"start", formats::format_rfc3339(window_start * 1'000'000'000)},
                 {"end", formats::format_rfc3339(window_end * 1'000'000'000)}};
  nlohmann::ordered_json entity = {{"kind", entity_kind}, {"id", entity_id}};
  if (!labels.empty()) entity["labels"] = labels;
  j["entity"] = entity;
  if (!related.empty()) {
    auto& list = j["related"] = nlohmann::ordered_json::array();
    for (const auto& r : related) list.push_back({{"kind", r.kind}, {"id", r.id}});
  }
  j["detector"] = detector;
  j["feature"] = feature;
  j["value"] = rounded(value);
  j["expected"] = rounded(expected);
  if (bounds) j["bounds"] = {rounded(bounds->first), rounded(bounds->second)};
  j["score"] = std::round(std::clamp(finite(score), 0.0, 100.0) * 10.0) / 10.0;
  j["severity"] = to_string(severity);
  if (!category.empty()) j["category"] = category;
  j["explanation"] = explanation;
  if (!contributors.empty()) {
    auto& list = j["contributors"] = nlohmann::ordered_json::array();
    for (const auto& c : contributors) {
      nlohmann::ordered_json item = {
          {"key", c.key}, {"value", c.value}, {"share", std::round(finite(c.share) * 1000.0) / 1000.0}};
      if (!c.base.empty()) item["base"] = c.base;
      list.push_back(std::move(item));
    }
  }
  if (rule) j["rule"] = {{"name", rule->name}, {"action", rule->action}, {"reason", rule->reason}};
  j["tail_probability"] = finite(tail_probability);
  j["windows"] = windows;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace flowlier::pipeline
